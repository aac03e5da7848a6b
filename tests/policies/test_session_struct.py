"""The ``Struct`` of a resource's props (analyzer session) is that of their JSON round trip, whatever the props.

``props_encoding.props_struct`` skips the round trip when ``Struct.update`` takes the props as they are. This
compares it with the round trip itself on random values, JSON ones and the kinds JSON converts or refuses
(non-string keys, tuples, bytes, dates, sets, huge or non-finite numbers, subclasses): the same message (bytes and
map order) or the same error. The one difference allowed: a NaN's sign bit (the round trip writes every NaN as the
positive one; the pack refuses NaN whatever its bits), so NaNs are made positive before the bytes are compared.
"""

from __future__ import annotations

import datetime
import enum
import json
import math
import struct
from collections import OrderedDict
from typing import Any

import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.analyzer.props_encoding import props_struct as _struct


def _through_json(props: Any) -> Any:
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props)))
    return s


def _outcome(build: Any, props: Any) -> tuple[str, Any]:
    try:
        s = build(props)
    except Exception as exc:  # noqa: BLE001 - the error itself is compared
        return "error", (type(exc), str(exc))
    _positive_nans(s)
    return "struct", (s.SerializeToString(), _orders(s))


def _positive_nans(s: Any) -> None:
    for key in s.fields:
        _positive_nan(s.fields[key])


def _positive_nan(value: Any) -> None:
    kind = value.WhichOneof("kind")
    if kind == "number_value" and math.isnan(value.number_value):
        value.number_value = float("nan")
    elif kind == "struct_value":
        _positive_nans(value.struct_value)
    elif kind == "list_value":
        for item in value.list_value.values:
            _positive_nan(item)


def _orders(s: Any) -> list[Any]:
    """Every map's key order, depth first (what the pack would iterate)."""
    out: list[Any] = [list(s.fields.keys())]
    for key in s.fields:
        value = s.fields[key]
        if value.WhichOneof("kind") == "struct_value":
            out.extend(_orders(value.struct_value))
    return out


YAML_NAN = struct.unpack("<d", bytes.fromhex("000000000000f8ff"))[0]
"""What PyYAML's ``.nan`` gives: a NaN with the sign bit set."""


class Colour(enum.IntEnum):
    RED = 1


class Text(str):
    pass


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8), st.integers(min_value=2**1000, max_value=2**1100),
)
_odd_scalars = st.one_of(
    st.binary(max_size=4), st.dates(), st.datetimes(), st.just(Colour.RED), st.builds(Text, st.text(max_size=4)),
    st.frozensets(st.integers(), max_size=2),
)
_keys = st.one_of(st.text(max_size=6), st.integers(min_value=-3, max_value=3), st.booleans(), st.none(),
                  st.floats(allow_nan=False, min_value=-2, max_value=2))


def _values(odd: bool) -> Any:
    leaves = st.one_of(_scalars, _odd_scalars) if odd else _scalars
    keys = _keys if odd else st.text(max_size=6)
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(keys, inner, max_size=4),
            *([st.tuples(inner, inner), st.dictionaries(keys, inner, max_size=3).map(OrderedDict)] if odd else []),
        ),
        max_leaves=20,
    )


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=6), _values(odd=False), max_size=6))
def test_json_props_give_the_round_trips_struct(props: dict[str, Any]) -> None:
    assert _outcome(_struct, props) == _outcome(_through_json, props)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(_keys, _values(odd=True), max_size=6))
def test_any_props_give_the_round_trips_struct_or_its_error(props: dict[Any, Any]) -> None:
    assert _outcome(_struct, props) == _outcome(_through_json, props)


@pytest.mark.parametrize(
    "props",
    [
        {"a": 1, 1: "b"},  # a non-string key: JSON turns it into "1"
        {"1": "x", 1: "y"},  # ... and then it collides
        {True: 1},
        {"when": datetime.date(2026, 1, 1)},
        {"raw": b"\x00"},
        {"nested": {"deep": [1, (2, 3), {"x": frozenset()}]}},
        {"big": 10**400},
        {"colour": Colour.RED, "text": Text("t")},
        {"inf": float("inf"), "nan": float("nan"), "neg0": -0.0, "yaml_nan": YAML_NAN},
        {"list": [float("nan"), {"n": YAML_NAN}]},
        OrderedDict([("b", 1), ("a", 2)]),
    ],
)
def test_awkward_props(props: Any) -> None:
    assert _outcome(_struct, props) == _outcome(_through_json, props)


def test_props_the_update_refuses_half_way_get_the_round_trips_struct() -> None:
    # The direct update fails at the third key (JSON turns it into "3"): the round trip's result, not an error.
    props = {"a": 1, "b": {"c": 2}, 3: "x"}
    assert _outcome(_struct, props) == _outcome(_through_json, props)
    assert _outcome(_struct, props)[0] == "struct"


def test_only_a_nans_sign_differs() -> None:
    direct, through_json = _struct({"x": YAML_NAN}), _through_json({"x": YAML_NAN})
    assert direct.SerializeToString() != through_json.SerializeToString()
    _positive_nans(direct)
    assert direct.SerializeToString() == through_json.SerializeToString()
