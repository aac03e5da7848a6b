"""The forked child's answer (sovereign/process/forked_child.py) is marshalled when it is made of core types and pickled
otherwise; either way the parent reads back an equal value of the same types."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from sovereign.analyzer.model import Diagnostic
from sovereign.process.forked_child import ANSWER, _decode, _encode

DIAGNOSTIC = Diagnostic("p", "pack", "1", "d", "m", "mandatory", "urn:pulumi:s::p::t::n", "high")


@pytest.mark.parametrize(("value", "codec"), [
    (("documents", [("a.yaml", 1, {"kind": "Namespace", "n": 1.0, "b": True, "x": None, "l": [1, "2"]})]), b"M"),
    (("documents", [("a.yaml", 1, {"at": datetime.date(2026, 1, 1), "raw": b"\x00"})]), b"P"),
    ([DIAGNOSTIC], b"P"),
])
def test_answers_round_trip_with_their_types(value: Any, codec: bytes) -> None:
    raw = _encode((ANSWER, value))
    assert raw[:1] == codec
    kind, back = _decode(raw)
    assert kind == ANSWER and back == value and repr(back) == repr(value)


def test_an_answer_in_no_known_encoding_is_refused() -> None:
    with pytest.raises(ValueError, match="no known encoding"):
        _decode(b"Xjunk")
