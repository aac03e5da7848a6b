"""Reading resource properties safely: unknowns (preview placeholders) and proxies.

The CrossGuard SDK hands policies its own read-only proxies over the props; reading a value that is unknown
during preview raises ``pulumi_policy.proxy.UnknownValueError``, which the SDK turns into an *advisory*
"can't run policy" note. Our guard catches it and reports a mandatory violation instead (fail closed).
``plain`` converts a proxied value into plain Python for code that needs dicts (the connectivity engine),
raising the same error for any unknown it meets, with the path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

__all__ = ["UnknownValueError", "as_list", "as_map", "is_map", "is_seq", "plain", "proxied", "text"]

_UNKNOWN_SENTINELS = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
        "030794c1-ac77-496b-92df-f27374a8bd58",
        "e48ece36-62e2-4504-bad9-02848725956a",
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
    }
)
"""The engine's preview placeholders (pulumi_policy/proxy.py UNKNOWN_*_VALUE)."""


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in _UNKNOWN_SENTINELS


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_map(value: Any) -> Mapping[str, Any]:
    """A mapping, or an empty one for null/missing/mistyped values."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """The elements of a sequence (each read through the proxy, so unknown elements raise), else []."""
    return [value[i] for i in range(len(value))] if is_seq(value) else []


def text(value: Any) -> str:
    """A string value, or "" for anything else (numbers are rendered, since the wire turns ints into floats)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return ""


def _plain_view(value: Any) -> Any:
    """The container behind a proxy none of whose values has been read yet, if the proxy offers it
    (``_plain_view``: the in-process transport's lazy proxies, sovereign/analyzer/lazy_proxy.py), else None."""
    view = getattr(type(value), "_plain_view", None)
    return view(value) if view is not None else None


class _UnknownBelow(Exception):  # noqa: N818 - travels up to plain(), which raises UnknownValueError
    """An unknown met inside an unread container: the keys leading to it are added as it unwinds (innermost
    first), so no path is built for the values that are known."""

    def __init__(self, sentinel: str, keys: list[str]) -> None:
        super().__init__(sentinel)
        self.sentinel = sentinel
        self.keys = keys


def _plain_unread(value: Any, skip: frozenset[str]) -> Any:
    """``plain`` of what a proxy gives for an unread ``value``: a ``dict`` or ``list`` there would be a proxy of it.

    Why: ``plain`` reads every value of a resource once, and through the proxies each read of a container first
    builds a proxy of it: half of the stack rules' time. Reading the values behind an unread proxy gives the same
    copy, the same unknowns and the same paths (a sentinel is met one level down, with the same path), except in
    a mapping with a key named ``__target``, which a proxy answers with its whole inner container: that mapping
    is read through a proxy of it. ``tests/policies/test_lazy_proxy.py`` compares ``plain`` through both kinds of
    proxy, unread and after random reads and writes.
    """
    kind = type(value)
    if kind is str:
        if value in _UNKNOWN_SENTINELS:
            raise _UnknownBelow(value, [])
        return value
    if kind is float:
        return int(value) if value.is_integer() else value
    if kind is bool or kind is int or value is None:
        return value
    if isinstance(value, dict):
        if "__target" in value:
            return _plain_here(unknown_checking_proxy(value), skip)
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in skip:
                continue
            name = key if type(key) is str else str(key)
            try:
                out[name] = _plain_unread(item, skip)
            except _UnknownBelow as exc:
                exc.keys.append(name)
                raise
        return out
    if isinstance(value, list):
        items = []
        for i, item in enumerate(value):
            try:
                items.append(_plain_unread(item, skip))
            except _UnknownBelow as exc:
                exc.keys.append(str(i))
                raise
        return items
    return _plain_here(value, skip)


def _plain_here(value: Any, skip: frozenset[str]) -> Any:
    """``plain`` of a value met inside an unread container, its unknowns passed on as ``_UnknownBelow``."""
    try:
        return plain(value, skip=skip)
    except UnknownValueError as exc:
        raise _UnknownBelow(exc.unknown_type_sentinel, list(reversed(exc.props))) from None


def plain(value: Any, path: tuple[str, ...] = (), *, skip: frozenset[str] = frozenset()) -> Any:
    """Deep plain copy; raises ``UnknownValueError`` naming the path of the first unknown it meets.

    Keys in ``skip`` are left out wherever they occur (values the caller never needs, such as container env,
    so that an unknown there does not count as residency-critical). Integral floats become ints: the wire
    (protobuf Struct) carries every number as a double, so a manifest's ``port: 8443`` arrives as 8443.0.
    """
    if is_unknown(value):
        raise UnknownValueError(value, list(path))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    view = _plain_view(value)
    if view is not None:
        try:
            return _plain_unread(view, skip)
        except _UnknownBelow as exc:
            raise UnknownValueError(exc.sentinel, [*path, *reversed(exc.keys)]) from None
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            if key in skip:
                continue
            try:
                item = value[key]
            except UnknownValueError as exc:
                raise UnknownValueError(exc.unknown_type_sentinel, [*path, str(key)]) from None
            out[str(key)] = plain(item, (*path, str(key)), skip=skip)
        return out
    if is_seq(value):
        items = []
        for i in range(len(value)):
            try:
                item = value[i]
            except UnknownValueError as exc:
                raise UnknownValueError(exc.unknown_type_sentinel, [*path, str(i)]) from None
            items.append(plain(item, (*path, str(i)), skip=skip))
        return items
    return value


def proxied(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """Wrap plain props the way the SDK does, so in-process tests see exactly what the pack sees."""
    wrapped: Mapping[str, Any] = unknown_checking_proxy(dict(props))
    return wrapped
