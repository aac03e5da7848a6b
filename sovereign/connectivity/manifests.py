"""Read a file or directory of YAML (multi-document) / JSON manifests for the connectivity proof.

Each object keeps where it came from (file and ``document N``), so a bad field is reported against the file
the user wrote, not against an index in a merged list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sovereign.core.errors import InputError
from sovereign.core.yamlio import parse_yaml_documents, read_text

SUFFIXES = (".yaml", ".yml", ".json")

Source = tuple[str, tuple[str | int, ...]]
"""(file, key-path prefix) of one object."""


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        if not files:
            raise InputError(path, (), "a directory holding .yaml/.yml/.json manifests", found_text="none")
        return files
    raise InputError(path, (), "a manifest file or directory", found_text="no such file or directory")


def load(path: Path) -> tuple[list[dict[str, Any]], list[Source]]:
    """Every object under ``path`` (``kind: List`` expanded) and, in parallel, where each came from."""
    objects: list[dict[str, Any]] = []
    sources: list[Source] = []
    for file in _files(path):
        docs = parse_yaml_documents(read_text(file), file)  # JSON is YAML for this purpose
        for n, doc in enumerate(docs, start=1):
            if doc is None:
                continue
            where = f"document {n}"
            if not isinstance(doc, dict):
                raise InputError(file, (where,), "a Kubernetes object (a mapping)", doc)
            items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
            if items is None:
                objects.append(doc)
                sources.append((str(file), (where,)))
                continue
            if not isinstance(items, list):
                raise InputError(file, (where, "items"), "a list of objects", items)
            for i, item in enumerate(items):
                if not isinstance(item, dict):
                    raise InputError(file, (where, "items", i), "a Kubernetes object (a mapping)", item)
                objects.append(item)
                sources.append((str(file), (where, "items", i)))
    return objects, sources
