"""Run one command and measure it: wall time, CPU time and peak memory.

Peak memory is reported two ways, because the tools compared spawn helpers (``sovereign check`` starts the
policy pack as a second Python process; Checkov may fork workers):

* ``max_rss_mb``: GNU ``/usr/bin/time`` ``%M``, the largest resident set of any single process of the run
  (what ``time -v`` prints as "Maximum resident set size");
* ``tree_peak_mb``: the largest SUM of resident sets over the whole process tree, sampled from ``/proc`` every
  ``SAMPLE_S`` seconds (may miss a peak shorter than that).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

GNU_TIME = "/usr/bin/time"
SAMPLE_S = 0.05
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(frozen=True)
class Measurement:
    argv: tuple[str, ...]
    returncode: int
    wall_s: float
    cpu_s: float
    """User + system CPU seconds of the command and its children."""
    max_rss_mb: float
    tree_peak_mb: float
    stdout: str
    stderr: str


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(ppid, []).append(int(entry))
    return tree


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", encoding="utf-8") as handle:
            return int(handle.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kb(root: int) -> int:
    """Summed resident set of ``root`` and all its descendants, now."""
    tree = _children()
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += _rss_kb(pid)
        stack.extend(tree.get(pid, ()))
    return total


class _TreeSampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kb = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak_kb = max(self.peak_kb, tree_rss_kb(self.pid))
            self.done.wait(SAMPLE_S)


def run_measured(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
    sample_tree: bool = True,
) -> Measurement:
    """Run ``argv`` under GNU time (when present), with a process-tree memory sampler unless ``sample_tree`` is
    false (the sampler scans ``/proc`` every ``SAMPLE_S``, about 3 % of a core: on two cores it competes with a
    command that keeps both busy, so timed runs go without it; ``tree_peak_mb`` is then ``max_rss_mb``)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        wrapped = list(argv)
        if shutil.which(GNU_TIME):
            wrapped = [GNU_TIME, "-o", timing.name, "-f", "%e %U %S %M", *argv]
        started = time.perf_counter()
        proc = subprocess.Popen(  # noqa: S603 - argv built by the benchmark
            wrapped,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        sampler = _TreeSampler(proc.pid) if sample_tree else None
        if sampler is not None:
            sampler.start()
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        finally:
            if sampler is not None:
                sampler.done.set()
                sampler.join()
        wall = time.perf_counter() - started
        fields = timing.read().split()
    cpu, max_rss_kb = 0.0, 0
    if len(fields) >= 4:
        try:
            cpu = float(fields[-3]) + float(fields[-2])
            max_rss_kb = int(fields[-1])
        except ValueError:
            pass
    return Measurement(
        argv=tuple(argv),
        returncode=proc.returncode,
        wall_s=wall,
        cpu_s=cpu,
        max_rss_mb=max_rss_kb / 1024,
        tree_peak_mb=max(sampler.peak_kb if sampler is not None else 0, max_rss_kb) / 1024,
        stdout=stdout,
        stderr=stderr,
    )
