"""`pulumi install` and `make venv` install the same locked set.

The Python language host (pulumi/pulumi ``sdk/python/toolchain/pip.go``, ``InstallDependencies``; the working
directory is the program directory, ``<root>/<main>``, from ``pkg/engine/project.go``) runs
``<root>/<virtualenv>/bin/python -m pip install -r requirements.txt`` with the program directory as working
directory, and silently installs nothing when that directory has no ``requirements.txt``. These tests reproduce
that: they read ``Pulumi.yaml`` as the CLI does, find the file where the host looks, and let pip's own
requirements-file parser read it from the host's working directory, then compare the result with what the
Makefile installs (``pip install -c requirements.lock -e '.[test]'`` from the root).

pip itself cannot install offline here (the editable build needs setuptools>=68 and wheel from an index), so the
set is compared instead: the host installs every line of the lock plus the project; the Makefile installs the
project's dependency closure constrained by the lock; they are the same set exactly when the lock holds the
closure and nothing else, at the versions installed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "sovereign-clusters"
EXTRAS = frozenset({"test"})
VENV_TOOLING = frozenset({"pip", "setuptools", "wheel"})
"""Not locked: ``python -m venv`` seeds them for ``make venv``, and the host upgrades them itself before it installs
the requirements (``pip install --upgrade pip setuptools wheel``); some locked packages require setuptools."""


def host_paths() -> tuple[Path, Path]:
    """(program directory, venv) as the CLI and the language host compute them from Pulumi.yaml."""
    project = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
    options = project["runtime"]["options"]
    assert options.get("toolchain", "pip") == "pip", "these tests reproduce the pip toolchain"
    main = project.get("main") or "."
    program_dir = (ROOT / main).resolve()
    assert program_dir.is_dir(), "with a directory main, the host's working directory is that directory"
    return program_dir, (ROOT / options["virtualenv"]).resolve()


@contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


Editable = tuple[Path, frozenset[str]]


def pip_reads(requirements: str, *, constraint: bool = False) -> tuple[dict[str, str], list[Editable]]:
    """What ``pip install -r|-c <requirements>`` asks for, read by pip's own parser from the current directory:
    pinned names -> version, and local editable projects (path, extras)."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.constructors import install_req_from_parsed_requirement
    from pip._internal.req.req_file import parse_requirements

    pins: dict[str, str] = {}
    editables: list[Editable] = []
    for parsed in parse_requirements(requirements, session=PipSession(), constraint=constraint):
        req = install_req_from_parsed_requirement(parsed)
        if parsed.is_editable:
            assert req.link is not None and req.link.is_file, parsed.requirement
            editables.append((Path(req.link.file_path).resolve(), frozenset(req.extras)))
            continue
        assert req.req is not None, parsed.requirement
        (spec,) = req.req.specifier
        assert spec.operator == "==", f"{parsed.requirement}: the lock pins exact versions"
        pins[canonicalize_name(req.req.name)] = spec.version
    return pins, editables


def test_requirements_file_is_where_the_language_host_looks() -> None:
    program_dir, venv = host_paths()
    assert (program_dir / "requirements.txt").is_file(), (
        f"the pip toolchain runs `pip install -r requirements.txt` in {program_dir} and skips the install when the "
        "file is missing"
    )
    assert venv == ROOT / ".venv", "make venv and pulumi install must fill the same virtualenv"
    assert re.search(r"^VENV\s*:=\s*\.venv\s*$", (ROOT / "Makefile").read_text(), re.M)


def test_pulumi_install_reads_the_lock_and_the_project() -> None:
    program_dir, _ = host_paths()
    lock, _ = pip_reads(str(ROOT / "requirements.lock"))
    with working_directory(program_dir):
        pins, editables = pip_reads("requirements.txt")
    assert pins == lock, "pulumi install must install exactly the lock"
    assert editables == [(ROOT, EXTRAS)], "and the repository itself, editable, with the test extras"


def test_make_venv_reads_the_same() -> None:
    """The Makefile's pip line, read the same way from the root it runs in."""
    line = re.search(r"-m pip install .*-c (\S+) -e '(\S+)'", (ROOT / "Makefile").read_text())
    assert line, "the Makefile installs with -c <lock> -e '<project>[extras]'"
    lock_file, project = line.groups()
    with working_directory(ROOT):
        constraints, _ = pip_reads(lock_file, constraint=True)
        path, _, extras = project.partition("[")
        assert Path(path).resolve() == ROOT and frozenset(extras.rstrip("]").split(",")) == EXTRAS
    lock, _ = pip_reads(str(ROOT / "requirements.lock"))
    assert constraints == lock


def _closure(name: str, extras: frozenset[str]) -> dict[str, str]:
    """The installed dependency closure of ``name[extras]``: canonical name -> installed version."""
    found: dict[str, str] = {}
    pending: list[tuple[str, frozenset[str]]] = [(name, extras)]
    seen: set[tuple[str, frozenset[str]]] = set()
    while pending:
        current, wanted = pending.pop()
        if (current, wanted) in seen:
            continue
        seen.add((current, wanted))
        dist = metadata.distribution(current)
        if canonicalize_name(current) not in {canonicalize_name(PROJECT), *VENV_TOOLING}:
            found[canonicalize_name(current)] = dist.version
        for text in dist.requires or []:
            req = Requirement(text)
            envs = [{"extra": e} for e in wanted] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in envs):
                pending.append((req.name, frozenset(req.extras)))
    return found


def test_the_lock_is_the_projects_closure_and_nothing_else() -> None:
    """``-r lock`` (pulumi install) and ``-c lock`` + the project (make venv) install the same set only if every
    locked package is needed and every needed package is locked, at the installed version."""
    try:
        closure = _closure(PROJECT, EXTRAS)
    except metadata.PackageNotFoundError as exc:  # pragma: no cover - only outside `make venv`
        pytest.skip(f"the project is not installed in this interpreter: {exc}")
    lock, _ = pip_reads(str(ROOT / "requirements.lock"))
    assert sorted(set(lock) - set(closure)) == [], "locked but not needed: pulumi install would install more"
    assert sorted(set(closure) - set(lock)) == [], "needed but not locked: make venv would resolve it freely"
    assert {n: v for n, v in closure.items() if lock[n] != v} == {}, "installed versions differ from the lock"
