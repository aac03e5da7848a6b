"""``struct_to_dict`` returns exactly what protobuf's ``MessageToDict`` returns for a ``Struct``.

The in-process transport decodes resource properties with it (sovereign/render/struct_decode.py); the pack must
receive the same dicts as under the CLI: same keys in the same order, same types, same errors.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from residency_testkit import typed

from sovereign.render.struct_decode import struct_to_dict

leaves = st.one_of(
    st.none(), st.booleans(), st.floats(), st.integers(-(2**60), 2**60), st.text(max_size=6),
)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=5), inner, max_size=5)),
    max_leaves=30,
)


def _outcome(fn: Any) -> Any:
    try:
        result = fn()
    except Exception as exc:  # noqa: BLE001 - the error is part of what must match
        return ("raised", type(exc).__name__, str(exc))
    return ("ok", typed(result))


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(st.text(max_size=5), values, max_size=6))
def test_matches_message_to_dict_after_a_wire_round_trip(props: dict[str, Any]) -> None:
    built = struct_pb2.Struct()
    built.update(props)
    received = struct_pb2.Struct.FromString(built.SerializeToString())
    assert _outcome(lambda: struct_to_dict(received)) == _outcome(lambda: json_format.MessageToDict(received))


def test_an_unset_value_and_null_both_decode_to_none() -> None:
    struct = struct_pb2.Struct()
    struct.fields["unset"].Clear()
    struct.fields["null"].null_value = struct_pb2.NULL_VALUE
    assert struct_to_dict(struct) == json_format.MessageToDict(struct) == {"unset": None, "null": None}


def test_infinity_is_refused_as_by_the_printer() -> None:
    struct = struct_pb2.Struct()
    struct.update({"x": float("inf")})
    assert _outcome(lambda: struct_to_dict(struct)) == _outcome(lambda: json_format.MessageToDict(struct))
    assert _outcome(lambda: struct_to_dict(struct))[0] == "raised"
