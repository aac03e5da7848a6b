"""Meta-validation (against JSON Schema 2020-12) of the schemas we load, skipped for the ones we ship.

Why: checking a schema against the meta-schema costs 0.16 s per process for our two schemas, and every render
and check paid it although those files only change in a commit, where the test suite meta-validates them
(tests/catalog/test_catalog_facts.py, tests/stackconfig/test_schema_meta.py). A schema that is not byte for byte
the shipped one (a catalog directory of its own, another git revision's stacks) is still checked every time.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

_REPOSITORY = Path(__file__).resolve().parents[2]
SHIPPED_SCHEMAS = (
    _REPOSITORY / "stacks" / "stack.schema.json",
    _REPOSITORY / "policies" / "catalog" / "catalog.schema.json",
)


@functools.cache
def _shipped_texts() -> frozenset[str]:
    texts = set()
    for path in SHIPPED_SCHEMAS:
        try:
            texts.add(path.read_text(encoding="utf-8"))
        except OSError:
            continue  # not installed beside the package: nothing is exempt
    return frozenset(texts)


def check_schema(schema: Any, text: str) -> None:
    """Raise ``jsonschema.SchemaError`` if ``schema`` (parsed from ``text``) is not a valid 2020-12 schema."""
    if text in _shipped_texts():
        return
    from jsonschema import Draft202012Validator  # only for a schema that is not the shipped one

    Draft202012Validator.check_schema(schema)
