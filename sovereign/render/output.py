"""Writing renders: canonical bytes (``preview.json``, one YAML file per manifest), into the staging directory
of ``sovereign.render.staging``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sovereign.render.manifests import Manifest, dump_yaml

PREVIEW_FILE = "preview.json"
MANIFESTS_DIR = "manifests"


def canonical_json(doc: Any) -> str:
    """Sorted keys, 4-space indent (as ``pulumi preview --json``), trailing newline: byte-stable."""
    return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


def write_render(stack_dir: Path, preview: dict[str, Any], manifests: Iterable[Manifest]) -> None:
    write_preview(stack_dir, preview)
    writer = ManifestWriter(stack_dir)
    for manifest in manifests:
        writer.write(manifest)


def write_preview(stack_dir: Path, preview: dict[str, Any]) -> None:
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / PREVIEW_FILE).write_text(canonical_json(preview), encoding="utf-8")


class ManifestWriter:
    """Writes manifests under ``<stack_dir>/manifests/`` one at a time (by the worker, or by its helper
    while the program still runs)."""

    def __init__(self, stack_dir: Path) -> None:
        self._root = stack_dir / MANIFESTS_DIR
        self._root.mkdir(parents=True, exist_ok=True)  # present even for a stack without manifests
        self._made: set[Path] = {self._root}

    def write(self, manifest: Manifest) -> None:
        path = self._root / manifest.relative_path
        if path.parent not in self._made:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(path.parent)
        path.write_text(dump_yaml(manifest.obj), encoding="utf-8")
