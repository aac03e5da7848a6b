"""The registry's field-path language: ``.`` keys, ``[*]`` list items, ``{*}`` map values."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign.kinds.paths import PathError, parse, resolve


def test_resolve_walks_lists_and_maps_in_order() -> None:
    obj = {"spec": {"replicaSpecs": {"Master": {"template": 1}, "Worker": {"template": 2}},
                    "groups": [{"template": 3}, {"other": 4}, {"template": 5}]}}
    assert list(resolve(obj, "spec.replicaSpecs.{*}.template")) == [
        ("spec.replicaSpecs.Master.template", 1), ("spec.replicaSpecs.Worker.template", 2)]
    assert list(resolve(obj, "spec.groups[*].template")) == [("spec.groups[0].template", 3),
                                                             ("spec.groups[2].template", 5)]
    assert list(resolve(obj, "")) == [("", obj)]
    assert list(resolve(obj, "spec.missing[*].x")) == []


def test_none_and_other_shapes_do_not_match() -> None:
    assert list(resolve({"a": None}, "a")) == []
    assert list(resolve({"a": "text"}, "a[*]")) == []
    assert list(resolve({"a": [1]}, "a.b")) == []


@pytest.mark.parametrize("bad", [".a", "a..b", "a.", "a.[*]", "a]b", "a[1]"])
def test_paths_the_language_does_not_allow(bad: str) -> None:
    with pytest.raises(PathError):
        parse(bad)


keys = st.text(alphabet="abcdefghij", min_size=1, max_size=4)


@given(st.lists(keys, min_size=1, max_size=5), st.integers(min_value=0, max_value=3))
def test_a_concrete_path_resolves_to_what_was_put_there(path: list[str], width: int) -> None:
    """Build an object with a list of ``width`` items at the end of ``path``; ``path[*]`` finds each item."""
    leaf: Any = [{"v": i} for i in range(width)]
    obj: Any = leaf
    for key in reversed(path):
        obj = {key: obj}
    found = list(resolve(obj, ".".join(path) + "[*].v"))
    assert [v for _w, v in found] == list(range(width))
    assert [w for w, _v in found] == [".".join(path) + f"[{i}].v" for i in range(width)]
