"""Incremental and sharded checks of a fleet, side by side in one run (docs/benchmarks.md, "A fleet at pull-request
speed").

Measures, on a fleet from ``bench/fleet.py`` (its own project root, ``SOVEREIGN_ROOT``):

* cold: ``sovereign check --all`` with an empty cache (renders and verdicts written to it) against
  ``--no-cache`` (nothing kept), alternated, medians of ``--repeat``: what keeping costs;
* warm: after one stack file changed (a comment appended, a different stack each time), ``check --all`` with the
  cache: the changed stack's render and check plus the reuse of every other one; medians of ``--repeat``;
* shards: ``check --all --shard I/N --no-cache --format json`` for every I, then ``sovereign merge`` in every
  format, compared byte for byte with one ``check --all --no-cache`` at the same ``--at``.

Usage::

    .venv/bin/python bench/incremental.py --stacks 50 --namespaces 10 --workloads 2 --repeat 3 --shards 10
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOVEREIGN = [sys.executable, "-m", "sovereign"]
AT = "2026-12-07T00:00:00Z"
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")


def _run(args: Sequence[str | Path], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
    start = time.perf_counter()
    done = subprocess.run([*SOVEREIGN, *map(str, args)], env=env, capture_output=True, check=False)
    took = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"sovereign {' '.join(map(str, args))}: exit {done.returncode}\n{done.stderr.decode()}")
    return took, done


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stacks", type=int, default=50)
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--workloads", type=int, default=20, help="per namespace")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--work", type=Path, help="keep the fleet and outputs here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="sovereign-incremental-"))
    fleet = work / "fleet"
    if not (fleet / "root").is_dir():
        subprocess.run([sys.executable, str(ROOT / "bench" / "fleet.py"), "--stacks", str(args.stacks),
                        "--namespaces", str(args.namespaces), "--workloads", str(args.workloads), "--out",
                        str(fleet), "--no-manifests"], check=True, capture_output=True)
    root = fleet / "root"
    env = {**os.environ, "SOVEREIGN_ROOT": str(root)}
    env.pop("SOVEREIGN_AT", None)
    stacks = sorted((root / "stacks").glob("Pulumi.*.yaml"))
    common = ["check", "--all", "--jobs", str(args.jobs), "--at", AT, "--format", "json"]
    figures: dict[str, object] = {"stacks": len(stacks), "workloadsPerStack": args.namespaces * args.workloads,
                                  "cpus": os.cpu_count(), "load": os.getloadavg()[0]}

    cold_cache: list[float] = []
    cold_plain: list[float] = []
    for i in range(args.repeat):
        for kind in ("cache", "plain"):  # alternated: the machine's noise falls on both
            out = work / f"out-cold-{kind}"
            shutil.rmtree(out, ignore_errors=True)
            cache = work / f"cache-cold-{i}"
            if kind == "cache":
                shutil.rmtree(cache, ignore_errors=True)  # an empty cache: everything rendered, judged and kept
            extra = ["--cache-dir", cache] if kind == "cache" else ["--no-cache"]
            took, _ = _run([*common, "--out", out, *extra], env)
            (cold_cache if kind == "cache" else cold_plain).append(took)
            print(f"cold {kind}: {took:.1f} s", flush=True)
    warm_cache = work / f"cache-cold-{args.repeat - 1}"
    warm_out = work / "out-cold-cache"
    warm = []
    for i in range(args.repeat):
        changed = stacks[i % len(stacks)]
        with changed.open("a", encoding="utf-8") as handle:
            handle.write(f"# benchmark change {i}\n")
        took, done = _run([*common, "--out", warm_out, "--cache-dir", warm_cache, "--progress"], env)
        warm.append(took)
        print(f"warm, {changed.name} changed: {took:.2f} s", flush=True)
    warm_median = statistics.median(warm)
    overhead = statistics.median(cold_cache) / statistics.median(cold_plain) - 1
    figures.update({"coldWithCache": cold_cache, "coldNoCache": cold_plain, "warmOneChanged": warm,
                    "coldWithCacheMedian": statistics.median(cold_cache),
                    "coldNoCacheMedian": statistics.median(cold_plain), "warmMedian": warm_median,
                    "coldOverhead": overhead})

    identical: dict[str, bool] = {}
    if args.shards:
        shard_files, shard_times = [], []
        for index in range(1, args.shards + 1):
            path = work / f"shard-{index}.json"
            took, _ = _run(["check", "--all", "--jobs", str(args.jobs), "--shard", f"{index}/{args.shards}",
                            "--no-cache", "--out", work / "out-shards", "--at", AT, "--format", "json",
                            "--output", path], env)
            shard_files.append(path)
            shard_times.append(took)
        figures["shardSeconds"] = shard_times
        for fmt in FORMATS:
            _t, single = _run(["check", "--all", "--jobs", str(args.jobs), "--out", warm_out, "--cache-dir",
                               warm_cache, "--at", AT, "--format", fmt], env)
            _t, merged = _run(["merge", *shard_files, "--format", fmt], env)
            identical[fmt] = single.stdout == merged.stdout and single.returncode == merged.returncode
        figures["mergeIdentical"] = identical
    print(json.dumps(figures, indent=2, sort_keys=True))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
    ok = warm_median <= 5.0 and overhead <= 0.10 and all(identical.values())
    print(f"{'PASS' if ok else 'FAIL'}: warm {warm_median:.2f} s (target 5 s), cold overhead {100 * overhead:.1f} % "
          f"(target 10 %), merge identical: {all(identical.values())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
