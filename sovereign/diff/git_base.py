"""The base revision of a diff, checked out in a temporary ``git worktree`` (removed afterwards)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sovereign.core.errors import InputError


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
    )


@contextmanager
def base_worktree(repo: Path, ref: str) -> Iterator[Path]:
    """A detached worktree of ``ref``; ``ref`` that git cannot resolve is bad input."""
    resolved = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if resolved.returncode != 0:
        raise InputError("--base", (), "a git revision of this repository", ref)
    holder = Path(tempfile.mkdtemp(prefix="sovereign-base-"))
    tree = holder / "base"
    added = _git(repo, "worktree", "add", "--detach", str(tree), resolved.stdout.strip())
    if added.returncode != 0:
        shutil.rmtree(holder, ignore_errors=True)
        raise InputError("--base", (), "a revision git can check out", found_text=added.stderr.strip()[-300:])
    try:
        yield tree
    finally:
        _git(repo, "worktree", "remove", "--force", str(tree))
        shutil.rmtree(holder, ignore_errors=True)
        _git(repo, "worktree", "prune")
