"""A resource's properties as the analyzer session sends them: the ``Struct`` the engine would marshal, in bytes.

Why a module of its own: the manifest parse helper (a forked child on an idle core) encodes the objects it parses,
so that neither of the processes answering the pack's RPCs builds the same ``Struct`` again (building one costs a
third of a resource's protocol work, and without the helper both processes would build the ones of the resources
the parent analyses: the child for ``AnalyzeStack``).

Every request carries a copy of the properties parsed from these bytes (``MergeFromString``): the same message the
request's constructor would copy in, and the same bytes for ``Analyze`` and ``AnalyzeStack``, so the pack decodes
a resource once per process (tests/policies/test_props_encoding.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

_NON_FINITE_NUMBER = re.compile(rb"\x11[\x00-\xff]{6}[\xf0-\xff][\x7f\xff]")
"""A ``Value.number_value`` (field 2, 64-bit: tag byte 0x11) whose double, little-endian, has every exponent bit set
(infinite or NaN): the top byte is 0x7f or 0xff (sign), the next one's high nibble 0xf. UTF-8 text never holds
such a pair (0xf0-0xf4 are followed by 0x80-0xbf), so a match in a wire of plain manifest props is almost always
a real one; a rare match elsewhere (a length or another number) only costs the caller a walk of the props."""


def may_hold_non_finite(wire: bytes) -> bool:
    """Whether ``wire`` (``props_wire``'s bytes) may hold an infinite or NaN number, which JSON cannot carry and
    the pack refuses (``struct_decode``): False means it certainly does not. About 1 % of ``props_wire``'s time."""
    return _NON_FINITE_NUMBER.search(wire) is not None


def props_struct(props: Mapping[str, Any]) -> Any:
    """``props`` as the engine marshals them: the ``Struct`` of their JSON round trip (plain JSON types only,
    numbers as doubles).

    Why not always through JSON: for a dict of string keys and JSON values (every manifest and render does) the
    round trip is an identity that costs a third of the encoding, and ``Struct.update`` accepts exactly such
    values and refuses what JSON would convert or refuse (non-string keys, bytes, dates, sets: TypeError or
    ValueError). Only then does the round trip run, which converts or raises as before. Two differences, neither
    visible to a policy: a NaN keeps its sign bit (JSON writes every NaN as ``NaN``; YAML's ``.nan`` is negative),
    and decoding refuses any NaN (``struct_decode``) so the RPC fails the same way; and a protobuf
    ``Struct``/``ListValue`` nested in ``props`` would be taken, which never occurs (props come from YAML, JSON or
    a decoded ``Struct``). tests/policies/test_session_struct.py compares both ways.
    """
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    if type(props) is dict:
        try:
            s.update(props)
            return s
        except Exception:  # noqa: BLE001, S110 - not plain JSON: the round trip converts it or raises its error
            s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(props)))
    return s


def props_wire(props: Mapping[str, Any]) -> bytes:
    """The bytes of ``props_struct(props)``, what a request's ``properties`` are parsed from."""
    return bytes(props_struct(props).SerializeToString())


def encode_props(props: Mapping[str, Any]) -> bytes | None:
    """``props_wire(props)``, or None when the props cannot be encoded (the RPC then raises, as it would) or may hold
    an infinite or NaN number (``may_hold_non_finite``; left to whoever encodes them again, which names it)."""
    try:
        wire = props_wire(props)
    except Exception:  # noqa: BLE001 - not encodable: left to the RPC, which reports it
        return None
    return None if may_hold_non_finite(wire) else wire
