"""All benchmarks, side by side with what users would run instead, measured in one run on one machine.

1. render: ``sovereign render`` time per resource against the floor, a bare program that registers the same
   number of ConfigMaps under the SDK's mock runtime (``bench/mock_floor.py``), both in fresh processes;
2. check: ``sovereign check --manifests DIR`` (policy pack + connectivity proof) against
   ``checkov -d DIR --framework kubernetes`` on the same plain manifests (250 / 1,250 / 5,000 objects), wall
   time and peak memory;
3. connectivity: ``bench/connectivity_bench.py`` (owned by the connectivity engine) against
   network-config-analyzer at 1k and 3k pods;
4. fleet: 50 stacks x 200 workloads rendered and checked with ``sovereign check --all --jobs 2``.

Then PASS/FAIL per target. ``--quick`` runs a small subset (smoke test); ``--repeat N`` takes medians of N runs.
Figures go to stdout and, with ``--json FILE``, to a JSON file.

Usage: ``.venv/bin/python bench/run_all.py [--quick] [--repeat 3] [--only render,check,connectivity,fleet]``
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

import fleet  # noqa: E402
from checkov_venv import CHECKOV_VERSION, ensure_checkov  # noqa: E402
from measure import Measurement, run_measured  # noqa: E402

from sovereign.render.runner import stack_dir_name  # noqa: E402

PYTHON = sys.executable
SOVEREIGN = [PYTHON, "-m", "sovereign"]
AT = "2026-11-25T12:00:00Z"
"""Fixed evaluation time: transfers in the generated fleet are valid then, and runs are comparable."""

RENDER_TARGET = 1.3
CHECKOV_SPEEDUP_TARGET = 15.0
CHECKOV_TARGET_OBJECTS = 1250
SMALL_SPEEDUP_TARGET = 10.0
SMALL_INPUT_MAX_OBJECTS = 60
"""Small real-world inputs (15-60 objects: one app's manifests), where start-up dominates."""
FLEET_TARGET_S = 300.0

CHECK_SIZES = (30, 250, 1250, 5000)
RENDER_WORKLOADS = (10, 20)
"""Workloads per namespace (10 namespaces) of the render series: about 500 and 1,000 resources. 10 x 20 = 200
workloads is near the largest stack whose config fits the 128 KiB PULUMI_CONFIG limit (10 x 40 does not: `pulumi
up` could not start it, so render refuses it)."""
FLEET_SHAPE = fleet.FleetShape(stacks=50, namespaces=10, workloads=20)

QUICK_CHECK_SIZES = (250,)
QUICK_RENDER_WORKLOADS = (10,)
QUICK_FLEET_SHAPE = fleet.FleetShape(stacks=4, namespaces=4, workloads=5)


# --------------------------------------------------------------------------------------------- plumbing

PROJECT_PACKAGES = ("sovereign", "infra", "policies")


def byte_compile_project() -> None:
    """Byte-compile the project's packages, as pip does for every package it installs (Checkov's included).

    The project is installed editable, so pip compiles nothing of it; where ``PYTHONDONTWRITEBYTECODE`` is set
    (as on our CI machines) every measured process would otherwise recompile every module it imports (~0.25 s
    per command). ``make check`` and ``make bench`` do the same (Makefile, target ``bytecode``).
    """
    import compileall

    for package in PROJECT_PACKAGES:
        if not compileall.compile_dir(str(ROOT / package), quiet=1):
            raise RuntimeError(f"byte-compiling {package} failed")


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "checkov": CHECKOV_VERSION,
    }


def load_now() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


@dataclass
class Series:
    """Repeated measurements of one command; figures are medians."""

    label: str
    runs: list[Measurement] = field(default_factory=list)
    """The timed runs (no memory sampler)."""
    memory: Measurement | None = None
    """One more run with the process-tree memory sampler, for the memory figures."""

    @property
    def wall(self) -> float:
        return statistics.median(m.wall_s for m in self.runs)

    @property
    def cpu(self) -> float:
        return statistics.median(m.cpu_s for m in self.runs)

    @property
    def rss(self) -> float:
        return self.memory.max_rss_mb if self.memory is not None else statistics.median(m.max_rss_mb for m in self.runs)

    @property
    def tree(self) -> float:
        if self.memory is not None:
            return self.memory.tree_peak_mb
        return statistics.median(m.tree_peak_mb for m in self.runs)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "runs": len(self.runs),
            "wall_s": round(self.wall, 3),
            "wall_s_all": [round(m.wall_s, 3) for m in self.runs],
            "cpu_s": round(self.cpu, 3),
            "max_rss_mb": round(self.rss, 1),
            "tree_peak_mb": round(self.tree, 1),
        }


def repeat(label: str, times: int, fn: Callable[..., Measurement], ok: Callable[[Measurement], bool]) -> Series:
    """``times`` timed runs of ``fn(sample_tree=False)``, then one ``fn(sample_tree=True)`` for the memory figures
    (the sampler's own CPU use would otherwise be counted against a command that keeps both cores busy)."""
    series = Series(label)
    for i in range(times + 1):
        sampled = i == times
        m = fn(sample_tree=sampled)
        if not ok(m):
            raise RuntimeError(
                f"{label}: run {i + 1} failed (exit {m.returncode}):\n{m.stderr[-3000:]}\n{m.stdout[-2000:]}"
            )
        if sampled:
            series.memory = m
            log(f"  {label}: memory run {m.wall_s:.2f} s wall, {m.tree_peak_mb:.0f} MB (process tree)")
        else:
            series.runs.append(m)
            log(f"  {label}: {m.wall_s:.2f} s wall, {m.cpu_s:.2f} s cpu, {m.max_rss_mb:.0f} MB (largest process)")
    return series


def plain_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def sovereign_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["SOVEREIGN_ROOT"] = str(root)
    env["SOVEREIGN_AT"] = AT
    env.pop("PYTHONPATH", None)
    return env


# ------------------------------------------------------------------------------------------------ render


_RENDER_LINE = re.compile(r"^(?P<stack>\S+): (?P<resources>\d+) resources, (?P<manifests>\d+) manifests")


def bench_render(work: Path, workloads: Sequence[int], times: int) -> list[dict[str, Any]]:
    """``sovereign render`` of one generated stack vs the mock floor registering as many resources."""
    rows = []
    floor_env = plain_env()
    for k in workloads:
        shape = fleet.FleetShape(stacks=1, namespaces=10, workloads=k)
        gen = fleet.generate(work / f"render-{k}", shape, with_manifests=False, at=fleet.evaluation_time(AT))
        env = sovereign_env(gen.root)
        out = work / f"render-{k}" / "out"
        stack = gen.stacks[0]

        def render(out: Path = out, env: dict[str, str] = env, stack: str = stack, sample_tree: bool = True
                   ) -> Measurement:
            return run_measured([*SOVEREIGN, "render", stack, "--out", str(out), "--jobs", "1"], env=env, cwd=work,
                                sample_tree=sample_tree)

        log(f"render: {stack} ({shape.workloads_per_stack} workloads)")
        series = repeat(f"render {stack}", times, render, lambda m: m.returncode == 0)
        match = next((m for line in series.runs[0].stdout.splitlines() if (m := _RENDER_LINE.match(line))), None)
        if match is None:
            raise RuntimeError(f"render printed no summary line:\n{series.runs[0].stdout}")
        resources = int(match["resources"])
        floor = repeat(
            f"mock floor {resources} ConfigMaps",
            times,
            functools.partial(run_measured, [PYTHON, str(BENCH / "mock_floor.py"), str(resources)], env=floor_env),
            lambda m: m.returncode == 0,
        )
        kinds = repeat(
            f"mock floor {resources} parented Deployments",
            times,
            functools.partial(
                run_measured,
                [PYTHON, str(BENCH / "mock_floor.py"), str(resources), "--kind", "deployment", "--parented"],
                env=floor_env,
            ),
            lambda m: m.returncode == 0,
        )
        replayed = repeat(
            f"mock floor replaying the render's {resources} registrations",
            times,
            functools.partial(
                run_measured,
                [PYTHON, str(BENCH / "mock_floor.py"), "--replay", str(out / stack_dir_name(stack) / "preview.json")],
                env=floor_env,
            ),
            lambda m: m.returncode == 0,
        )
        rows.append(
            {
                "stack": stack,
                "floor_replay": replayed.summary(),
                "floor_replay_ms_per_resource": round(1000 * replayed.wall / resources, 2),
                "ratio_wall_vs_replay": round(series.wall / replayed.wall, 2),
                "ratio_cpu_vs_replay": round(series.cpu / replayed.cpu, 2),
                "floor_deployments": kinds.summary(),
                "floor_deployments_ms_per_resource": round(1000 * kinds.wall / resources, 2),
                "ratio_wall_vs_deployments": round(series.wall / kinds.wall, 2),
                "floor_deployments_cpu_ms_per_resource": round(1000 * kinds.cpu / resources, 2),
                "ratio_cpu_vs_deployments": round(series.cpu / kinds.cpu, 2),
                "workloads": shape.workloads_per_stack,
                "resources": resources,
                "manifests": int(match["manifests"]),
                "render": series.summary(),
                "floor": floor.summary(),
                "render_ms_per_resource": round(1000 * series.wall / resources, 2),
                "floor_ms_per_resource": round(1000 * floor.wall / resources, 2),
                "render_cpu_ms_per_resource": round(1000 * series.cpu / resources, 2),
                "floor_cpu_ms_per_resource": round(1000 * floor.cpu / resources, 2),
                "ratio_wall": round(series.wall / floor.wall, 2),
                "ratio_cpu": round(series.cpu / floor.cpu, 2),
            }
        )
    return rows


# ------------------------------------------------------------------------------------------------- check


def bench_check(work: Path, sizes: Sequence[int], times: int) -> list[dict[str, Any]]:
    """``sovereign check --manifests`` vs ``checkov -d`` on the same directory of plain manifests."""
    checkov = ensure_checkov(log=log)
    env = sovereign_env(ROOT)
    ck_env = plain_env()
    rows = []
    for target in sizes:
        shape = fleet.shape_for_objects(target)
        gen = fleet.generate(work / f"check-{target}", shape, at=fleet.evaluation_time(AT))
        directory = gen.manifests / gen.stacks[0]
        objects = len(list(directory.glob("*.yaml")))
        report = work / f"check-{target}" / "report.json"
        log(f"check: {objects} objects ({shape})")
        ours = repeat(
            f"sovereign check {objects} objects",
            times,
            functools.partial(
                run_measured,
                [*SOVEREIGN, "check", "--manifests", str(directory), "--format", "json", "--output", str(report)],
                env=env,
                cwd=work,
            ),
            lambda m: m.returncode in (0, 1),  # 1 = violations found (undeclared transfers in plain manifests)
        )
        findings = _sovereign_findings(report)
        grpc_report = work / f"check-{target}" / "report-grpc.json"
        over_grpc = repeat(
            f"sovereign check {objects} objects --pack-transport grpc",
            times,
            functools.partial(
                run_measured,
                [*SOVEREIGN, "check", "--manifests", str(directory), "--format", "json", "--output", str(grpc_report),
                 "--pack-transport", "grpc"],
                env=env,
                cwd=work,
            ),
            lambda m: m.returncode in (0, 1),
        )
        if grpc_report.read_bytes() != report.read_bytes():
            raise RuntimeError(f"check reports differ between the in-process and gRPC transports: {report}")
        theirs = repeat(
            f"checkov {objects} objects",
            times,
            functools.partial(
                run_measured,
                [str(checkov), "-d", str(directory), "--framework", "kubernetes", "--skip-download", "--compact"],
                env=ck_env,
                cwd=work,
            ),
            lambda m: m.returncode in (0, 1),  # 1 = failed checks
        )
        rows.append(
            {
                "objects": objects,
                "shape": asdict(shape),
                "sovereign": ours.summary(),
                "sovereign_violations": findings,
                "checkov": theirs.summary(),
                "checkov_results": _checkov_counts(theirs.runs[0].stdout),
                "speedup_wall": round(theirs.wall / ours.wall, 2),
                "sovereign_grpc": over_grpc.summary(),
                "speedup_wall_grpc": round(theirs.wall / over_grpc.wall, 2),
                "memory_ratio": round(theirs.tree / ours.tree, 2) if ours.tree else None,
            }
        )
    return rows


def _report_summary(report: Path) -> dict[str, Any]:
    """``summary`` of a ``sovereign check --format json`` report (violations, resources, per stack)."""
    try:
        doc = json.loads(report.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    summary = doc.get("summary") if isinstance(doc, dict) else None
    return summary if isinstance(summary, dict) else {}


def _sovereign_findings(report: Path) -> int | None:
    value = _report_summary(report).get("violations")
    return value if isinstance(value, int) else None


def _checkov_counts(stdout: str) -> dict[str, int]:
    match = re.search(r"Passed checks: (\d+), Failed checks: (\d+)", stdout)
    return {"passed": int(match[1]), "failed": int(match[2])} if match else {}


# ------------------------------------------------------------------------------------------ connectivity


def bench_connectivity(sizes: Sequence[int], times: int) -> list[dict[str, Any]]:
    """Run the connectivity helper's benchmark (it owns the cluster generator and the NCA comparison)."""
    script = BENCH / "connectivity_bench.py"
    if not script.is_file():
        log("connectivity: bench/connectivity_bench.py not present; skipped")
        return []
    argv = [PYTHON, str(script), "--sizes", ",".join(str(s) for s in sizes), "--repeat", str(times)]
    log(f"connectivity: {' '.join(argv[1:])}")
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise RuntimeError(f"connectivity_bench.py failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rows = []
    for line in proc.stdout.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        # Size rows carry "total_s"; other lines (a worst-case scenario, target verdicts) are not size rows.
        if isinstance(doc, dict) and "pods" in doc and "total_s" in doc:
            rows.append(doc)
    return rows


# ------------------------------------------------------------------------------------------------- fleet


def bench_fleet(work: Path, shape: fleet.FleetShape, jobs: int) -> dict[str, Any]:
    """Render, then check, every stack of a generated fleet, ``jobs`` stacks at a time.

    Two commands (``sovereign render --all`` then ``sovereign check --all --no-render``) so the two costs are
    reported apart; ``sovereign check --all`` alone does the same work in one command.
    """
    gen = fleet.generate(work / "fleet", shape, with_manifests=False, at=fleet.evaluation_time(AT))
    env = sovereign_env(gen.root)
    out = work / "fleet" / "out"
    report = work / "fleet" / "report.json"
    log(f"fleet: {shape.stacks} stacks x {shape.workloads_per_stack} workloads, --jobs {jobs}")
    render = run_measured(
        [*SOVEREIGN, "render", "--all", "--out", str(out), "--jobs", str(jobs)], env=env, cwd=work, timeout=3 * 3600
    )
    if render.returncode != 0:
        raise RuntimeError(f"fleet render failed ({render.returncode}):\n{render.stderr[-3000:]}")
    resources = sum(int(m["resources"]) for line in render.stdout.splitlines() if (m := _RENDER_LINE.match(line)))
    log(f"  fleet render: {render.wall_s:.1f} s wall, {render.cpu_s:.1f} s cpu, {resources} resources")
    check = run_measured(
        [*SOVEREIGN, "check", "--all", "--render-dir", str(out), "--no-render", "--jobs", str(jobs)]
        + ["--format", "json", "--output", str(report)],
        env=env,
        cwd=work,
        timeout=3 * 3600,
    )
    row: dict[str, Any] = {
        "stacks": shape.stacks,
        "workloads_per_stack": shape.workloads_per_stack,
        "jobs": jobs,
        "resources": resources,
        "render_wall_s": round(render.wall_s, 1),
        "render_cpu_s": round(render.cpu_s, 1),
        "check_wall_s": round(check.wall_s, 1),
        "check_cpu_s": round(check.cpu_s, 1),
        "wall_s": round(render.wall_s + check.wall_s, 1),
        "cpu_s": round(render.cpu_s + check.cpu_s, 1),
        "tree_peak_mb": round(max(render.tree_peak_mb, check.tree_peak_mb), 1),
    }
    summary = _report_summary(report)
    if check.returncode not in (0, 1) or not summary:
        # Exit 1 without a report is a crash (Python's status for an uncaught exception), not violations.
        tail = check.stderr.strip().splitlines()[-1:] or ["no output"]
        row["check_error"] = f"exit {check.returncode}: {tail[0][:300]}"
        log(f"  fleet check FAILED: {row['check_error']}")
    else:
        row["violations"] = summary.get("violations")
        log(f"  fleet check: {check.wall_s:.1f} s wall, {check.cpu_s:.1f} s cpu")
    return row


# ----------------------------------------------------------------------------------------------- targets


def verdicts(results: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    render = results.get("render") or []
    if render:
        worst = max(render, key=lambda r: r["ratio_wall"])
        out.append(
            {
                "target": f"render overhead <= {RENDER_TARGET}x the bare mock registration",
                "measured": f"{worst['ratio_wall']}x wall ({worst['ratio_cpu']}x CPU) at "
                f"{worst['resources']} resources: {worst['render_ms_per_resource']} vs "
                f"{worst['floor_ms_per_resource']} ms/resource",
                "pass": worst["ratio_wall"] <= RENDER_TARGET,
            }
        )
    check = results.get("check") or []
    if check:
        row = min(check, key=lambda r: abs(r["objects"] - CHECKOV_TARGET_OBJECTS))
        out.append(
            {
                "target": f"check of {CHECKOV_TARGET_OBJECTS:,} objects >= {CHECKOV_SPEEDUP_TARGET}x faster "
                "than Checkov",
                "measured": f"{row['speedup_wall']}x at {row['objects']} objects: sovereign "
                f"{row['sovereign']['wall_s']} s vs Checkov {row['checkov']['wall_s']} s",
                "pass": row["speedup_wall"] >= CHECKOV_SPEEDUP_TARGET,
            }
        )
        for small in (r for r in check if r["objects"] <= SMALL_INPUT_MAX_OBJECTS):
            out.append(
                {
                    "target": f"check of a small input (<= {SMALL_INPUT_MAX_OBJECTS} objects) >= "
                    f"{SMALL_SPEEDUP_TARGET}x faster than Checkov",
                    "measured": f"{small['speedup_wall']}x at {small['objects']} objects: sovereign "
                    f"{small['sovereign']['wall_s']} s vs Checkov {small['checkov']['wall_s']} s",
                    "pass": small["speedup_wall"] >= SMALL_SPEEDUP_TARGET,
                }
            )
    fleet_row = results.get("fleet")
    if fleet_row:
        out.append(
            {
                "target": f"{fleet_row['stacks']}-stack fleet rendered and checked in <= {FLEET_TARGET_S:.0f} s "
                f"on {fleet_row['jobs']} jobs",
                "measured": f"{fleet_row['wall_s']} s = render {fleet_row['render_wall_s']} s + check "
                f"{fleet_row['check_wall_s']} s ({fleet_row['resources']} resources)"
                + (f"; check did not complete: {fleet_row['check_error']}" if fleet_row.get("check_error") else ""),
                "pass": fleet_row["wall_s"] <= FLEET_TARGET_S and not fleet_row.get("check_error"),
            }
        )
    return out


# -------------------------------------------------------------------------------------------------- main


def print_summary(results: dict[str, Any]) -> None:
    p = print
    mach = results["machine"]
    p(f"machine: {mach['nproc']} cores, {mach['cpu']}, {mach['memory_gib']} GiB, Python {mach['python']}")
    p(
        f"started {results['started']} (load {results['load_start']}), finished {results['finished']} "
        f"(load {results['load_end']}); medians of {results['repeat']} run(s)"
    )
    if results.get("render"):
        p("\nrender vs bare mock registration (fresh process each; wall | CPU per resource)")
        for r in results["render"]:
            p(
                f"  {r['resources']:>6} resources: render {r['render_ms_per_resource']:>6} ms | "
                f"{r['render_cpu_ms_per_resource']:>6} ms   floor {r['floor_ms_per_resource']:>6} ms | "
                f"{r['floor_cpu_ms_per_resource']:>6} ms   ratio {r['ratio_wall']}x wall, {r['ratio_cpu']}x CPU"
            )
            p(
                f"  {'':>6}            same count of parented Deployments (SDK alias work): "
                f"{r['floor_deployments_ms_per_resource']} ms | {r.get('floor_deployments_cpu_ms_per_resource')} ms "
                f"-> render is {r['ratio_wall_vs_deployments']}x wall, {r.get('ratio_cpu_vs_deployments')}x CPU"
            )
            if "floor_replay_ms_per_resource" in r:
                p(
                    f"  {'':>6}            the render's own registrations replayed bare (the SDK's cost of exactly "
                    f"these resources): {r['floor_replay_ms_per_resource']} ms -> render is "
                    f"{r['ratio_wall_vs_replay']}x wall, {r['ratio_cpu_vs_replay']}x CPU"
                )
    if results.get("check"):
        p("\ncheck (policy pack + connectivity proof) vs Checkov on the same manifests")
        for r in results["check"]:
            s, c = r["sovereign"], r["checkov"]
            p(
                f"  {r['objects']:>6} objects: sovereign {s['wall_s']:>7} s {s['tree_peak_mb']:>6.0f} MB   "
                f"checkov {c['wall_s']:>7} s {c['tree_peak_mb']:>6.0f} MB   {r['speedup_wall']}x faster"
            )
            if r.get("sovereign_grpc"):
                g = r["sovereign_grpc"]
                p(
                    f"  {'':>6}          same check over gRPC (--pack-transport grpc, the CLI's transport): "
                    f"{g['wall_s']} s, {g['tree_peak_mb']:.0f} MB -> {r['speedup_wall_grpc']}x faster than Checkov"
                )
    if results.get("connectivity"):
        p("\nconnectivity proof vs network-config-analyzer")
        for r in results["connectivity"]:
            nca = f"NCA {r['nca_s']} s ({r['nca_over_ours']}x)" if "nca_s" in r else "NCA not run"
            p(f"  {r['pods']:>6} pods: {r['total_s']} s, {r.get('peak_rss_mib')} MiB   {nca}")
    if results.get("fleet"):
        f = results["fleet"]
        p(
            f"\nfleet: {f['stacks']} stacks x {f['workloads_per_stack']} workloads ({f['resources']} resources), "
            f"--jobs {f['jobs']}: {f['wall_s']} s wall, {f['cpu_s']} s CPU (render {f['render_wall_s']} s wall, "
            f"{f['render_cpu_s']} s CPU; check {f['check_wall_s']} s wall, {f['check_cpu_s']} s CPU), "
            f"{f['tree_peak_mb']:.0f} MB peak" + (f"; CHECK FAILED: {f['check_error']}" if f.get("check_error") else "")
        )
    p("\ntargets")
    for v in results["verdicts"]:
        p(f"  {'PASS' if v['pass'] else 'FAIL'}  {v['target']}: {v['measured']}")


def markdown(results: dict[str, Any]) -> str:
    """The figures as Markdown tables (pasted into docs/benchmarks.md between its FIGURES markers)."""
    mach = results["machine"]
    lines = [
        f"Measured {results['started']} to {results['finished']} UTC on {mach['nproc']} cores ({mach['cpu']}), "
        f"{mach['memory_gib']} GiB, Python {mach['python']}, Checkov {mach['checkov']}; load average "
        f"{results['load_start']} at the start, {results['load_end']} at the end; medians of "
        f"{results['repeat']} run(s) unless noted.",
        "",
    ]
    if results.get("render"):
        lines += [
            "| resources | render ms/res (wall, CPU) | ConfigMap floor ms/res (wall, CPU) | ratio wall, CPU "
            "| parented-Deployment floor ms/res (wall, CPU) | render / that (wall, CPU) "
            "| replay floor ms/res (wall) | render / replay (wall, CPU) |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["render"]:
            lines.append(
                f"| {r['resources']:,} | {r['render_ms_per_resource']}, {r['render_cpu_ms_per_resource']} "
                f"| {r['floor_ms_per_resource']}, {r['floor_cpu_ms_per_resource']} "
                f"| {r['ratio_wall']}x, {r['ratio_cpu']}x | {r['floor_deployments_ms_per_resource']}, "
                f"{r.get('floor_deployments_cpu_ms_per_resource', '?')} | {r['ratio_wall_vs_deployments']}x, "
                f"{r.get('ratio_cpu_vs_deployments', '?')}x | {r.get('floor_replay_ms_per_resource', '?')} "
                f"| {r.get('ratio_wall_vs_replay', '?')}x, {r.get('ratio_cpu_vs_replay', '?')}x |"
            )
        lines.append("")
    if results.get("check"):
        lines += [
            "| objects | sovereign check s (CPU s) | peak MB (tree) | over gRPC s (CPU s) | Checkov s (CPU s) "
            "| peak MB (tree) | Checkov / sovereign (in-process, gRPC) | findings (sovereign; Checkov failed/passed) |",
            "|---:|---:|---:|---:|---:|---:|---:|---|",
        ]
        for r in results["check"]:
            s_, c = r["sovereign"], r["checkov"]
            g_ = r.get("sovereign_grpc") or {"wall_s": "?", "cpu_s": "?"}
            ck = r.get("checkov_results") or {}
            lines.append(
                f"| {r['objects']:,} | {s_['wall_s']} ({s_['cpu_s']}) | {s_['tree_peak_mb']:.0f} "
                f"| {g_['wall_s']} ({g_['cpu_s']}) "
                f"| {c['wall_s']} ({c['cpu_s']}) | {c['tree_peak_mb']:.0f} | {r['speedup_wall']}x, "
                f"{r.get('speedup_wall_grpc', '?')}x "
                f"| {r['sovereign_violations']}; {ck.get('failed', '?')}/{ck.get('passed', '?')} |"
            )
        lines.append("")
    if results.get("connectivity"):
        lines += [
            "| pods | policies | proof s (CPU s) | peak MiB | NCA s | NCA / proof |",
            "|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["connectivity"]:
            lines.append(
                f"| {r['pods']:,} | {r.get('policies', '')} | {r['total_s']} ({r.get('total_cpu_s', '')}) "
                f"| {r.get('peak_rss_mib', '')} | {r.get('nca_s', 'not run')} | {r.get('nca_over_ours', '')} |"
            )
        lines.append("")
    if results.get("fleet"):
        f = results["fleet"]
        lines += [
            f"Fleet: {f['stacks']} stacks x {f['workloads_per_stack']} workloads = {f['resources']:,} resources, "
            f"`--jobs {f['jobs']}`: `sovereign render --all` {f['render_wall_s']} s wall ({f['render_cpu_s']} s CPU), "
            f"then `sovereign check --all --no-render` {f['check_wall_s']} s wall ({f['check_cpu_s']} s CPU): "
            f"**{f['wall_s']} s** in all, peak {f['tree_peak_mb']:.0f} MB (process tree)"
            + (
                f"; the check did not complete: `{f['check_error']}`."
                if f.get("check_error")
                else f", {f.get('violations')} violations."
            ),
            "",
        ]
    if len(results.get("check") or []) > 1:
        lines += [
            "Growth of the check with size (CPU per object; peak memory of the process tree):",
            "",
            "| objects | sovereign ms/object | MB | Checkov ms/object | MB |",
            "|---:|---:|---:|---:|---:|",
        ]
        for r in results["check"]:
            s_, c = r["sovereign"], r["checkov"]
            lines.append(
                f"| {r['objects']:,} | {1000 * s_['cpu_s'] / r['objects']:.1f} | {s_['tree_peak_mb']:.0f} "
                f"| {1000 * c['cpu_s'] / r['objects']:.1f} | {c['tree_peak_mb']:.0f} |"
            )
        lines.append("")
    lines += ["| target | measured | verdict |", "|---|---|---|"]
    for v in results["verdicts"]:
        lines.append(f"| {v['target']} | {v['measured']} | **{'PASS' if v['pass'] else 'FAIL'}** |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run_all.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one run each (smoke test)")
    parser.add_argument("--repeat", type=int, default=None, help="runs per measurement (default 3; quick 1)")
    parser.add_argument("--only", default="render,check,connectivity,fleet", help="comma-separated sections")
    parser.add_argument("--render-workloads", help="workloads per namespace of the render series, e.g. 10,20")
    parser.add_argument("--check-sizes", help="objects per check run, e.g. 250,1250,5000")
    parser.add_argument("--connectivity-sizes", help="pods, e.g. 1000,3000")
    parser.add_argument("--fleet-stacks", type=int, help="stacks in the fleet run (default 50)")
    parser.add_argument("--fleet-workloads", type=int, help="workloads per namespace in the fleet (default 20, x10)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel stacks in the fleet run")
    parser.add_argument("--work", type=Path, help="keep generated files here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write all figures to this JSON file")
    parser.add_argument("--markdown", type=Path, help="also write the figures as Markdown tables")
    args = parser.parse_args(argv)
    times = args.repeat or (1 if args.quick else 3)
    sections = {s.strip() for s in args.only.split(",") if s.strip()}
    check_sizes = (
        tuple(int(s) for s in args.check_sizes.split(","))
        if args.check_sizes
        else (QUICK_CHECK_SIZES if args.quick else CHECK_SIZES)
    )
    conn_sizes = (
        tuple(int(s) for s in args.connectivity_sizes.split(","))
        if args.connectivity_sizes
        else ((1000,) if args.quick else (1000, 3000))
    )
    shape = QUICK_FLEET_SHAPE if args.quick else FLEET_SHAPE
    if args.fleet_stacks or args.fleet_workloads:
        shape = fleet.FleetShape(
            args.fleet_stacks or shape.stacks, shape.namespaces, args.fleet_workloads or shape.workloads
        )

    work = args.work or Path(tempfile.mkdtemp(prefix="sovereign-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    byte_compile_project()
    results: dict[str, Any] = {
        "machine": machine(),
        "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "load_start": load_now(),
        "repeat": times,
        "quick": args.quick,
    }
    started = time.perf_counter()
    try:
        if "render" in sections:
            render_sizes = (
                tuple(int(k) for k in args.render_workloads.split(","))
                if args.render_workloads
                else (QUICK_RENDER_WORKLOADS if args.quick else RENDER_WORKLOADS)
            )
            results["render"] = bench_render(work, render_sizes, times)
        if "check" in sections:
            results["check"] = bench_check(work, check_sizes, times)
        if "connectivity" in sections:
            results["connectivity"] = bench_connectivity(conn_sizes, times)
        if "fleet" in sections:
            results["fleet"] = bench_fleet(work, shape, args.jobs)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    results["finished"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    results["load_end"] = load_now()
    results["total_s"] = round(time.perf_counter() - started, 1)
    results["verdicts"] = verdicts(results)
    print_summary(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(results), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
