"""The recorder's Struct conversions (sovereign/render/wire.py) are protobuf's own, without its generic walkers:
``value_to_struct`` builds the message ``json_format.ParseDict`` builds, ``struct_to_value`` decodes what
``MessageToDict`` decodes."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.render import wire

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(2**53), 2**53),
    st.text(max_size=6),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=5)),
    max_leaves=30,
)
objects = st.dictionaries(st.text(max_size=5), values, max_size=6)


@settings(max_examples=500, deadline=None)
@given(objects)
def test_value_to_struct_builds_what_parse_dict_builds(props: dict[str, Any]) -> None:
    parsed = struct_pb2.Struct()
    json_format.ParseDict(props, parsed)
    assert wire.value_to_struct(props) == parsed


@settings(max_examples=300, deadline=None)
@given(objects)
def test_struct_to_value_is_message_to_dict_normalised(props: dict[str, Any]) -> None:
    received = struct_pb2.Struct.FromString(wire.value_to_struct(props).SerializeToString())
    expected = wire._unwrap_output_values(wire._normalise(json_format.MessageToDict(received)))
    assert wire.struct_to_value(received) == expected


def test_ports_stay_integers_and_secrets_keep_their_envelope() -> None:
    props = {"port": 8443, "ratio": 0.5, "token": wire.secret("s3cret")}
    assert wire.struct_to_value(wire.value_to_struct(props)) == props
    assert isinstance(wire.struct_to_value(wire.value_to_struct(props))["port"], int)
