"""The packages are layered as the data flows, and no layer imports one above it (function-level imports count).

    core, process     vocabulary and I/O; process plumbing
    kinds             the registry of Kubernetes kinds and accelerators
    catalog           jurisdictions, providers, regions (dated, sourced)
    stackconfig       stack files, validated against schema and catalog
    connectivity      the network-policy engine
    analyzer          the analyzer protocol: its model, config reconciliation, a pack process over gRPC
    render            the program under the mock runtime -> renders
    estate            a render read through the connectivity proof: egress, cross-border flows, placements
    check             the pack over renders or manifests -> the check report
    diff              two renders -> a residency diff
    register          one render -> the data-flow register of processing
    output            report formats for check, diff and reach
    evidence          signed, offline-verifiable evidence bundles of a stack
    cli               the commands

The policy pack (``policies/``) and the program (``infra/``) sit on top of the layers they need and nothing in
``sovereign`` imports them: ``sovereign check`` loads a pack from its directory (sovereign/check/direct_pack.py).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("core process", "kinds", "catalog", "stackconfig", "connectivity", "analyzer", "render", "estate", "check",
          "diff", "register", "output", "evidence", "cli")
RANK = {package: rank for rank, names in enumerate(LAYERS) for package in names.split()}
TOP_LEVEL = {"__init__", "__main__"}
"""Modules of ``sovereign`` itself (the entry point: ``python -m sovereign`` runs the cli)."""
ALLOWED_FOR = {
    "policies": RANK["analyzer"],
    "infra": RANK["stackconfig"],
}
"""The highest layer the pack and the program may import."""


def _modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((ROOT / package).rglob("*.py")):
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts), path


def _imports(path: Path) -> Iterator[tuple[int, str]]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            if node.module == "sovereign":
                for alias in node.names:
                    yield node.lineno, f"sovereign.{alias.name}"


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "sovereign" or len(parts) < 2:
        return None
    if parts[1] in TOP_LEVEL:
        return len(LAYERS)
    if parts[1] not in RANK:
        raise AssertionError(f"{module}: package sovereign.{parts[1]} has no layer; add it to LAYERS")
    return RANK[parts[1]]


def test_every_sovereign_module_belongs_to_a_layer() -> None:
    for module, _path in _modules("sovereign"):
        assert _layer(module) is not None, module


def test_no_layer_imports_one_above_it() -> None:
    upward = []
    for module, path in _modules("sovereign"):
        mine = _layer(module)
        assert mine is not None
        for line, imported in _imports(path):
            if imported.split(".")[0] in ("policies", "infra"):
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {imported} (sovereign never imports them)")
                continue
            theirs = _layer(imported)
            if theirs is not None and theirs > mine:
                upward.append(f"{path.relative_to(ROOT)}:{line} imports {imported} ({LAYERS[theirs]} is above "
                              f"{LAYERS[mine] if mine < len(LAYERS) else 'the entry point'})")
    assert upward == []


@pytest.mark.parametrize("package", sorted(ALLOWED_FOR))
def test_the_pack_and_the_program_import_only_the_layers_they_need(package: str) -> None:
    ceiling = ALLOWED_FOR[package]
    found = []
    for _module, path in _modules(package):
        for line, imported in _imports(path):
            theirs = _layer(imported)
            if theirs is not None and theirs > ceiling:
                found.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
    assert found == []


def test_a_planted_upward_import_is_found(tmp_path: Path) -> None:
    """The check itself can fail: an import of the cli from core is reported."""
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from sovereign.cli import main\n", encoding="utf-8")
    assert [imported for _line, imported in _imports(planted)] == ["sovereign.cli"]
    assert _layer("sovereign.cli") > _layer("sovereign.core.labels")  # type: ignore[operator]
