"""Paths in findings as code scanning resolves them: relative to the root of the repository being checked.

GitHub resolves a SARIF result's URI against the repository's root (its checkout), whatever directory the check
ran in; a reviewer reads the same path. So every file a finding names is written relative to the work tree that holds
it, found as git finds it (the nearest ``.git`` upward): for a stack's files, upward from the project root (the
project root itself when there is no repository); for manifests and files named on the command line, upward from
the working directory (the working directory itself when there is none). A file outside stays as given.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path


def repository_root(cwd: Path | None = None) -> Path:
    """The nearest directory from ``cwd`` (default: the working directory; for a stack's files, the project
    root) upward holding ``.git`` (a directory, or a file for a linked work tree); else ``cwd`` itself. Resolved."""
    start = (cwd or Path.cwd()).resolve()
    return _root_from(start)


@functools.cache
def _root_from(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / ".git").exists():
            return directory
    return start


def repository_path(file: str, cwd: Path | None = None) -> str:
    """A path as code scanning wants it: relative (POSIX) when under the repository root (``cwd``, resolved;
    default ``repository_root()``; pass it when converting many paths), else as given."""
    path = Path(file)
    try:
        return path.resolve().relative_to(cwd or repository_root()).as_posix()
    except ValueError:
        return path.as_posix()


class RepositoryPaths:
    """``repository_path`` for the many files of a manifest directory: each directory is resolved once.

    Why: resolving a path looks up every component of it (``lstat`` each), once per object: 0.07 s of a
    1,251-object check. A file that is not a symbolic link resolves to its resolved directory plus its name, so
    only the file itself is looked up; anything else (a link, ``.``/``..`` as the name, the working directory
    itself) takes ``repository_path`` itself. ``tests/cli/test_repository_paths.py`` compares both.
    """

    def __init__(self, cwd: Path | None = None) -> None:
        self._cwd = cwd or repository_root()
        self._prefix = str(self._cwd).rstrip("/") + "/"
        self._directories: dict[str, str] = {}
        self._files: dict[str, str] = {}
        self._given: dict[str, str] = {}

    def __call__(self, file: str) -> str:
        found = self._files.get(file)
        if found is None:
            found = self._files[file] = self._compute(file)
        return found

    def _compute(self, file: str) -> str:
        directory, name = os.path.split(file)
        if name in ("", ".", ".."):
            return repository_path(file, self._cwd)
        resolved_directory = self._directories.get(directory)
        if resolved_directory is None:
            resolved_directory = self._directories[directory] = os.path.realpath(directory or ".")
        resolved = os.path.join(resolved_directory, name)
        if os.path.islink(resolved):  # the resolution's own test: the name in the resolved directory
            return repository_path(file, self._cwd)
        if resolved.startswith(self._prefix):
            return resolved[len(self._prefix):]
        if resolved == str(self._cwd):
            return repository_path(file, self._cwd)
        return self._as_given(directory, name)  # outside the working directory: as given

    def _as_given(self, directory: str, name: str) -> str:
        """``Path(os.path.join(directory, name)).as_posix()`` with the directory's part computed once: ``name`` is
        one plain component (not empty, ``.`` or ``..``), so it only appends."""
        prefix = self._given.get(directory)
        if prefix is None:
            shown = Path(directory).as_posix() if directory else "."
            prefix = self._given[directory] = "" if shown == "." else shown if shown.endswith("/") else shown + "/"
        return prefix + name
