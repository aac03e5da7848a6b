"""Smoke tests of the benchmark harness (no timing asserted): measurement fields, verdict logic, the fleet's
stacks going through the real program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
import fleet  # noqa: E402
import run_all  # noqa: E402
from measure import run_measured  # noqa: E402


def test_run_measured_reports_exit_code_output_and_memory() -> None:
    m = run_measured([sys.executable, "-c", "import sys; b = bytearray(30 * 2**20); print('hi'); sys.exit(3)"])
    assert m.returncode == 3
    assert m.stdout.strip() == "hi"
    assert m.wall_s > 0
    assert m.tree_peak_mb >= m.max_rss_mb > 30


def test_verdicts_pass_and_fail_against_the_targets() -> None:
    results = {
        "render": [
            {
                "ratio_wall": 1.2,
                "ratio_cpu": 1.1,
                "resources": 500,
                "render_ms_per_resource": 1.2,
                "floor_ms_per_resource": 1.0,
            }
        ],
        "check": [
            {"objects": 250, "speedup_wall": 20.0, "sovereign": {"wall_s": 0.2}, "checkov": {"wall_s": 4.0}},
            {"objects": 1251, "speedup_wall": 3.0, "sovereign": {"wall_s": 5.0}, "checkov": {"wall_s": 15.0}},
        ],
        "fleet": {
            "stacks": 50,
            "jobs": 2,
            "wall_s": 301.0,
            "render_wall_s": 250.0,
            "check_wall_s": 51.0,
            "resources": 50000,
        },
    }
    verdicts = run_all.verdicts(results)
    assert [v["pass"] for v in verdicts] == [True, False, False]
    assert "1251 objects" in verdicts[1]["measured"]  # the row nearest to 1,250 is judged
    results["fleet"].update(wall_s=200.0, check_error="exit 1: OSError: [Errno 7] Argument list too long")
    fleet_verdict = run_all.verdicts(results)[2]
    assert not fleet_verdict["pass"]  # fast, but the check never finished
    assert "Argument list too long" in fleet_verdict["measured"]


def test_checkov_summary_line_is_parsed() -> None:
    assert run_all._checkov_counts("...\nPassed checks: 1008, Failed checks: 72, Skipped checks: 0\n") == {
        "passed": 1008,
        "failed": 72,
    }
    assert run_all._checkov_counts("nothing") == {}


def test_generated_stack_renders_through_the_program(tmp_path: Path) -> None:
    gen = fleet.generate(
        tmp_path / "fleet", fleet.FleetShape(1, 2, 3), with_manifests=False, at=fleet.evaluation_time(run_all.AT)
    )
    env = run_all.sovereign_env(gen.root)
    proc = subprocess.run(
        [*run_all.SOVEREIGN, "render", gen.stacks[0], "--out", str(tmp_path / "out")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    match = run_all._RENDER_LINE.match(proc.stdout.splitlines()[0])
    assert match and int(match["resources"]) > 0
    assert "0 schema errors" in proc.stdout
    assert os.listdir(tmp_path / "out" / gen.stacks[0] / "manifests")
