"""``sovereign check`` and ``diff`` on a machine with an idle core hand work to a helper (the manifest parse helper);
their reports must be byte-identical to those of a run confined to one core, and to ``--no-helpers``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import AT, REPO
from manifest_samples import write_manifests

import sovereign.check.manifest_parse_helper as parse_helper

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs two usable cores for the helpers to start",
)


def _run(args: list[str], *, one_core: bool) -> int:
    first_core = min(os.sched_getaffinity(0))
    env = dict(os.environ)
    env.pop("SOVEREIGN_ROOT", None)
    done = subprocess.run(
        [sys.executable, "-m", "sovereign", *args],
        cwd=REPO, env=env, capture_output=True, timeout=600, check=False,
        preexec_fn=(lambda: os.sched_setaffinity(0, {first_core})) if one_core else None,  # noqa: PLW1509
    )
    assert done.returncode in (0, 1), done.stderr
    return done.returncode


def _check(out: Path, *args: str, one_core: bool) -> tuple[int, bytes]:
    code = _run(["check", *args, "--format", "json", "--output", str(out)], one_core=one_core)
    return code, out.read_bytes()


def test_manifest_check_reports_are_byte_identical_on_one_core_and_two(tmp_path: Path) -> None:
    root = write_manifests(tmp_path / "m", count=parse_helper.MIN_HELPER_FILES + 6)
    alone = _check(tmp_path / "alone.json", "--manifests", str(root), "--at", AT, one_core=True)
    helped = _check(tmp_path / "helped.json", "--manifests", str(root), "--at", AT, one_core=False)
    assert alone == helped and b'"resources": ' in alone[1]


def test_stack_check_reports_are_byte_identical_on_one_core_and_two(tmp_path: Path) -> None:
    common = ("cn-prod", "--at", AT, "--render-dir", str(tmp_path / "out"))
    alone = _check(tmp_path / "alone.json", *common, one_core=True)
    helped = _check(tmp_path / "helped.json", *common, "--no-render", one_core=False)
    assert alone == helped and b'"resources": ' in alone[1]


def test_diff_reports_are_byte_identical_on_one_core_and_two(tmp_path: Path) -> None:
    """``sovereign diff`` runs the pack on both sides one after the other, each with the idle core's help."""
    out = tmp_path / "out"
    _check(tmp_path / "render.json", "cn-prod", "--at", AT, "--render-dir", str(out), one_core=True)
    reports = []
    for one_core in (True, False):
        report = tmp_path / f"diff-{one_core}.json"
        _run(["diff", str(out), str(out), "--format", "json", "--at", AT, "--output", str(report)], one_core=one_core)
        reports.append(report.read_bytes())
    assert reports[0] == reports[1] and b'"policy' in reports[0]


def test_no_helpers_gives_the_same_report(tmp_path: Path) -> None:
    root = write_manifests(tmp_path / "m", count=parse_helper.MIN_HELPER_FILES + 6)
    helped = _check(tmp_path / "helped.json", "--manifests", str(root), "--at", AT, one_core=False)
    alone = _check(tmp_path / "alone.json", "--manifests", str(root), "--at", AT, "--no-helpers", one_core=False)
    assert alone == helped and b'"resources": ' in alone[1]
