"""render, check and diff are byte-identical across runs and across PYTHONHASHSEED values.

Each configuration runs in its own working directory with the same relative paths, as separate processes:
PYTHONHASHSEED=0 twice (run-to-run) and PYTHONHASHSEED=123 (hash-order independence)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from e2e_support import ROOT, command_available, run_cli, tree_bytes

CONFIGS = (("seed0-a", "0"), ("seed0-b", "0"), ("seed123", "123"))
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")
VECTOR = ROOT / "tests" / "redteam" / "vectors" / "world-with-except" / "leak"
ACTIVE, EXPIRED = "2026-12-01", "2027-03-01"


def _produce(workdir: Path, seed: str) -> dict[str, bytes]:
    env = {"PYTHONHASHSEED": seed, "SOVEREIGN_ROOT": str(ROOT)}  # the work directory is outside the project

    def run(*args: str) -> None:
        result = run_cli(list(args), env=env, cwd=workdir)
        assert result.code in (0, 1), (args, result.stderr[-3000:])

    shutil.copytree(VECTOR, workdir / "manifests")
    run("render", "cn-prod", "--out", "base", "--at", ACTIVE)
    run("render", "cn-prod", "--out", "head", "--at", EXPIRED)
    for fmt in ("json", "markdown"):
        run("check", "--render-dir", "base", "--at", EXPIRED, "--format", fmt,
            "--output", f"reports/check-render.{fmt}")
    for fmt in FORMATS:
        # Every report states its evaluation time: the same --at, the same bytes.
        run("check", "--manifests", "manifests", "--jurisdiction", "cn", "--at", ACTIVE, "--format", fmt,
            "--output", f"reports/check-manifests.{fmt}")
    if command_available("diff"):
        for fmt in ("markdown", "json"):
            run("diff", "base", "head", "--at", EXPIRED, "--format", fmt, "--output", f"reports/diff.{fmt}")
    return tree_bytes(workdir)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    dirs = {name: tmp_path_factory.mktemp(name) for name, _ in CONFIGS}
    with ThreadPoolExecutor(max_workers=len(CONFIGS)) as pool:
        results = list(pool.map(lambda c: _produce(dirs[c[0]], c[1]), CONFIGS))
    return {name: result for (name, _), result in zip(CONFIGS, results, strict=True)}


def _compare(a: dict[str, bytes], b: dict[str, bytes], label: str) -> None:
    assert sorted(a) == sorted(b), f"{label}: different file sets"
    differing = [name for name in sorted(a) if a[name] != b[name]]
    assert not differing, f"{label}: {len(differing)} file(s) differ, e.g. {differing[:8]}"


def test_every_output_is_produced(outputs: dict[str, dict[str, bytes]]) -> None:
    files = outputs["seed0-a"]
    assert any(name.startswith("base/cn-prod/manifests/") for name in files)
    assert "base/cn-prod/preview.json" in files
    for fmt in FORMATS:
        assert files[f"reports/check-manifests.{fmt}"].strip(), fmt
    if command_available("diff"):
        assert files["reports/diff.json"].strip()


def test_byte_identical_across_runs(outputs: dict[str, dict[str, bytes]]) -> None:
    _compare(outputs["seed0-a"], outputs["seed0-b"], "two runs with PYTHONHASHSEED=0")


def test_byte_identical_across_hash_seeds(outputs: dict[str, dict[str, bytes]]) -> None:
    _compare(outputs["seed0-a"], outputs["seed123"], "PYTHONHASHSEED=0 vs 123")
