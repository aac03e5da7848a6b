"""Read a file or directory of YAML (multi-document) / JSON manifests for the connectivity proof.

The same reader as ``sovereign check --manifests`` (``sovereign.core.manifests``: the files kubectl would apply,
Lists expanded as kubectl expands them, every object with an ``apiVersion`` and a ``kind``), so ``reach`` and
``check`` never disagree about what the input holds. Each object keeps where it came from (file and the line of
its document), so a bad field is reported against the file the user wrote, not against an index in a merged
list. Input that holds no object at all is bad input: an answer over nothing would read as a clean one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sovereign.core.errors import InputError
from sovereign.core.manifests import MANIFEST_SUFFIXES, load_manifests

SUFFIXES = MANIFEST_SUFFIXES

Source = tuple[str, tuple[str | int, ...]]
"""(file, key-path prefix) of one object: ``("m.yaml", ("document at line 12",))``."""


def document_key(line: int) -> str:
    """How an object's place in its file starts an error's key path (``check`` names objects the same way)."""
    return f"document at line {line}"


def load(path: Path) -> tuple[list[dict[str, Any]], list[Source]]:
    """Every object under ``path`` (Lists expanded) and, in parallel, where each came from; no object at all is
    bad input naming ``path``."""
    objects: list[dict[str, Any]] = []
    sources: list[Source] = []
    for file, line, obj in load_manifests(path):
        objects.append(dict(obj))
        sources.append((file, (document_key(line),)))
    if not objects:
        raise InputError(path, (), "at least one Kubernetes object (files holding only comments or empty "
                         "documents give the connectivity proof nothing to answer over)", found_text="none")
    return objects, sources
