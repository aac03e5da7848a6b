"""``unknown_checking_proxy`` built on first access instead of up front, for the in-process transport.

Why: pulumi_policy gives every policy its own proxy of a resource's properties, and its proxy copies the whole
tree eagerly (a new dict or list per container and a new path list per value). For our pack that is 17 deep
copies per resource (11 resource policies, Remediate and 5 stack policies), most of which no policy reads: a
rule about StorageClasses returns before it looks at a Deployment's pod template. This module builds a container's
proxy only when a policy reaches it, and keeps what it built, so each policy pays for what it reads.

It must be indistinguishable from pulumi_policy's ``proxy.unknown_checking_proxy`` through everything a policy
can do with the value:

* the classes are subclasses of the library's ``_DictProxy`` and ``_ListProxy`` (so ``isinstance`` checks, and
  the library's own serialiser, which unwraps proxies with ``["__target"]``, treat them alike), and carry the
  library's module and class names (so even ``repr`` reads the same);
* reading a key gives the same value, proxies for containers (the same proxy object on every read), the same
  ``UnknownValueError`` with the same path for an unknown sentinel, ``KeyError``/``IndexError``/``TypeError`` as
  the underlying ``dict``/``list`` would; ``["__target"]`` gives the complete inner container, built in full;
* a write through a dict proxy lands in that proxy's own copy, is returned as written (never wrapped), and never
  reaches the shared input or another policy's proxy; writes into the container ``["__target"]`` returned show
  through the proxy as in the library;
* only real ``dict`` and ``list`` values (and their subclasses) become proxies, as in the library: a secrets
  proxy handed in by ``Remediate`` is returned as it is.

The input is never written to, so one deserialised tree can back every policy's proxy.
``tests/policies/test_lazy_proxy.py`` drives random trees through random sequences of operations on both
implementations and requires identical observations.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

from pulumi_policy.proxy import UnknownValueError, _DictProxy, _is_unknown, _ListProxy


def _wrap(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        return _LazyListProxy(value, path)
    if isinstance(value, dict):
        return _LazyDictProxy(value, path)
    return value


def _checked(key: Any, value: Any, path: list[str]) -> Any:
    if _is_unknown(value):
        raise UnknownValueError(value, [*path, str(key)])
    return value


class _LazyDictProxy(_DictProxy):
    __slots__ = ("_target", "_ready", "_complete", "_path")

    def __init__(self, source: dict[Any, Any], path: list[str]) -> None:  # no super(): the library's eager copy
        self._target: dict[Any, Any] = dict(source)  # the values stay shared until a read wraps them
        self._ready: set[Any] = set()  # keys whose value is final: wrapped, scalar, or written by a policy
        self._complete = False  # every value final: ["__target"] was handed out
        self._path = path

    def _final(self, key: Any) -> Any:
        value = self._target[key]
        if self._complete or key in self._ready:
            return value
        value = _wrap(value, [*self._path, str(key)])
        self._target[key] = value
        self._ready.add(key)
        return value

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            if not self._complete:
                for name in list(self._target):
                    self._final(name)
                self._complete = True
            return self._target
        return _checked(key, self._final(key), self._path)

    def __setitem__(self, key: Any, value: Any) -> None:
        self._target[key] = value
        self._ready.add(key)

    def _plain_view(self) -> dict[Any, Any] | None:
        """The inner dict while no value has been read or written (each would become a proxy when read), else None:
        for ``policies.framework.values.plain``, which then copies it without building the proxies."""
        return None if self._ready or self._complete else self._target

    def __len__(self) -> int:
        return len(self._target)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._target)


class _LazyListProxy(_ListProxy):
    __slots__ = ("_target", "_ready", "_complete", "_path")

    def __init__(self, source: list[Any], path: list[str]) -> None:  # no super(): the library's eager copy
        self._target: list[Any] = list(source)
        self._ready = bytearray(len(source))  # 1 where the element is final
        self._complete = False
        self._path = path

    def _final(self, index: int) -> Any:
        value = self._target[index]
        if self._complete or self._ready[index]:
            return value
        value = _wrap(value, [*self._path, str(index)])
        self._target[index] = value
        self._ready[index] = 1
        return value

    def _complete_all(self) -> None:
        if not self._complete:
            for index in range(len(self._target)):
                self._final(index)
            self._complete = True

    def __getitem__(self, key: Any) -> Any:
        if key == "__target":
            self._complete_all()
            return self._target
        if isinstance(key, slice):
            self._complete_all()
            return _checked(key, self._target[key], self._path)  # a list slice, never a sentinel string
        try:
            index = operator.index(key)
        except TypeError:
            return _checked(key, self._target[key], self._path)  # raises list's own TypeError
        length = len(self._target)
        position = index + length if index < 0 else index
        if not 0 <= position < length:
            return self._target[index]  # raises list's own IndexError
        return _checked(key, self._final(position), self._path)

    def __len__(self) -> int:
        return len(self._target)

    def _plain_view(self) -> list[Any] | None:
        """The inner list while no element has been read or written, else None (see ``_LazyDictProxy``)."""
        return None if self._complete or 1 in self._ready else self._target


for _lazy, _library in ((_LazyDictProxy, _DictProxy), (_LazyListProxy, _ListProxy)):
    _lazy.__module__ = _library.__module__
    _lazy.__name__ = _library.__name__
    _lazy.__qualname__ = _library.__qualname__


def lazy_unknown_checking_proxy(props: Any) -> Any:
    """Drop-in for ``pulumi_policy.proxy.unknown_checking_proxy`` that builds proxies on first access."""
    return _wrap(props, [])
