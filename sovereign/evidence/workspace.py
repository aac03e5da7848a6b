"""A project made of the verifier's program and pack with a bundle's inputs put back where they were, to render
and check the bundled stack again (``sovereign evidence verify``).

The tool (``Pulumi.yaml``, ``infra/``, the pack, the stack schema) is the verifier's checkout, linked in; the
inputs (stack file, catalog public layer, organisation file, policy pack config) are the bundle's, written as
real files at their recorded paths. The public layer's directory holds the bundled files only: a jurisdiction
file the verifier has and the bundle lacks must not be read. An empty ``.git`` marks the workspace as the
repository's root, so the report's paths (relative to the repository) read as they did when the bundle was made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from sovereign.core.paths import ORGANISATION_ENV, ROOT_ENV
from sovereign.evidence.inputs import CATALOG_HOME, OUTSIDE


@dataclass(frozen=True)
class Workspace:
    root: Path
    """The project root (``$SOVEREIGN_ROOT`` while the context is open)."""
    catalog_dir: Path
    organisation: Path | None
    policy_config: Path | None


def _place(root: Path, recorded: str, role: str) -> Path:
    """Where an input recorded at ``recorded`` goes in the workspace (outside the project: a fixed place)."""
    relative = Path(recorded)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        return root / OUTSIDE / role / relative.name
    return root / relative


def _overlay(tool: Path, root: Path, files: Mapping[Path, bytes], exclusive: Path) -> None:
    """``root`` as ``tool`` with ``files`` (absolute paths under ``root``) written over it: every directory on the
    way to a file is a real directory whose other entries link to the tool's; ``exclusive`` holds only files."""
    needed = {root}
    for path in files:
        needed.update(p for p in path.parents if p == root or root in p.parents)
    for directory in sorted(needed):
        directory.mkdir(parents=True, exist_ok=True)
        if directory == exclusive or exclusive in directory.parents:
            continue
        source = tool / directory.relative_to(root)
        if not source.is_dir():
            continue
        for entry in sorted(source.iterdir()):
            target = directory / entry.name
            if target in needed or target in files or entry.name == ".git":
                continue
            target.symlink_to(entry, target_is_directory=entry.is_dir())
    for path, data in files.items():
        path.write_bytes(data)


@contextlib.contextmanager
def workspace(tool: Path, inputs: Mapping[tuple[str, str], bytes], project_dir: str) -> Iterator[Workspace]:
    """The workspace for ``inputs`` ((role, recorded path) -> bytes), the project at ``project_dir`` inside its
    repository; ``$SOVEREIGN_ROOT`` and ``$SOVEREIGN_ORGANISATION`` point into it until the context ends."""
    holder = Path(tempfile.mkdtemp(prefix="sovereign-evidence-"))
    repository = holder / "repository"
    root = repository / project_dir if project_dir else repository
    catalog_dir = root / CATALOG_HOME
    files: dict[Path, bytes] = {}
    organisation = policy_config = None
    for (role, recorded), data in inputs.items():
        if role == "catalog-public":
            path = catalog_dir / Path(recorded).relative_to(CATALOG_HOME)
        else:
            path = _place(root, recorded, role)
        files[path] = data
        if role == "organisation":
            organisation = path
        elif role == "policy-pack-config":
            policy_config = path
    saved = {name: os.environ.get(name) for name in (ROOT_ENV, ORGANISATION_ENV)}
    try:
        (repository / ".git").mkdir(parents=True)
        _overlay(tool, root, files, catalog_dir)
        os.environ[ROOT_ENV] = str(root)
        if organisation is not None:
            os.environ[ORGANISATION_ENV] = str(organisation)
        yield Workspace(root=root, catalog_dir=catalog_dir, organisation=organisation, policy_config=policy_config)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(holder, ignore_errors=True)
