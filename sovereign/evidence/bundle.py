"""Write one stack's bundle: inputs, derived documents, the index, and the signed statement over them all.

Written whole or not at all: into a staging directory beside ``--out``, moved into place at the end. An existing
``--out`` is replaced only when it is empty or an earlier bundle (it holds ``evidence.json`` or the envelope):
never a directory of something else.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sovereign.core.errors import InputError
from sovereign.evidence import layout
from sovereign.evidence.canonical import json_bytes, sha256_hex
from sovereign.evidence.derive import Derived
from sovereign.evidence.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope
from sovereign.evidence.inputs import BundleInput
from sovereign.evidence.statement import statement

DISTRIBUTIONS = ("sovereign-clusters", "pulumi", "pulumi-kubernetes", "pulumi-policy", "kubernetes-validate",
                 "cryptography")
"""The installed packages whose versions decide a render and a check (recorded, so a verifier can match them)."""


def tool_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in DISTRIBUTIONS:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _git(root: Path, *args: str) -> str | None:
    try:
        run = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False,  # noqa: S603
                             stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout if run.returncode == 0 else None


def git_state(root: Path) -> dict[str, Any] | None:
    """The commit of the repository holding the project, and whether its work tree differs from it; None outside a
    repository (or without git)."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    if not commit:
        return None
    status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


@dataclass(frozen=True)
class BundleFacts:
    """What the index states besides the inputs and the derived documents."""

    stack: str
    at: str
    policy_pack: dict[str, str]
    catalog: list[dict[str, Any]]
    project: dict[str, str]
    git: dict[str, Any] | None
    exemptions: list[dict[str, Any]]


def index_document(facts: BundleFacts, inputs: Sequence[BundleInput], derived: Derived) -> dict[str, Any]:
    return {
        "stack": facts.stack,
        "at": facts.at,
        "verdict": derived.verdict,
        "versions": versions(facts),
        "git": facts.git,
        "project": facts.project,
        "inputs": [i.entry() for i in sorted(inputs, key=lambda i: i.file)],
        "exemptions": facts.exemptions,
        "derived": sorted(derived.files),
    }


def versions(facts: BundleFacts) -> dict[str, Any]:
    return {"tools": tool_versions(), "policyPack": facts.policy_pack, "catalog": facts.catalog}


def predicate(index: dict[str, Any]) -> dict[str, Any]:
    """Our predicate: the verdict and the versions that produced it, and where the rest is said (the index)."""
    return {"stack": index["stack"], "at": index["at"], "verdict": index["verdict"], "versions": index["versions"],
            "git": index["git"], "index": layout.INDEX}


def bundle_contents(facts: BundleFacts, inputs: Sequence[BundleInput], derived: Derived,
                    key: Ed25519PrivateKey) -> dict[str, bytes]:
    """Every file of the bundle by its path, the envelope included."""
    files = {i.file: i.data for i in inputs}
    files.update(derived.files)
    index = index_document(facts, inputs, derived)
    files[layout.INDEX] = json_bytes(index)
    subjects = {name: sha256_hex(data) for name, data in files.items()}
    payload = json_bytes(statement(subjects, predicate(index)))
    files[layout.ENVELOPE] = json_bytes(sign_envelope(payload, IN_TOTO_PAYLOAD_TYPE, key))
    return files


def _replaceable(out: Path) -> bool:
    if not out.exists() and not out.is_symlink():
        return True
    if out.is_symlink() or not out.is_dir():
        return False
    return not any(out.iterdir()) or (out / layout.INDEX).is_file() or (out / layout.ENVELOPE).is_file()


def write_bundle(out: Path, files: dict[str, bytes]) -> None:
    """Put ``files`` at ``out`` as one directory, atomically replacing an earlier bundle."""
    if not _replaceable(out):
        raise InputError(out, (), "a new or empty directory, or an earlier evidence bundle to replace",
                         found_text="a file or a directory holding something else")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    except OSError as exc:
        raise InputError(out, (), "a writable directory", found_text=exc.strerror or str(exc)) from None
    old = out.parent / f"{staging.name}.old"
    try:
        for name in sorted(files):
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[name])
        os.chmod(staging, 0o755)
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
    except OSError as exc:
        if old.exists() and not out.exists():
            os.replace(old, out)  # the earlier bundle stays as it was
        raise InputError(out, (), "a writable directory", found_text=exc.strerror or str(exc)) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
