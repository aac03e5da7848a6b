"""Wording shared by the error messages of every validation pass, so the same thing reads the same way."""

from __future__ import annotations

from collections.abc import Iterable

from sovereign.core.errors import short_repr

__all__ = ["listing", "short_repr", "type_name"]

_PYTHON_TYPE_TEXT: dict[type, str] = {
    dict: "a mapping",
    list: "a list",
    str: "a string",
    bool: "a boolean",
    int: "a number",
    float: "a number",
}


def type_name(value: object) -> str:
    """What a parsed YAML value is, in the user's words rather than Python's."""
    if value is None:
        return "nothing (null)"
    return _PYTHON_TYPE_TEXT.get(type(value), type(value).__name__)


def listing(items: Iterable[str]) -> str:
    """Comma-separated choices; "none" rather than an empty expectation."""
    return ", ".join(items) or "none"
