"""The one registry of report formats: which formats each command writes, and how a report is written.

Every command that writes a report (``check``, ``diff``, ``reach``) asks here for its ``--format`` choices and
its renderer, and writes through ``write_output``: a new format is one renderer added to one table.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sovereign.core.errors import InputError

REPORTS: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "check": ("check_formats", "RENDERERS", ("text", "json", "sarif", "junit", "markdown", "github")),
    "diff": ("diff_formats", "RENDERERS", ("markdown", "json")),
    "reach-answers": ("reach_formats", "ANSWER_RENDERERS", ("text", "json")),
    "reach-summary": ("reach_formats", "SUMMARY_RENDERERS", ("text", "json")),
    "register": ("register_formats", "RENDERERS", ("json", "markdown", "html")),
}
"""Report kind -> (module under ``sovereign.output``, its table of renderers, the formats in it, the command's
default first). The module is imported when a report is written, so a command's start-up does not pay for the
others' formats; ``tests/architecture/test_output_registry.py`` checks each table against its formats."""


def formats(report: str) -> tuple[str, ...]:
    return REPORTS[report][2]


def renderers(report: str) -> Mapping[str, Callable[[Any], str]]:
    module, table, _formats = REPORTS[report]
    found: Mapping[str, Callable[[Any], str]] = getattr(importlib.import_module(f"sovereign.output.{module}"), table)
    return found


def render(report: str, fmt: str, value: Any) -> str:
    return renderers(report)[fmt](value)


def write_output(text: str, output: Path | None) -> None:
    """stdout, or the file written atomically (temp file + rename). A report that cannot be written (``--output``
    names a directory, a read-only place, a full disk) is bad input: one line naming the file, exit 2, and no
    partial file left behind."""
    if output is None:
        sys.stdout.write(text)
        return
    try:
        _write_file(text, output)
    except OSError as exc:
        raise InputError(output, (), "a file the report can be written to (--output)",
                         found_text=exc.strerror or type(exc).__name__) from None


def _write_file(text: str, output: Path) -> None:
    if output.is_dir():
        raise IsADirectoryError(21, "a directory", str(output))
    if output.exists() and not output.is_file():
        # A device or pipe (/dev/null, /dev/stdout, a FIFO): renaming over it would replace it with a file.
        with output.open("w", encoding="utf-8") as handle:
            handle.write(text)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, output)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
