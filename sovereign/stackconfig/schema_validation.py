"""Check a ``config:`` mapping against ``stacks/stack.schema.json`` and word each violation for a user.

jsonschema's own messages name schema internals; users need the key path, what belongs there and what they
wrote, and a kubeconfig must never be echoed because it is a credential.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sovereign.core import paths
from sovereign.core.errors import InputError
from sovereign.stackconfig.error_text import short_repr, type_name
from sovereign.stackconfig.namespace import KUBECONFIG_KEY, KeyPath, prefixed, unprefixed

if TYPE_CHECKING:
    # The validator (jsonschema, ~40 ms to import) is loaded when a stack is validated, not when only the
    # stack model is needed (a check of plain manifests).
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError

KUBECONFIG_EXPECTED = (
    "a secret set with `pulumi config set --secret sovereign-clusters:kubeconfig` (stored as "
    "{secure: <ciphertext>}); a plaintext kubeconfig is rejected because it is a credential"
)

_JSON_TYPE_TEXT = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


@functools.cache
def _schema_for(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    schema: dict[str, Any] = json.loads(text)
    from sovereign.core.schema_meta import check_schema

    check_schema(schema, text)
    return schema


@functools.cache
def _validator_for(path: str) -> Draft202012Validator:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(_schema_for(path))


def stack_schema() -> dict[str, Any]:
    """The parsed ``stacks/stack.schema.json`` (checked once against the 2020-12 meta-schema)."""
    return _schema_for(str(paths.stack_schema_path()))


def config_keys() -> tuple[str, ...]:
    """Unprefixed top-level keys the schema defines, sorted: what the program reads from ``pulumi.Config``."""
    return tuple(sorted(unprefixed(stack_schema()["properties"])))


_VALID_REMEMBERED = 8
_valid: dict[tuple[str, str], None] = {}
"""(schema path, canonical JSON of a config) that validated cleanly, newest last: a render validates the same
config twice in one process (the CLI before the program, then the program itself, as under `pulumi up`), and
for a 200-workload stack a validation costs ~0.1 s while the canonical text costs ~2 ms."""


def schema_errors_of(config: Mapping[str, Any], source_file: str) -> list[InputError]:
    """Every schema violation of a prefixed ``config:`` mapping, as InputErrors in key-path order."""
    schema_path = str(paths.stack_schema_path())
    try:
        key: tuple[str, str] | None = (schema_path, json.dumps(config, sort_keys=True, separators=(",", ":")))
    except (TypeError, ValueError):
        key = None  # not plain JSON: validate (and report) as usual
    if key is not None and key in _valid:
        return []
    validator = _validator_for(schema_path)
    found: dict[tuple[KeyPath, str], InputError] = {}
    for error in validator.iter_errors(config):
        for item in _translate(error, config, source_file):
            found.setdefault((item.key_path, item.expected), item)
    if not found and key is not None:
        _valid[key] = None
        while len(_valid) > _VALID_REMEMBERED:
            del _valid[next(iter(_valid))]
    return [found[k] for k in sorted(found, key=lambda k: (_path_sort_key(k[0]), k[1]))]


def _path_sort_key(path: KeyPath) -> tuple[tuple[int, int, str], ...]:
    """Indexes before keys, so a mixed path sorts without comparing int with str."""
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


def _translate(error: ValidationError, config: Mapping[str, Any], file: str) -> list[InputError]:
    """One violation becomes one InputError per offending key (several for required/unknown keys)."""
    path: KeyPath = tuple(error.absolute_path)
    if path and path[0] == prefixed(KUBECONFIG_KEY):
        return [InputError(file, path[:1], KUBECONFIG_EXPECTED, found_text=_secret_shape(config[path[0]]))]
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    custom = schema.get("x-expected")
    value = error.validator_value
    instance = error.instance

    if error.validator == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return [
            InputError(file, (*path, k), custom or "this key (it is required)", found_text="nothing (key missing)")
            for k in missing
        ]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extras = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        allowed = ", ".join(known) if known else "no keys"
        if patterns and path == ():
            allowed += ", or keys of other namespaces (`namespace:key`)"
        return [
            InputError(file, (*path, k), f"one of the keys {allowed}", found_text=f"unknown key {k!r}") for k in extras
        ]
    if error.validator == "dependentRequired" and isinstance(instance, dict):
        return [
            InputError(file, (*path, need), f"`{need}` together with `{key}`", found_text="nothing (key missing)")
            for key, needs in value.items()
            if key in instance
            for need in needs
            if need not in instance
        ]
    if "propertyNames" in error.relative_schema_path:
        key_expected = _noun_description(schema) or f"a key matching {schema.get('pattern', '')}"
        return [InputError(file, (*path, str(instance)), key_expected, found_text=f"the key {instance!r}")]
    if custom:
        return [InputError(file, path, custom, found_text=short_repr(instance))]
    expected, found_text = _expectation(error, schema)
    return [InputError(file, path, expected, found_text=found_text)]


def _expectation(error: ValidationError, schema: Mapping[str, Any]) -> tuple[str, str]:
    """What belongs at the failing value, and how to show what is there, for single-value violations."""
    validator, value, instance = error.validator, error.validator_value, error.instance
    found = short_repr(instance)
    if validator == "type":
        types = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_JSON_TYPE_TEXT.get(t, t) for t in types)
        if described := _noun_description(schema):
            expected += f" ({described})"
        return expected, f"{type_name(instance)} {found}"
    if validator == "pattern":
        return _noun_description(schema) or f"a string matching {value}", found
    if validator == "enum":
        return "one of " + ", ".join(repr(v) for v in value), found
    if validator == "const":
        return repr(value), found
    if validator in ("minItems", "maxItems"):
        expected = f"{'at least' if validator == 'minItems' else 'at most'} {_count(value, 'item', 'items')}"
        if validator == "maxItems" and (described := _noun_description(schema) or schema.get("description")):
            expected += f" ({described})"
        return expected, f"{len(instance)} items" if isinstance(instance, list) else found
    if validator == "uniqueItems":
        if isinstance(instance, list):
            counts = Counter(json.dumps(i, sort_keys=True, default=repr) for i in instance)
            found = "duplicates " + ", ".join(v for v, n in counts.items() if n > 1)
        return "no duplicate items", found
    if validator == "minimum":
        return f"a number of at least {value}", found
    if validator == "maximum":
        return f"a number of at most {value}", found
    if validator == "minLength":
        return ("a non-empty string" if value == 1 else f"at least {value} characters"), found
    if validator == "maxLength":
        expected = _noun_description(schema) or f"at most {value} characters"
        return expected, f"{len(instance)} characters" if isinstance(instance, str) else found
    if validator == "minProperties":
        return f"at least {_count(value, 'entry', 'entries')}", found
    return error.message, found


def _count(n: object, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _noun_description(schema: Mapping[str, Any]) -> str | None:
    """Schema descriptions written as noun phrases ("a DNS-1123 label ...") double as error expectations."""
    text = schema.get("description")
    if isinstance(text, str) and (text.startswith("a ") or text.startswith("an ")):
        return text
    return None


def _secret_shape(value: object) -> str:
    """Describe a rejected kubeconfig without echoing it: it is a credential."""
    if isinstance(value, str):
        return f"a plaintext string of {len(value)} characters (not shown)"
    if isinstance(value, dict):
        return f"a mapping with keys {sorted(value)} (values not shown)"
    return f"{type_name(value)} (not shown)"
