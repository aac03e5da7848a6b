"""Reading a render back: ``<dir>/preview.json`` (+ ``manifests/``), for ``check`` and ``diff``.

Everything read is checked for shape; a foreign or damaged directory is bad input (file + key path), never a
crash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.core.errors import InputError
from sovereign.core.yamlio import read_text
from sovereign.render.output import PREVIEW_FILE
from sovereign.render.urns import ROOT_STACK_TYPE, split_provider_reference


@dataclass(frozen=True)
class Step:
    op: str
    urn: str
    type: str
    custom: bool
    inputs: dict[str, Any]
    parent: str
    provider: str
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]

    @property
    def name(self) -> str:
        return self.urn.split("::", 3)[-1]

    @property
    def provider_urn(self) -> str:
        return split_provider_reference(self.provider)[0] if self.provider else ""


@dataclass(frozen=True)
class RenderedStack:
    directory: Path
    stack: str
    project: str
    config: dict[str, str]
    steps: tuple[Step, ...]
    diagnostics: tuple[dict[str, str], ...]

    def step(self, urn: str) -> Step | None:
        for s in self.steps:
            if s.urn == urn:
                return s
        return None

    def kubernetes_objects(self) -> list[Step]:
        """Steps that carry a Kubernetes object (``apiVersion`` + ``kind`` in the inputs)."""
        return [
            s
            for s in self.steps
            if s.custom
            and s.type.startswith("kubernetes:")
            and isinstance(s.inputs.get("apiVersion"), str)
            and isinstance(s.inputs.get("kind"), str)
        ]


def _expect(cond: bool, path: Path, key: tuple[str | int, ...], expected: str, found: object) -> None:
    if not cond:
        raise InputError(path, key, expected, found)


def _step(path: Path, index: int, raw: Any) -> Step:
    key: tuple[str | int, ...] = ("steps", index)
    _expect(isinstance(raw, dict), path, key, "an object", raw)
    state = raw.get("newState")
    _expect(isinstance(state, dict), path, (*key, "newState"), "an object", state)
    for field in ("urn", "type"):
        _expect(
            isinstance(state.get(field), str) and state[field],
            path,
            (*key, "newState", field),
            "a non-empty string",
            state.get(field),
        )
    inputs = state.get("inputs", {})
    _expect(isinstance(inputs, dict), path, (*key, "newState", "inputs"), "an object", inputs)
    deps = state.get("dependencies", [])
    _expect(isinstance(deps, list), path, (*key, "newState", "dependencies"), "a list of URNs", deps)
    pdeps = state.get("propertyDependencies", {})
    _expect(isinstance(pdeps, dict), path, (*key, "newState", "propertyDependencies"), "an object", pdeps)
    return Step(
        op=str(raw.get("op", "")),
        urn=state["urn"],
        type=state["type"],
        custom=bool(state.get("custom", False)),
        inputs=inputs,
        parent=str(state.get("parent", "")),
        provider=str(state.get("provider", "")),
        dependencies=tuple(str(d) for d in deps),
        property_dependencies={str(k): tuple(str(u) for u in (v or [])) for k, v in pdeps.items()},
    )


def load_render(directory: Path) -> RenderedStack:
    """One stack's render directory (the one holding ``preview.json``)."""
    path = directory / PREVIEW_FILE
    if not path.is_file():
        raise InputError(path, (), "a preview.json written by `sovereign render`", found_text="no such file")
    try:
        doc = json.loads(read_text(path))
    except ValueError as exc:
        raise InputError(path, (), "valid JSON", found_text=str(exc)) from None
    _expect(isinstance(doc, dict), path, (), "an object", doc)
    steps_raw = doc.get("steps")
    _expect(isinstance(steps_raw, list), path, ("steps",), "a list of steps", steps_raw)
    steps = tuple(_step(path, i, s) for i, s in enumerate(steps_raw))
    config = doc.get("config", {})
    _expect(isinstance(config, dict), path, ("config",), "an object", config)
    diagnostics = doc.get("diagnostics", [])
    _expect(isinstance(diagnostics, list), path, ("diagnostics",), "a list", diagnostics)
    root = next((s for s in steps if s.type == ROOT_STACK_TYPE), None)
    _expect(root is not None, path, ("steps",), "a pulumi:pulumi:Stack step", "none")
    assert root is not None
    stack, project = root.urn.split("::")[0].removeprefix("urn:pulumi:"), root.urn.split("::")[1]
    return RenderedStack(
        directory=directory,
        stack=stack,
        project=project,
        config={str(k): str(v) for k, v in config.items()},
        steps=steps,
        diagnostics=tuple(d for d in diagnostics if isinstance(d, dict)),
    )


def find_renders(directory: Path) -> list[Path]:
    """``directory`` itself if it holds a preview.json, else its sub-directories that do (sorted)."""
    if (directory / PREVIEW_FILE).is_file():
        return [directory]
    if not directory.is_dir():
        raise InputError(directory, (), "a render directory", found_text="no such directory")
    found = sorted(p for p in directory.iterdir() if (p / PREVIEW_FILE).is_file())
    if not found:
        raise InputError(directory, (), "a directory of stack renders (<stack>/preview.json)", found_text="none")
    return found
