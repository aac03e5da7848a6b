"""Helpers of the evidence tests: a project of the example stacks (stack files copied, so a test may plant a
secret in one; program, pack, catalog and example organisation linked), the CLI run in this process, and bundle
surgery (re-signing a changed bundle as an insider holding the key would)."""

from __future__ import annotations

import base64
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from sovereign.cli.main import main
from sovereign.evidence import layout
from sovereign.evidence.canonical import json_bytes, sha256_hex
from sovereign.evidence.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope
from sovereign.evidence.keys import load_private_key

REPO = Path(__file__).resolve().parents[2]
AT = "2026-12-01"
STACK = "cn-prod"


def make_project(dest: Path) -> Path:
    dest.mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", dest / "Pulumi.yaml")
    shutil.copytree(REPO / "stacks", dest / "stacks")
    for name in ("policies", "infra", "examples"):
        (dest / name).symlink_to(REPO / name, target_is_directory=True)
    return dest


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def tree(directory: Path) -> dict[str, bytes]:
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def resign(bundle: Path, private_key: Path) -> None:
    """Sign the bundle's files as they are now, with the predicate as it was (an insider changing a bundle)."""
    envelope = json.loads((bundle / layout.ENVELOPE).read_text(encoding="utf-8"))
    statement = json.loads(base64.b64decode(envelope["payload"]))
    files, _ = layout.bundle_files(bundle)
    statement["subject"] = [{"name": n, "digest": {"sha256": sha256_hex((bundle / n).read_bytes())}} for n in files]
    payload = json_bytes(statement)
    signed = sign_envelope(payload, IN_TOTO_PAYLOAD_TYPE, load_private_key(private_key))
    (bundle / layout.ENVELOPE).write_bytes(json_bytes(signed))
