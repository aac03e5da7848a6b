"""Reading resource properties: plain data, and the engine's placeholders for values unknown at preview.

Rules read plain resource data (dicts, lists, strings, numbers). During ``pulumi preview`` a value computed from
another resource's output is not known yet: the engine sends a placeholder (one of ``UNKNOWN_SENTINELS``, by
type). A rule must never judge a placeholder as if it were the value, so a resource that holds one is read
through ``unknown_checking_view``: reading a placeholder raises :class:`UnknownValueError` naming its path, which
``judge.py`` turns into a mandatory violation of the rule that read it (fail closed). Values the rule never reads
do not matter, as under the SDK's own proxy.

``plain`` makes a deep plain copy (for the connectivity engine), raising the same error for any placeholder.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sovereign.analyzer.model import UNKNOWN_PLACEHOLDERS

__all__ = ["UNKNOWN_SENTINELS", "UnknownValueError", "as_list", "as_map", "contains_unknown", "is_map", "is_plain",
           "is_seq", "is_unknown", "plain", "readable", "text", "unknown_checking_view"]

UNKNOWN_SENTINELS = UNKNOWN_PLACEHOLDERS


class UnknownValueError(Exception):
    """A rule read a value that is not known at preview time."""

    def __init__(self, sentinel: str, path: Sequence[str]) -> None:
        super().__init__(sentinel)
        self.sentinel = sentinel
        self.path = tuple(path)
        self.message = f"{UNKNOWN_SENTINELS.get(sentinel, 'value')} value at .{'.'.join(self.path)} can't be known " \
                       f"during preview"


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


def contains_unknown(value: Any) -> bool:
    """Whether a placeholder occurs anywhere in ``value`` (keys included)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item in UNKNOWN_SENTINELS:
                return True
        elif isinstance(item, Mapping):
            for key, child in item.items():
                if isinstance(key, str) and key in UNKNOWN_SENTINELS:
                    return True
                if not isinstance(child, str | int | float | bool) and child is not None:
                    stack.append(child)
                elif isinstance(child, str) and child in UNKNOWN_SENTINELS:
                    return True
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def _checked(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        if value in UNKNOWN_SENTINELS:
            raise UnknownValueError(value, path)
        return value
    if isinstance(value, Mapping):
        return _MapView(value, path)
    if isinstance(value, list | tuple):
        return _ListView(value, path)
    return value


class _MapView(Mapping[str, Any]):
    """A mapping whose reads raise ``UnknownValueError`` on a placeholder (children viewed alike)."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: Mapping[str, Any], path: tuple[str, ...]) -> None:
        self._data = data
        self._path = path

    def __getitem__(self, key: str) -> Any:
        return _checked(self._data[key], (*self._path, str(key)))

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"unknown_checking_view({self._data!r})"


class _ListView(Sequence[Any]):
    __slots__ = ("_data", "_path")

    def __init__(self, data: Sequence[Any], path: tuple[str, ...]) -> None:
        self._data = data
        self._path = path

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self._data)))]
        return _checked(self._data[index], (*self._path, str(index)))

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"unknown_checking_view({self._data!r})"


def unknown_checking_view(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """``props`` read so that every placeholder raises ``UnknownValueError`` with its path."""
    return _MapView(props, ())


def is_plain(props: Mapping[str, Any]) -> bool:
    """Whether ``props`` are plain data (``readable`` gave them as they are: they hold no placeholder)."""
    return not isinstance(props, _MapView)


def readable(props: Mapping[str, Any]) -> Mapping[str, Any]:
    """What a rule reads: plain props as they are, props holding a placeholder through the checking view."""
    return unknown_checking_view(props) if contains_unknown(props) else props


def is_map(value: Any) -> bool:
    return isinstance(value, Mapping)


def is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def as_map(value: Any) -> Mapping[str, Any]:
    """A mapping, or an empty one for null/missing/mistyped values."""
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    """The elements of a sequence (each read through the view, so unknown elements raise), else []."""
    return [value[i] for i in range(len(value))] if is_seq(value) else []


def text(value: Any) -> str:
    """A string value, or "" for anything else (numbers are rendered, integral floats as integers: the CLI's
    wire carries every number as a double, so a manifest's 8443 may arrive as 8443.0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return ""


def plain(value: Any, path: tuple[str, ...] = (), *, skip: frozenset[str] = frozenset()) -> Any:
    """Deep plain copy; raises ``UnknownValueError`` naming the path of the first placeholder it meets.

    Keys in ``skip`` are left out wherever they occur (values the caller never needs, such as container env,
    so that a placeholder there does not count as residency-critical). Integral floats become ints (the CLI's
    wire carries every number as a double)."""
    if isinstance(value, (_MapView, _ListView)):
        return plain(value._data, path or value._path, skip=skip)
    if isinstance(value, str):
        if value in UNKNOWN_SENTINELS:
            raise UnknownValueError(value, path)
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(key): plain(item, (*path, str(key)), skip=skip) for key, item in value.items()
                if key not in skip}
    if isinstance(value, list | tuple):
        return [plain(item, (*path, str(i)), skip=skip) for i, item in enumerate(value)]
    return value
