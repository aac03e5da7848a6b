"""Kubernetes label selectors, parsed strictly and evaluated against a label index (bitmasks, no scans)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sovereign.connectivity.intervals import group_masks
from sovereign.core.errors import InputError

_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class LabelSelector:
    """``{}`` (no terms) matches everything; the caller decides what an omitted selector means."""

    match_labels: tuple[tuple[str, str], ...] = ()
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        for k, v in self.match_labels:
            if labels.get(k) != v:
                return False
        for k, op, values in self.expressions:
            present = k in labels
            if op == "In" and not (present and labels[k] in values):
                return False
            if op == "NotIn" and present and labels[k] in values:
                return False
            if op == "Exists" and not present:
                return False
            if op == "DoesNotExist" and present:
                return False
        return True


def format_selector(sel: LabelSelector) -> str:
    """Deterministic kubectl-style text (``a=b,c in (x,y),d notin (z),e,!f``); ``*`` for the empty selector."""
    parts = [f"{k}={v}" for k, v in sel.match_labels]
    for k, op, values in sel.expressions:
        if op == "In":
            parts.append(f"{k} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{k} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(k)
        else:
            parts.append("!" + k)
    return ",".join(parts) or "*"


def parse_selector(raw: Any, source: str, path: Sequence[str | int], *, key_map: Any = None) -> LabelSelector:
    """Parse ``{matchLabels, matchExpressions}``; ``None`` parses as the empty selector.

    ``key_map`` (optional callable) rewrites keys, e.g. Cilium's ``k8s:`` prefixes.
    """
    if raw is None:
        return LabelSelector()
    if not isinstance(raw, dict):
        raise InputError(source, path, "a label selector mapping", raw)
    unknown = set(raw) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise InputError(source, path, "only matchLabels/matchExpressions", sorted(unknown))
    fix = key_map or (lambda k: k)
    labels: list[tuple[str, str]] = []
    ml = raw.get("matchLabels") or {}
    if not isinstance(ml, dict):
        raise InputError(source, [*path, "matchLabels"], "a mapping of label key to string", ml)
    for k, v in ml.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise InputError(source, [*path, "matchLabels", str(k)], "a string label value", v)
        labels.append((fix(k), v))
    exprs: list[tuple[str, str, tuple[str, ...]]] = []
    me = raw.get("matchExpressions") or []
    if not isinstance(me, list):
        raise InputError(source, [*path, "matchExpressions"], "a list", me)
    for i, e in enumerate(me):
        ep = [*path, "matchExpressions", i]
        if not isinstance(e, dict) or not isinstance(e.get("key"), str):
            raise InputError(source, ep, "{key, operator, values}", e)
        op = e.get("operator")
        if op not in _OPERATORS:
            raise InputError(source, [*ep, "operator"], "one of " + "/".join(_OPERATORS), op)
        values = e.get("values") or []
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise InputError(source, [*ep, "values"], "a list of strings", values)
        if op in ("In", "NotIn") and not values:
            raise InputError(source, [*ep, "values"], f"a non-empty list for {op}", values)
        if op in ("Exists", "DoesNotExist") and values:
            raise InputError(source, [*ep, "values"], f"no values for {op}", values)
        exprs.append((fix(e["key"]), op, tuple(sorted(values))))
    return LabelSelector(tuple(sorted(labels)), tuple(sorted(exprs)))


class LabelIndex:
    """Label -> bitmask of items, so a selector evaluates in a handful of big-int operations."""

    def __init__(self, items: Sequence[Mapping[str, str]]) -> None:
        self.all = (1 << len(items)) - 1
        self.by_pair: dict[tuple[str, str], int] = group_masks(
            ((k, v), i) for i, labels in enumerate(items) for k, v in labels.items()
        )
        self.by_key: dict[str, int] = group_masks((k, i) for i, labels in enumerate(items) for k in labels)
        self._cache: dict[LabelSelector, int] = {}

    def select(self, sel: LabelSelector) -> int:
        hit = self._cache.get(sel)
        if hit is not None:
            return hit
        m = self.all
        for k, v in sel.match_labels:
            m &= self.by_pair.get((k, v), 0)
        for k, op, values in sel.expressions:
            any_of = 0
            for v in values:
                any_of |= self.by_pair.get((k, v), 0)
            if op == "In":
                m &= any_of
            elif op == "NotIn":
                m &= ~any_of
            elif op == "Exists":
                m &= self.by_key.get(k, 0)
            else:
                m &= ~self.by_key.get(k, 0)
        m &= self.all
        self._cache[sel] = m
        return m
