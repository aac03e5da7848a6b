"""PyYAML's implicit tag resolution, remembered per plain scalar, for the strict loaders of ``yamlio``.

Why: libyaml's composer asks the loader, in Python, for the tag of every node, and for every node first
``descend_resolver`` and then ``ascend_resolver``. Without path resolvers (``add_path_resolver``; our loaders have
none) the tag of a plain scalar depends only on its text and the class's implicit resolvers, a quoted scalar is
always ``str``, and the two path calls do nothing; yet the resolver tries up to a dozen regular expressions per
plain scalar, and a manifest repeats the same keys and values thousands of times. Remembering the answer per text
takes a fifth off parsing a manifest. tests/hostile/test_yaml_resolution.py compares the tags with PyYAML's own
resolver.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_REMEMBERED = 50_000
"""Distinct scalar texts kept per loader class; past it new texts are resolved without being kept (a file of
unique values costs what it did before, no more memory)."""

MAX_REMEMBERED_LENGTH = 128
"""Longer texts are resolved each time: long values rarely repeat, and they would hold memory."""

_ScalarNode = yaml.ScalarNode


class RememberedScalarResolution:
    """Mixin (first base) for a loader class whose implicit resolvers are set once, at import.

    Each class that uses it gets its own memo (``__init_subclass__``): resolvers are per class.
    """

    _plain_scalar_tags: dict[str, str]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._plain_scalar_tags = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        paths: Any = self.yaml_path_resolvers  # type: ignore[attr-defined]
        if kind is _ScalarNode and implicit[0] and not paths:
            tags = self._plain_scalar_tags
            tag = tags.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)  # type: ignore[misc]
                if len(value) <= MAX_REMEMBERED_LENGTH and len(tags) < MAX_REMEMBERED:
                    tags[value] = tag
            return tag
        return super().resolve(kind, value, implicit)  # type: ignore[misc]


def _no_path(current_node: Any, current_index: Any) -> None:
    return None


def _no_path_end() -> None:
    return None


def skip_path_tracking(loader: Any) -> None:
    """Without path resolvers ``descend_resolver``/``ascend_resolver`` return at once; for such a loader, make them
    plain no-op functions on the instance, which libyaml's composer calls without a method lookup."""
    if not loader.yaml_path_resolvers:
        loader.descend_resolver = _no_path
        loader.ascend_resolver = _no_path_end
