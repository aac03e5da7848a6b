"""Renders are staged in a temporary directory and renamed into place.

A render of several stacks is all-or-nothing: every stack is written into a staging directory next to the
destination (same filesystem, so ``rename`` is atomic) and moved into place only when all of them succeeded.
A module of its own so the parent process (which only stages and publishes) does not import the writers.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

STAGING_PREFIX = ".sovereign-staging-"


@contextmanager
def staging_area(destination: Path) -> Iterator[Path]:
    """A temporary directory inside ``destination``; removed on exit whatever happened (and ``destination``
    too when this run created it and nothing was published)."""
    created = not destination.exists()
    destination.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=destination))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created and not any(destination.iterdir()):
            destination.rmdir()


def publish(staging: Path, destination: Path, stacks: Iterable[str], retire: Iterable[str] = ()) -> None:
    """Move ``staging/<stack>`` to ``destination/<stack>``, replacing an older render of that stack; an older
    render of each stack in ``retire`` (not rendered this time) is removed with the staging area."""
    retired = staging / ".retired"
    retired.mkdir(exist_ok=True)
    for stack in stacks:
        final = destination / stack
        if final.exists():
            final.rename(retired / stack)
        (staging / stack).rename(final)
    for stack in retire:
        final = destination / stack
        if final.exists():
            final.rename(retired / stack)
