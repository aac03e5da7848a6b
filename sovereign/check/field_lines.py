"""The line of the field a manifest finding names, for code scanning's annotation.

A finding on a manifest points at its object's document. When its message names a field of that object by the
field's full key path from the object's root (``spec.template.spec.hostNetwork``, ``metadata.annotations``), and
the document has that field, the finding points at the field's line instead. Only a full path that the document
really holds moves the line: a message naming another object's field (``NetworkPolicy x egress[0]``) or a path the
object lacks leaves the finding at its object.
"""

from __future__ import annotations

import re
from pathlib import Path

from sovereign.core.yaml_locations import KeyPath, document_key_lines

_ROOTS = ("apiVersion", "kind", "metadata", "spec", "data", "stringData", "status", "rules", "webhooks")
"""Top-level keys of Kubernetes objects a message's path starts from."""
_FIELD = re.compile(r"(?<![\w./-])((?:" + "|".join(_ROOTS) + r")(?:\.[A-Za-z_][\w-]*|\[\d+\])+)")
_PART = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]")


def field_paths(message: str) -> list[KeyPath]:
    """The key paths a message names, in order: ``spec.containers[0].image`` -> ``("spec", "containers", 0,
    "image")``."""
    out: list[KeyPath] = []
    for text in _FIELD.findall(message):
        head = re.match(r"[A-Za-z]+", text)
        assert head is not None
        parts: list[str | int] = [head.group(0)]
        parts += [int(index) if index else name for name, index in _PART.findall(text[head.end():])]
        out.append(tuple(parts))
    return out


class FieldLines:
    """Field lines of the documents findings point at; each document is read at most once."""

    def __init__(self) -> None:
        self._documents: dict[tuple[str, int], dict[KeyPath, int]] = {}

    def line(self, file: str, document_line: int, message: str) -> int:
        paths = field_paths(message)
        if not paths:
            return document_line
        lines = self._lines(file, document_line)
        return next((lines[p] for p in paths if p in lines), document_line)

    def _lines(self, file: str, document_line: int) -> dict[KeyPath, int]:
        key = (file, document_line)
        if key not in self._documents:
            try:
                text = Path(file).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                text = ""
            self._documents[key] = document_key_lines(text, document_line) if text else {}
        return self._documents[key]
