"""Errors for bad input: each names the file, the key path, what was expected and what was found.

Every entry point catches ``InputError`` and exits with status 2 without writing anything.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

_INVISIBLE = ("Cc", "Cf", "Zl", "Zp")
"""Control, format and separator characters: printed raw they can rewrite a terminal or a CI log."""


def printable(text: str) -> str:
    """``text`` with every control or invisible formatting character shown as an escape (``\\x08``)."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch == " " or unicodedata.category(ch) not in _INVISIBLE else ascii(ch)[1:-1] for ch in text
    )


def format_key_path(path: Iterable[str | int]) -> str:
    """Render a key path the way users read YAML: ``cluster.regions[1]``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def short_repr(value: object, limit: int = 80) -> str:
    """A found value, cut so one huge value cannot flood the report."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class InputError(Exception):
    """One problem in one input file."""

    def __init__(
        self,
        file: str | Path,
        key_path: Sequence[str | int],
        expected: str,
        found: object = None,
        *,
        found_text: str | None = None,
    ) -> None:
        self.file = str(file)
        self.key_path = tuple(key_path)
        self.expected = expected
        self.found = found_text if found_text is not None else short_repr(found)
        super().__init__(self.message)

    @property
    def message(self) -> str:
        text = f"{self.file}: {format_key_path(self.key_path)}: expected {self.expected}; found {self.found}"
        return printable(text)


class InputErrors(InputError):
    """Several problems found in one pass; reported together so users fix them in one round."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        if not errors:
            raise ValueError("InputErrors needs at least one error")
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.file, first.key_path, first.expected, found_text=first.found)

    @property
    def message(self) -> str:
        return "\n".join(e.message for e in self.errors)


class ToolFailure(RuntimeError):
    """A step a command depends on failed (the program under the mock runtime, the policy pack process).

    Not an input problem the user can point at, but the command cannot give an answer either: like bad input it
    ends the command with status 2 and one error, and nothing is written.
    """

    what = ""
    """How the CLI introduces the message (e.g. "the policy pack failed: ")."""

