"""The one registry of report formats: which formats each command writes, and how a report is written.

Every command that writes a report (``check``, ``diff``, ``reach``) asks here for its ``--format`` choices and
its renderer, and writes through ``write_output``: a new format is one renderer added to one table.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sovereign.output import check_formats, diff_formats, reach_formats

REPORTS: Mapping[str, Mapping[str, Callable[[Any], str]]] = {
    "check": check_formats.RENDERERS,
    "diff": diff_formats.RENDERERS,
    "reach-answers": reach_formats.ANSWER_RENDERERS,
    "reach-summary": reach_formats.SUMMARY_RENDERERS,
}
"""Report kind -> format -> renderer; the first format of each is the command's default."""


def formats(report: str) -> tuple[str, ...]:
    return tuple(REPORTS[report])


def render(report: str, fmt: str, value: Any) -> str:
    return REPORTS[report][fmt](value)


def write_output(text: str, output: Path | None) -> None:
    """stdout, or the file written atomically (temp file + rename)."""
    if output is None:
        sys.stdout.write(text)
        return
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
