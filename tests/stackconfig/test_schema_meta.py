"""The schemas we ship are valid JSON Schema 2020-12; any other schema text is still meta-validated at load.

sovereign/core/schema_meta.py skips the meta-schema check at run time for the shipped files, so this test is where
they are checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from sovereign.core import schema_meta


@pytest.mark.parametrize("path", schema_meta.SHIPPED_SCHEMAS, ids=lambda p: p.name)
def test_every_shipped_schema_is_valid_2020_12(path: Path) -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", schema_meta.SHIPPED_SCHEMAS, ids=lambda p: p.name)
def test_a_changed_schema_is_meta_validated(path: Path) -> None:
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["type"] = "no-such-type"
    with pytest.raises(jsonschema.SchemaError):
        schema_meta.check_schema(schema, json.dumps(schema))


def test_the_shipped_text_is_exempt_only_byte_for_byte() -> None:
    path = schema_meta.SHIPPED_SCHEMAS[0]
    text = path.read_text(encoding="utf-8")
    broken = {"type": "no-such-type"}
    schema_meta.check_schema(broken, text)  # the shipped text: trusted (tested above)
    with pytest.raises(jsonschema.SchemaError):
        schema_meta.check_schema(broken, text + " ")
