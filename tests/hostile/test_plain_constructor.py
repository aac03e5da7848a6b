"""The plain constructor (sovereign/core/yamlio.py ``_construct_plain``) builds documents of mappings, sequences and
core scalars without PyYAML's general constructor; for every input the result, or the error, must be the general
constructor's: same values with the same types, same key order, same line numbers, same ``InputError`` text."""

from __future__ import annotations

import base64
import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.core import yamlio
from sovereign.core.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
USED: list[bool] = []
"""Whether the plain constructor's result was used, per document (to show the tests exercise it)."""


def typed(value: Any) -> Any:
    """A value with every type spelled out, so 1 == True == 1.0 and a date == its datetime do not pass."""
    if isinstance(value, dict):
        return ("dict", [(typed(k), typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def outcome(text: str, *, plain: bool, monkeypatch: pytest.MonkeyPatch) -> Any:
    real = yamlio._construct_plain
    with monkeypatch.context() as patch:
        if plain:
            def recorded(loader: Any, node: Any, scalars: Any) -> Any:
                try:
                    value = real(loader, node, scalars)
                except Exception:
                    USED.append(False)
                    raise
                USED.append(True)
                return value

            patch.setattr(yamlio, "_construct_plain", recorded)
        else:
            def refuse(loader: Any, node: Any, scalars: Any) -> Any:
                raise yamlio._NotPlain

            patch.setattr(yamlio, "_construct_plain", refuse)
        try:
            return ("docs", [(line, typed(doc)) for line, doc in yamlio.parse_yaml_documents_with_lines(text, "f")])
        except InputError as exc:
            return ("error", exc.message)


def assert_same(text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    general = outcome(text, plain=False, monkeypatch=monkeypatch)
    assert outcome(text, plain=True, monkeypatch=monkeypatch) == general, text
    return general


def test_every_yaml_file_of_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    files = [p for p in sorted(ROOT.rglob("*.y*ml"))
             if p.suffix in (".yaml", ".yml") and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)]
    assert len(files) > 50
    USED.clear()
    for file in files:
        assert_same(file.read_text(encoding="utf-8"), monkeypatch)
    assert USED.count(True) > 50


CASES = [
    "a: 1\nb: [1, 2.5, true, null, ~, yes, no, on, off, 0x1f, 0o17, 1_000, .inf, -.inf, .nan, 1e3]\n",
    "when: 2026-01-01\nat: 2026-01-01T10:00:00Z\nlocal: 2026-01-01 10:00:00.5\nbad: 2026-13-45\n",
    "data: !!binary aGVsbG8=\n",
    "bad: !!binary '%%%'\n",
    "n: !!int abc\n",
    "n: !!float abc\n",
    "s: !!str 12\nt: !!str\n",
    "x: !!set {a, b}\n",
    "x: !!omap [a: 1, b: 2]\n",
    "x: !!pairs [a: 1, a: 2]\n",
    "x: !custom 1\n",
    "x: !!python/object:os.system ls\n",
    "base: &b {a: 1}\nderived:\n  <<: *b\n  c: 2\n",
    "derived:\n  <<: {a: 1}\n  c: 2\n",
    "=: value-key\n",
    "a: 1\na: 2\n",
    "1: a\n1.0: b\n",
    "true: a\n1: b\n",
    "? [a, b]\n: c\n",
    "? {a: 1}\n: c\n",
    "a: &x [1]\nb: *x\n",
    "- - - - deep\n",
    "---\na: 1\n---\n---\n- b\n...\n",
    "",
    "# only a comment\n",
    "key: [unclosed\n",
    "!!map {a: 1}\n",
    "!!seq [1]\n",
    "!!str {a: 1}\n",
    "!!map [1]\n",
    "null: x\n~: y\n",
    "'quoted': \"x\\ty\"\nplain: a b  \nfolded: >\n  a\n  b\nliteral: |\n  a\n  b\n",
    "empty_map: {}\nempty_seq: []\nnested: {a: [{b: [c, {d: e}]}]}\n",
]


@pytest.mark.parametrize("text", CASES)
def test_cases_at_the_edges(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert_same(text, monkeypatch)


SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=12), st.sampled_from(["yes", "No", "on", "~", "null", "1_0", "0x10", "0o7", "1e5", ".5",
                                           "2026-01-01", "2026-01-01T00:00:00Z", "<<", "=", "-", "? x", "*a"]),
    st.dates(min_value=datetime.date(1900, 1, 1)), st.binary(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.one_of(st.text(max_size=6), st.integers(), st.booleans()), inner,
                                            max_size=4)),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(VALUES, st.sampled_from([None, True, False]), st.booleans())
def test_dumped_documents(value: Any, flow: bool | None, sort_keys: bool) -> None:
    text = yaml.safe_dump(value, default_flow_style=flow, sort_keys=sort_keys, allow_unicode=True)
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same(text, monkeypatch)


FRAGMENTS = ["a", "b", "1", "1.5", "true", "~", "2026-01-01", "!!str 1", "!!int 1", "!!binary aGk=", "!!set {x}",
             "&n {k: v}", "*n", "<<", "=", "[1, 2]", "{a: 1}", "!x y", "'q'", "\"d\\n\"", "- ", ": ", "\n", "  ",
             "? ", ", ", "{", "}", "[", "]", "---\n", "#c\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=16))
def test_fragment_soup(fragments: list[str]) -> None:
    """Random text from YAML's pieces: mostly errors, some odd documents; the outcome must not change."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        assert_same("".join(fragments), monkeypatch)


def test_binary_and_dates_keep_their_types(monkeypatch: pytest.MonkeyPatch) -> None:
    text = yaml.safe_dump({"b": base64.b64decode("aGk="), "d": datetime.date(2026, 1, 1)})
    kind, docs = assert_same(text, monkeypatch)
    assert kind == "docs" and docs[0][1] == typed({"b": b"hi", "d": datetime.date(2026, 1, 1)})
