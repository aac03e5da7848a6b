"""Field paths of the registry of kinds: where a kind keeps its pod specs, images and data destinations.

The registry names fields with a small path language, so that the same data drives the policy pack (which reads
props through the SDK's read-only proxies) and the connectivity engine (which reads plain manifests):

* ``spec.template``: keys separated by dots;
* ``spec.workerGroupSpecs[*].template``: ``[*]`` is every item of a list;
* ``spec.pytorchReplicaSpecs.{*}.template``: ``{*}`` is every value of a mapping (keys in the object's order);
* ``""``: the value itself.

Only the ``Mapping`` and ``Sequence`` interfaces are used. A value that is unknown at preview raises the proxy's
``UnknownValueError`` when it is read, which the caller's guard turns into a fail-closed violation: the paths
the registry names are residency-critical by definition. A missing key or a value of another shape is no match.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_TOKEN = re.compile(r"\[\*\]|\{\*\}|[^.\[\]{}]+")


class PathError(ValueError):
    """A path of the registry that the language does not allow."""


@dataclass(frozen=True)
class Step:
    kind: str
    """``key``, ``items`` (``[*]``) or ``values`` (``{*}``)."""
    key: str = ""


@functools.lru_cache(maxsize=1024)
def parse(path: str) -> tuple[Step, ...]:
    """The steps of ``path`` (cached: the registry's paths are few and read for every object)."""
    if path == "":
        return ()
    steps: list[Step] = []
    rest = path
    while rest:
        if rest.startswith("."):
            if not steps:
                raise PathError(f"path {path!r} starts with '.'")
            rest = rest[1:]
            if not rest or rest[0] in ".[":
                raise PathError(f"path {path!r} has an empty key")
        match = _TOKEN.match(rest)
        if match is None:
            raise PathError(f"path {path!r} cannot be read at {rest!r}")
        token = match.group(0)
        if token == "[*]":
            steps.append(Step("items"))
        elif token == "{*}":
            steps.append(Step("values"))
        else:
            steps.append(Step("key", token))
        rest = rest[match.end():]
        if rest and rest[0] not in ".[{":
            raise PathError(f"path {path!r} cannot be read at {rest!r}")
    return tuple(steps)


def _is_seq(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)


def join(base: str, key: str | int) -> str:
    """``base`` extended by one key or list index, in the form messages show (``spec.a[2].b``)."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def resolve(root: Any, path: str, base: str = "") -> Iterator[tuple[str, Any]]:
    """``(concrete path, value)`` of every match of ``path`` below ``root``; ``base`` prefixes the paths."""
    yield from _walk(root, parse(path), 0, base)


def _walk(value: Any, steps: tuple[Step, ...], at: int, where: str) -> Iterator[tuple[str, Any]]:
    if at == len(steps):
        yield where, value
        return
    step = steps[at]
    if step.kind == "key":
        if isinstance(value, Mapping) and step.key in value:
            item = value[step.key]
            if item is not None:
                yield from _walk(item, steps, at + 1, join(where, step.key))
    elif step.kind == "items":
        if _is_seq(value):
            for index in range(len(value)):
                yield from _walk(value[index], steps, at + 1, join(where, index))
    elif isinstance(value, Mapping):
        for key in list(value):
            yield from _walk(value[key], steps, at + 1, join(where, str(key)))


def first(root: Any, path: str) -> Any:
    """The first value ``path`` matches, or None."""
    for _where, value in resolve(root, path):
        return value
    return None
