"""Verify a bundle offline: the signature, every file's digest, and the verdict derived again from the bundle's
own inputs. Every failed check is a ``Problem`` naming the file and the check, so a regulator (and a test) can
tell a changed input from a changed result or a forged signature.

The order matters: an envelope that does not verify, or a file that is not what the statement says, makes the
bundle untrustworthy, so nothing is derived from it (the re-derivation is reported as skipped).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sovereign.core.errors import InputError, ToolFailure
from sovereign.evidence import layout
from sovereign.evidence.bundle import tool_versions
from sovereign.evidence.canonical import sha256_hex
from sovereign.evidence.derive import Derived
from sovereign.evidence.dsse import IN_TOTO_PAYLOAD_TYPE, EnvelopeError, key_id, open_envelope
from sovereign.evidence.statement import ParsedStatement, StatementError, parse_statement

MAX_FILE_BYTES = 256 * 1024 * 1024
"""A bundle file larger than this is not read (a bundle of the largest estates is a few megabytes)."""
SHOWN_DIFFERENCES = 5


@dataclass(frozen=True, order=True)
class Problem:
    file: str
    check: str
    """``signature``, ``envelope``, ``statement``, ``missing``, ``extra``, ``digest``, ``index`` or
    ``re-derivation``."""
    detail: str

    def line(self) -> str:
        return f"{self.file}: {self.check}: {self.detail}"


@dataclass(frozen=True)
class Request:
    """What the re-derivation needs: the bundled inputs by (role, recorded path), where the project sat in its
    repository, the stack and the evaluation time."""

    stack: str
    at: str
    inputs: dict[tuple[str, str], bytes]
    project_dir: str


Rederive = Callable[[Request], Derived]


@dataclass
class Outcome:
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stack: str = ""
    at: str = ""
    verdict: str = ""

    @property
    def verified(self) -> bool:
        return not self.problems


def _read(directory: Path, name: str) -> bytes:
    path = directory / name
    if path.stat().st_size > MAX_FILE_BYTES:
        raise OSError(f"larger than {MAX_FILE_BYTES} bytes")
    return path.read_bytes()


def _statement(directory: Path, key: Ed25519PublicKey, out: Outcome) -> ParsedStatement | None:
    envelope_path = directory / layout.ENVELOPE
    if not envelope_path.is_file() or envelope_path.is_symlink():
        out.problems.append(Problem(layout.ENVELOPE, "missing", "no signed envelope: the bundle is not signed"))
        return None
    try:
        opened = open_envelope(json.loads(_read(directory, layout.ENVELOPE)), key)
    except (OSError, EnvelopeError, ValueError) as exc:  # a malformed envelope, JSON or UTF-8
        out.problems.append(Problem(layout.ENVELOPE, "envelope", str(exc)))
        return None
    if not opened.signed_by_key:
        mine = key_id(key)
        if opened.key_ids and mine not in opened.key_ids:
            detail = (f"signed by key {', '.join(opened.key_ids)}, not by the key given ({mine}): wrong key, or "
                      "the signature was replaced")
        else:
            detail = "the signature does not verify: the signed statement or the signature was changed"
        out.problems.append(Problem(layout.ENVELOPE, "signature", detail))
    if opened.payload_type != IN_TOTO_PAYLOAD_TYPE:
        out.problems.append(Problem(layout.ENVELOPE, "envelope",
                                    f"payloadType {opened.payload_type!r}, expected {IN_TOTO_PAYLOAD_TYPE}"))
        return None
    try:
        return parse_statement(json.loads(opened.payload))
    except (ValueError, StatementError) as exc:
        out.problems.append(Problem(layout.ENVELOPE, "statement", str(exc)))
        return None


def _files(directory: Path, parsed: ParsedStatement, out: Outcome) -> dict[str, bytes]:
    """The bundle's files whose digests match the statement; every other file, missing or changed one a
    problem."""
    present, others = layout.bundle_files(directory)
    good: dict[str, bytes] = {}
    for name in others:
        out.problems.append(Problem(name, "extra", "not a regular file (a link or special file) in the bundle"))
    for name in sorted(set(parsed.subjects) - set(present)):
        out.problems.append(Problem(name, "missing", "named by the statement, absent from the bundle"))
    for name in present:
        if name not in parsed.subjects:
            out.problems.append(Problem(name, "extra", "not named by the signed statement"))
            continue
        try:
            data = _read(directory, name)
        except OSError as exc:
            out.problems.append(Problem(name, "digest", f"cannot be read: {exc}"))
            continue
        digest = sha256_hex(data)
        if digest != parsed.subjects[name]:
            out.problems.append(Problem(name, "digest", f"sha256 {digest}, the statement says "
                                        f"{parsed.subjects[name]}: the file was changed"))
            continue
        good[name] = data
    return good


def _index(files: Mapping[str, bytes], parsed: ParsedStatement, out: Outcome) -> dict[str, Any] | None:
    """The index, checked against the signed predicate and the inputs present (closed world)."""
    if layout.INDEX not in files:
        if not any(p.file == layout.INDEX for p in out.problems):
            out.problems.append(Problem(layout.INDEX, "missing", "the bundle has no index"))
        return None
    try:
        index = json.loads(files[layout.INDEX])
        stack, at, inputs = index["stack"], index["at"], index["inputs"]
        entries = {e["file"]: e for e in inputs}
        verdict_line = index["verdict"]["line"]
    except (ValueError, KeyError, TypeError) as exc:
        out.problems.append(Problem(layout.INDEX, "index", f"not an evidence index ({exc!r})"))
        return None
    out.stack, out.at, out.verdict = str(stack), str(at), str(verdict_line)
    for key in ("stack", "at", "verdict", "versions", "git"):
        if parsed.predicate.get(key) != index.get(key):
            out.problems.append(Problem(layout.INDEX, "index", f"{key} differs from the signed predicate's"))
    for name in sorted(set(parsed.subjects) - set(entries)):
        if name.startswith(layout.INPUTS + "/"):
            out.problems.append(Problem(name, "index", "an input the index does not list"))
    for name, entry in sorted(entries.items()):
        if parsed.subjects.get(name) != entry.get("sha256"):
            out.problems.append(Problem(name, "index", "the index's sha256 differs from the statement's"))
    return dict(index)


def _differences(bundled: bytes, derived: bytes) -> str:
    """Where two JSON documents differ (the first few key paths), else that their bytes differ."""
    try:
        a, b = json.loads(bundled), json.loads(derived)
    except ValueError:
        return "its bytes differ from the re-derived document"
    found: list[str] = []

    def walk(x: Any, y: Any, path: str) -> None:
        if len(found) >= SHOWN_DIFFERENCES or x == y:
            return
        if isinstance(x, dict) and isinstance(y, dict):
            for k in sorted(set(x) | set(y)):
                walk(x.get(k), y.get(k), f"{path}.{k}" if path else str(k))
        elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
            for i, (u, v) in enumerate(zip(x, y, strict=True)):
                walk(u, v, f"{path}[{i}]")
        else:
            found.append(f"{path or '(document)'}: bundled {_short(x)}, re-derived {_short(y)}")

    walk(a, b, "")
    return "; ".join(found) if found else "its bytes differ from the re-derived document (same content)"


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def _rederive(files: Mapping[str, bytes], index: Mapping[str, Any], rederive: Rederive, out: Outcome) -> None:
    inputs = {(e["role"], e["path"]): files[e["file"]] for e in index["inputs"]}
    project = index.get("project") or {}
    request = Request(stack=out.stack, at=out.at, inputs=inputs, project_dir=str(project.get("directory", "")))
    try:
        derived = rederive(request)
    except (InputError, ToolFailure) as exc:
        message = exc.message if isinstance(exc, InputError) else f"{exc.what}{exc}"
        out.problems.append(Problem(layout.INPUTS, "re-derivation", f"the bundled inputs do not render and check: "
                                    f"{message}"))
        return
    for name in layout.DERIVED:
        bundled, again = files.get(name), derived.files.get(name)
        if bundled is None and again is None:
            continue
        if again is None:
            out.problems.append(Problem(name, "re-derivation", "this installation cannot derive it again"))
        elif bundled is None:
            out.notes.append(f"{name}: not in the bundle (made by an installation without it)")
        elif bundled != again:
            out.problems.append(Problem(name, "re-derivation", _differences(bundled, again)))
    if derived.verdict != index.get("verdict"):
        out.problems.append(Problem(layout.INDEX, "re-derivation",
                                    f"verdict {index.get('verdict', {}).get('line')!r}, re-derived "
                                    f"{derived.verdict['line']!r}"))


def _version_notes(index: Mapping[str, Any], out: Outcome) -> None:
    recorded = (index.get("versions") or {}).get("tools") or {}
    current = tool_versions()
    for name in sorted(set(recorded) | set(current)):
        if recorded.get(name) != current.get(name):
            out.notes.append(f"made with {name} {recorded.get(name, '(none)')}, verified with "
                             f"{current.get(name, '(none)')}")


def verify_bundle(directory: Path, key: Ed25519PublicKey, rederive: Rederive) -> Outcome:
    """Every check of the bundle at ``directory`` (an existing directory) against ``key``."""
    out = Outcome()
    parsed = _statement(directory, key, out)
    if parsed is None:
        return out
    files = _files(directory, parsed, out)
    index = _index(files, parsed, out)
    if index is None:
        return out
    _version_notes(index, out)
    if out.problems:
        out.notes.append("re-derivation skipped: the bundle is not intact, nothing in it can be trusted")
        return out
    _rederive(files, index, rederive, out)
    out.problems.sort()
    return out
