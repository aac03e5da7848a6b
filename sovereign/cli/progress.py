"""Progress on long runs: on stderr, only when stderr is a terminal or ``--progress`` is given.

Never on stdout, so machine-readable output (JSON, SARIF, JUnit) stays clean whatever the flags.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TextIO


def add_progress_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress", action="store_true", help="show progress on stderr even when it is not a terminal"
    )


class Progress:
    """Counts steps of a run and prints one line per finished step (with the elapsed time)."""

    def __init__(self, enabled: bool, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._total = 0
        self._done = 0
        self._label = ""
        self._started = time.monotonic()

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Progress:
        wanted = bool(getattr(args, "progress", False))
        return cls(wanted or sys.stderr.isatty())

    def start(self, label: str, total: int) -> None:
        self._label, self._total, self._done = label, total, 0
        self._started = time.monotonic()
        self._emit(f"{label}: {total} to do")

    def step(self, what: str) -> None:
        self._done += 1
        elapsed = time.monotonic() - self._started
        self._emit(f"{self._label} [{self._done}/{self._total}] {what} ({elapsed:.1f} s)")

    def note(self, text: str) -> None:
        self._emit(text)

    def _emit(self, text: str) -> None:
        if self.enabled:
            print(text, file=self.stream, flush=True)
