"""The inventory every check report carries: the verdict of every input object, and the carve-outs in use.

A reviewer must see what no rule looked at. Each object gets its verdict from the registry of kinds
(``sovereign.kinds.verdict``, the function the ``unjudged-object`` rule calls too): judged (by which rules), inert
(why) or unjudged. The carve-outs (exemptions of ``unjudged-object`` in the policy pack config) are listed with the
objects they cover and whether they are active at the evaluation time; findings any exemption suppressed are listed
as suppressed (the pack reports them through its advisory companions ``resource-rule-exemptions`` and
``rule-exemptions``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sovereign.core.exemptions import EXEMPTIONS_KEY, Exemption, Suppressed, parse_exemptions
from sovereign.kinds.tokens import split_type_token
from sovereign.kinds.verdict import INERT, JUDGED, UNJUDGED, Verdict, verdict_of

UNJUDGED_RULE = "unjudged-object"


@dataclass(frozen=True)
class KindVerdict:
    """Objects of one kind (as reports group them) and their verdict."""

    kind: str
    verdict: str
    count: int
    rules: tuple[str, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "verdict": self.verdict, "count": self.count}
        if self.rules:
            out["rules"] = list(self.rules)
        if self.reason:
            out["reason"] = self.reason
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> KindVerdict:
        return cls(str(doc["kind"]), str(doc["verdict"]), int(doc["count"]), tuple(doc.get("rules", ())),
                   str(doc.get("reason", "")))


@dataclass(frozen=True)
class CarveOut:
    exemption: Exemption
    active: bool
    objects: tuple[str, ...]
    """The unjudged objects it covers (``Kind ns/name``)."""

    def to_json(self) -> dict[str, Any]:
        return {**self.exemption.to_json(), "status": "active" if self.active else "expired",
                "objects": list(self.objects)}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CarveOut:
        return cls(Exemption.from_json(doc), doc["status"] == "active", tuple(doc["objects"]))


@dataclass(frozen=True)
class Inventory:
    objects: int
    counts: Mapping[str, int]
    """Objects per verdict (judged, inert, unjudged)."""
    carved_out: int
    """Unjudged objects an active carve-out accepts."""
    kinds: tuple[KindVerdict, ...]
    carve_outs: tuple[CarveOut, ...] = ()
    suppressed: tuple[Suppressed, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "objects": self.objects,
            "judged": self.counts.get(JUDGED, 0),
            "inert": self.counts.get(INERT, 0),
            "unjudged": self.counts.get(UNJUDGED, 0),
            "carvedOut": self.carved_out,
            "kinds": [k.to_json() for k in self.kinds],
            "carveOuts": [c.to_json() for c in self.carve_outs],
            "suppressed": [s.to_json() for s in self.suppressed],
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Inventory:
        """What ``to_json`` wrote: a check report read back (``sovereign merge``, the verdict cache)."""
        return cls(int(doc["objects"]), {status: int(doc[status]) for status in (JUDGED, INERT, UNJUDGED)},
                   int(doc["carvedOut"]), tuple(KindVerdict.from_json(k) for k in doc["kinds"]),
                   tuple(CarveOut.from_json(c) for c in doc["carveOuts"]),
                   tuple(Suppressed.from_json(s) for s in doc["suppressed"]))

    def summary_line(self) -> str:
        return (f"{self.objects} objects: {self.counts.get(JUDGED, 0)} judged, {self.counts.get(INERT, 0)} inert, "
                f"{self.counts.get(UNJUDGED, 0)} unjudged ({self.carved_out} carved out); "
                f"{len(self.carve_outs)} carve-out(s), {len(self.suppressed)} suppressed finding(s)")


def _ref(props: Mapping[str, Any], type_token: str, name: str) -> str:
    meta = props.get("metadata") if isinstance(props.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    parsed = split_type_token(type_token)
    kind = parsed[2] if parsed else type_token
    obj_name = meta.get("name") if isinstance(meta.get("name"), str) else name
    ns = meta.get("namespace") if isinstance(meta.get("namespace"), str) else ""
    return f"{kind} {ns}/{obj_name}" if ns else f"{kind} {obj_name}"


def _identity(props: Mapping[str, Any], type_token: str, name: str) -> tuple[str, str, str, str]:
    """(kind, apiGroup, namespace, name) as exemptions match them."""
    meta = props.get("metadata") if isinstance(props.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    parsed = split_type_token(type_token)
    kind, group = (parsed[2], parsed[0]) if parsed else (type_token, "")
    return (kind, group, str(meta.get("namespace") or ""),
            str(meta.get("name") if isinstance(meta.get("name"), str) else name))


def build_inventory(resources: Iterable[tuple[str, str, Mapping[str, Any], bool | None]],
                    policy_config: Mapping[str, Any], at: datetime, suppressed: Sequence[Suppressed] = ()) -> Inventory:
    """``resources``: (type token, resource name, props, has a provider) of every input object; ``policy_config``:
    the raw ``--policy-pack-config`` (its ``unjudged-object.exemptions`` are the carve-outs)."""
    raw = policy_config.get(UNJUDGED_RULE)
    carve_exemptions = parse_exemptions(UNJUDGED_RULE, raw.get(EXEMPTIONS_KEY) if isinstance(raw, Mapping) else None,
                                        key_path=(UNJUDGED_RULE,))
    counts = {JUDGED: 0, INERT: 0, UNJUDGED: 0}
    groups: dict[tuple[str, str, tuple[str, ...], str], int] = {}
    covered: dict[int, list[str]] = {e.index: [] for e in carve_exemptions}
    carved = 0
    total = 0
    for type_token, name, props, has_provider in resources:
        total += 1
        verdict: Verdict = verdict_of(type_token, props, has_provider=has_provider)
        counts[verdict.status] += 1
        key = (verdict.kind, verdict.status, verdict.rules, verdict.reason)
        groups[key] = groups.get(key, 0) + 1
        if verdict.status != UNJUDGED:
            continue
        kind, group, ns, obj_name = _identity(props, type_token, name)
        hit = False
        for exemption in carve_exemptions:
            if exemption.covers(kind, group, ns, obj_name):
                covered[exemption.index].append(_ref(props, type_token, name))
                hit = hit or exemption.active(at)
        carved += hit
    kinds = tuple(KindVerdict(k, status, n, rules, reason)
                  for (k, status, rules, reason), n in sorted(groups.items(), key=lambda item: (item[0][1], item[0][0],
                                                                                               item[0][3])))
    carve_outs = tuple(CarveOut(e, e.active(at), tuple(sorted(covered[e.index]))) for e in carve_exemptions)
    return Inventory(total, counts, carved, kinds, carve_outs, tuple(sorted(suppressed, key=lambda s: (
        s.rule, s.subject, s.finding))))
