"""Turn parsed YAML into the JSON values the Pulumi CLI would hand the program.

PyYAML turns an unquoted ``2026-03-01T00:00:00Z`` into a ``datetime``, while the Pulumi CLI passes the program
JSON text, so the program always sees strings. Normalising before the schema keeps both paths identical.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sovereign.core.errors import InputError, InputErrors
from sovereign.stackconfig.namespace import KeyPath

_MAX_DEPTH = 64


def json_compatible(config: dict[Any, Any], source_file: str) -> dict[Any, Any]:
    """Mapping keys must be strings; timestamps and dates become ISO 8601 strings."""
    errors: list[InputError] = []

    def walk(value: Any, path: KeyPath) -> Any:
        if len(path) > _MAX_DEPTH:
            errors.append(
                InputError(
                    source_file, path[:3], f"nesting of at most {_MAX_DEPTH} levels", found_text="deeper nesting"
                )
            )
            return None
        if isinstance(value, datetime):
            return _instant_text(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    errors.append(InputError(source_file, path, "string keys", found_text=f"the key {key!r}"))
                    continue
                out[key] = walk(item, (*path, key))
            return out
        if isinstance(value, list | tuple):
            return [walk(item, (*path, i)) for i, item in enumerate(value)]
        return value

    result = walk(config, ())
    if errors:
        raise InputErrors(errors)
    assert isinstance(result, dict)
    return result


def _instant_text(value: datetime) -> str:
    """UTC is written ``Z``, as users and the schema's examples write it."""
    aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # YAML: no offset means UTC
    text = aware.isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
