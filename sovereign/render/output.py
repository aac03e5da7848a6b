"""Writing renders: canonical bytes (``preview.json``, one YAML file per manifest), into the staging directory
of ``sovereign.render.staging``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from sovereign.render.manifests import Manifest, dump_yaml

PREVIEW_FILE = "preview.json"
MANIFESTS_DIR = "manifests"


def canonical_json(doc: Any) -> str:
    """Sorted keys, 4-space indent (as ``pulumi preview --json``), trailing newline: byte-stable."""
    return json.dumps(doc, indent=4, sort_keys=True, ensure_ascii=False) + "\n"


STEP_INDENT = " " * 8
"""Where a step sits in ``preview.json``: an item of ``steps``, itself a key of the document (two levels)."""


def indented_step(step: Any) -> str:
    """A step's text exactly as ``canonical_json`` writes it inside a preview (json's indentation only adds)."""
    text = json.dumps(step, indent=4, sort_keys=True, ensure_ascii=False)
    return "\n".join(STEP_INDENT + line for line in text.split("\n"))


def preview_text(document: dict[str, Any], step_texts: list[str]) -> str:
    """``canonical_json`` of ``document`` with ``steps`` made of already encoded steps (``indented_step``): the
    worker encodes them while its manifest helper catches up, before the schema problems complete the document."""
    if not step_texts:
        return canonical_json({**document, "steps": []})
    marker = f"sovereign-steps-{uuid.uuid4().hex}"
    skeleton = canonical_json({**document, "steps": [marker]})
    placeholder = f'{STEP_INDENT}"{marker}"'
    if skeleton.count(placeholder) != 1:  # cannot happen with a fresh random marker; never guess
        raise ValueError("the preview skeleton does not hold exactly one steps placeholder")
    return skeleton.replace(placeholder, ",\n".join(step_texts))


def write_preview_text(stack_dir: Path, text: str) -> None:
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / PREVIEW_FILE).write_text(text, encoding="utf-8")


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
