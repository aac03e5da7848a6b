"""``preview_text`` (steps encoded one by one, then spliced in) writes exactly what ``canonical_json`` writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.render.output import canonical_json, indented_step, preview_text

text = st.text(max_size=8)  # any code point: quotes, backslashes, control characters, non-ASCII
leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False), text)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(text, inner, max_size=3)),
    max_leaves=20,
)
documents = st.fixed_dictionaries(
    {"config": st.dictionaries(text, text, max_size=3), "changeSummary": st.dictionaries(text, st.integers(0, 9))},
    optional={"diagnostics": st.lists(st.dictionaries(text, text, max_size=3), max_size=3)},
)


@settings(max_examples=400, deadline=None)
@given(documents, st.lists(st.dictionaries(text, values, max_size=4), max_size=5))
def test_spliced_steps_are_canonical_json(document: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    expected = canonical_json({**document, "steps": steps})
    assert preview_text(document, [indented_step(s) for s in steps]) == expected
