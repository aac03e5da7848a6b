"""The lazily built ``unknown_checking_proxy`` behaves exactly as pulumi_policy's eager one.

The in-process transport (sovereign/analyzer/lazy_proxy.py) hands policies these proxies instead of the library's;
a policy must not be able to tell. Random property trees (with every unknown sentinel sprinkled in) go through
random sequences of reads, writes, iteration, slices and ``["__target"]`` on both implementations, and every
observation (values, proxy kinds, identities, exception types, messages and unknown-value paths) must agree.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from pulumi_policy import proxy as library
from pulumi_policy.deserialize import serialize_properties
from pulumi_policy.secret import secrets_preserving_proxy
from residency_testkit import typed

from policies.framework.values import plain
from sovereign.analyzer.lazy_proxy import lazy_unknown_checking_proxy

SENTINELS = [
    library.UNKNOWN_BOOLEAN_VALUE,
    library.UNKNOWN_NUMBER_VALUE,
    library.UNKNOWN_STRING_VALUE,
    library.UNKNOWN_ARRAY_VALUE,
    library.UNKNOWN_ASSET_VALUE,
    library.UNKNOWN_ARCHIVE_VALUE,
    library.UNKNOWN_OBJECT_VALUE,
]
KEYS = ["a", "b", "spec", "__target", "0", ""]

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False), st.sampled_from(["x", ""]),
    st.sampled_from(SENTINELS),
)
trees = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=25,
)
top_level = st.dictionaries(st.sampled_from(KEYS), trees, max_size=5)
keys = st.one_of(st.sampled_from(KEYS), st.integers(-5, 5), st.just(True), st.slices(5), st.just(1.5))
operations = st.lists(
    st.tuples(
        st.lists(keys, max_size=3),  # where to go from the root
        st.sampled_from(["get", "get_twice", "set", "len", "iter", "items", "values", "contains", "get_default",
                         "target", "target_write", "isinstance", "class_name", "equal_to_dict", "reversed", "index",
                         "serialize", "plain", "plain_skipping"]),
        keys,
        trees,
    ),
    max_size=12,
)


def _kind(value: Any) -> Any:
    """What a policy can see of a value without walking it (walking is done by later operations)."""
    if isinstance(value, library._DictProxy):
        return ("dict-proxy", type(value).__module__, type(value).__qualname__, len(value))
    if isinstance(value, library._ListProxy):
        return ("list-proxy", type(value).__module__, type(value).__qualname__, len(value))
    if isinstance(value, list):
        return ("list", [_kind(v) for v in value])
    if isinstance(value, dict):
        return ("dict", [(k, _kind(v)) for k, v in value.items()])
    return ("value", type(value).__name__, repr(value))


def _failure(exc: BaseException) -> Any:
    if isinstance(exc, library.UnknownValueError):
        return ("unknown", exc.unknown_type_sentinel, exc.props, exc.message)
    return (type(exc).__name__, str(exc))


def _attempt(fn: Any) -> Any:
    try:
        return ("ok", fn())
    except Exception as exc:  # noqa: BLE001 - the exception is the observation
        return ("raised", _failure(exc))


def _navigate(root: Any, path: list[Any]) -> Any:
    node = root
    for key in path:
        node = node[key]
    return node


def _observe(root: Any, path: list[Any], action: str, key: Any, value: Any) -> Any:
    reached = _attempt(lambda: _navigate(root, path))
    if reached[0] == "raised":
        return reached
    node = reached[1]
    if action == "get":
        return _attempt(lambda: _kind(node[key]))
    if action == "get_twice":
        return _attempt(lambda: node[key] is node[key])
    if action == "set":
        return _attempt(lambda: node.__setitem__(key, copy.deepcopy(value)))
    if action == "len":
        return _attempt(lambda: len(node))
    if action == "iter":
        return _attempt(lambda: [_kind(k) for k in node])
    if action == "items":
        return _attempt(lambda: [(k, _kind(v)) for k, v in node.items()])
    if action == "values":
        return _attempt(lambda: [_kind(v) for v in node.values()])
    if action == "contains":
        return _attempt(lambda: key in node)
    if action == "get_default":
        return _attempt(lambda: _kind(node.get(key, "default")))
    if action == "target":
        return _attempt(lambda: _kind(node["__target"]))
    if action == "target_write":
        def write() -> Any:
            inner = node["__target"]
            if isinstance(inner, dict):
                inner[key if isinstance(key, str) else "written"] = copy.deepcopy(value)
            elif isinstance(inner, list):
                inner.append(copy.deepcopy(value))
            return _kind(inner)
        return _attempt(write)
    if action == "isinstance":
        return (isinstance(node, Mapping), isinstance(node, Sequence), isinstance(node, library._DictProxy),
                isinstance(node, library._ListProxy), isinstance(node, dict), isinstance(node, list))
    if action == "class_name":
        return (type(node).__module__, type(node).__qualname__, type(node).__name__)
    if action == "equal_to_dict":
        return _attempt(lambda: node == {"a": 1})
    if action == "reversed":
        return _attempt(lambda: [_kind(v) for v in reversed(node)])
    if action == "index":
        return _attempt(lambda: node.index(value) if isinstance(node, Sequence) else None)
    if action == "plain":  # the pack's deep copy reads the values behind a lazy proxy (values.py _plain_view)
        return _attempt(lambda: typed(plain(node)))
    if action == "plain_skipping":
        return _attempt(lambda: typed(plain(node, ("at",), skip=frozenset({key if isinstance(key, str) else "a"}))))
    if action == "serialize":
        return _attempt(lambda: serialize_properties({"v": node}) if isinstance(node, (Mapping, Sequence)) else None)
    raise AssertionError(action)


def _snapshot(node: Any) -> Any:
    """Everything reachable through the public API, read last (after all writes)."""
    if isinstance(node, Mapping):
        return ("map", [(k, _attempt(lambda k=k: _snapshot(node[k]))) for k in list(node)])
    if isinstance(node, Sequence) and not isinstance(node, str):
        return ("seq", [_attempt(lambda i=i: _snapshot(node[i])) for i in range(len(node))])
    return ("value", type(node).__name__, repr(node))


@settings(max_examples=600, deadline=None)
@given(top_level, operations)
@example({"a": {"b": 1}}, [([], "set", "a", {"__target": 1}), ([], "plain", "a", None)])  # a written value stays
@example({"a": [{"__target": 1}]}, [([], "plain", "a", None)])  # unread, in a list: still a proxy's quirk
@example({"a": [{"b": 1}]}, [(["a"], "get", 0, None), (["a"], "set", 0, {"__target": 1}), ([], "plain", "a", None)])
def test_every_observation_matches_the_library_proxy(props: dict[str, Any], ops: list[Any]) -> None:
    original = copy.deepcopy(props)
    eager = library.unknown_checking_proxy(copy.deepcopy(props))
    lazy = lazy_unknown_checking_proxy(props)
    for path, action, key, value in ops:
        seen = _observe(lazy, path, action, key, value)
        assert seen == _observe(eager, path, action, key, value), (path, action, key)
    assert _snapshot(lazy) == _snapshot(eager)
    assert props == original, "the shared input must never be written"


@settings(max_examples=200, deadline=None)
@given(top_level, operations)
def test_proxies_of_one_input_never_see_each_others_writes(props: dict[str, Any], ops: list[Any]) -> None:
    first, second = lazy_unknown_checking_proxy(props), lazy_unknown_checking_proxy(props)
    untouched = _snapshot(library.unknown_checking_proxy(copy.deepcopy(props)))
    for path, action, key, value in ops:
        _observe(first, path, action, key, value)
    assert _snapshot(second) == untouched


@settings(max_examples=300, deadline=None)
@given(top_level, st.lists(st.sampled_from(KEYS), max_size=2))
def test_plain_copies_are_the_same_through_either_proxy(props: dict[str, Any], skip: list[str]) -> None:
    """Straight away (nothing read yet: the lazy proxy's values are all unread) and with every key skipped in turn."""
    eager = library.unknown_checking_proxy(copy.deepcopy(props))
    lazy = lazy_unknown_checking_proxy(props)
    assert _attempt(lambda: typed(plain(lazy, skip=frozenset(skip)))) == \
        _attempt(lambda: typed(plain(eager, skip=frozenset(skip))))
    assert _attempt(lambda: typed(plain(lazy))) == _attempt(lambda: typed(plain(eager)))


def test_a_secrets_proxy_passes_through_as_in_the_library() -> None:
    """``Remediate`` deserialises with ``proxy_secrets=True``: the top level is then a secrets proxy (a Mapping,
    not a dict), which the library's proxy returns unchanged."""
    secrets = secrets_preserving_proxy({"a": {"b": 1}})
    assert lazy_unknown_checking_proxy(secrets) is secrets
    assert library.unknown_checking_proxy(secrets) is secrets


def test_unknown_values_name_their_full_path() -> None:
    props = {"spec": {"template": [{"image": library.UNKNOWN_STRING_VALUE}]}}
    try:
        lazy_unknown_checking_proxy(props)["spec"]["template"][-1]["image"]
    except library.UnknownValueError as exc:
        assert exc.props == ["spec", "template", "0", "image"]
        assert exc.message == "string value at .spec.template.0.image can't be known during preview"
    else:
        raise AssertionError("an unknown value must raise")
