"""A stack's render and verdict kept between checks, under a key that is everything they were made from.

Why: a pull request usually changes one stack of dozens, yet every check re-rendered and re-judged all of them.
A stack whose inputs did not change gets the same render and the same findings, so ``sovereign check`` keeps both
in a plain directory (``--cache-dir``, which CI persists like any cache) and reuses them.

The key (SHA-256) covers, per run: this module's format, the Python version, every file of the program
(``infra/``), the pack (``policies/``, the public catalog layer with it), the ``sovereign`` package and
``requirements.lock``, the project file, the stack schema, the catalog directory judged with and the organisation
file (docs/catalog.md), the policy pack config (levels, properties, exemptions), the rule selection, the
transport, ``$SOVEREIGN_EXPIRY_WARNING_DAYS`` and where the project lies in its repository (findings name files
relative to it); per stack: its name, its file's path and its bytes. Time is not in the key: a verdict depends on
the evaluation time only through the state of each transfer the stack declares and of each exemption (active,
pending, expired) and the days an expiry warning counts. The entry keeps the transfers' windows and that
*time signature*; a later run reuses it only when the signature at its own evaluation time is the same (so a
transfer that expired in between, or a warning that now says 14 days instead of 15, makes it judge the stack
again, while a run on another day where nothing changed reuses it). A verdict whose text names the evaluation
instant itself is bound to that instant. Reports are rebuilt from the kept findings with the run's own evaluation
time (``CheckReport.from_json``), so a reused verdict reads exactly as a fresh one.

Entries are ``sovereign.core.build_cache`` entries (format, name, key and digest in each): a damaged or foreign
one is ignored and the stack judged anew. A render is kept as an archive of its directory; one whose paths leave
that directory is refused. Only judged stacks are kept: input that could not be read is read again every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from sovereign.check.model import CheckReport, StackResult
from sovereign.check.rule_selection import RuleSelection
from sovereign.core.build_cache import read_entry, write_entry
from sovereign.core.clock import EXPIRY_WARNING_DAYS_ENV, expiry_warning_window, instant_text, parse_instant
from sovereign.core.exemptions import EXEMPTIONS_KEY, Exemption, parse_exemptions
from sovereign.render.staging import publish, staging_area
from sovereign.stackconfig.model import Transfer, TransferDestination

FORMAT = "sovereign-verdict/1"
"""Bumped whenever what an entry holds, or how a report is rebuilt from it, changes."""
KEPT_PER_STACK = 3
"""Entries kept per stack (a few recent states of a stack file: a branch and its base, a revert)."""
EXPIRY_RULE = "transfer-expiry-warning"
"""The rule whose ``warningDays`` decides when an expiry warning starts (tests/cli/test_verdict_cache.py ties it
to the pack)."""
PREVIEW = "preview.json"
_SKIPPED_DIRS = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})


def _tree_digest(digest: Any, label: str, top: Path) -> None:
    """Every file under ``top`` (links resolved, bytecode caches skipped): names and bytes, in a stable order."""
    top = top.resolve()
    digest.update(f"\0tree {label}\0".encode())
    if not top.is_dir():
        digest.update(b"absent")
        return
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(".pyc"):
                continue
            path = Path(directory, name)
            digest.update(path.relative_to(top).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")


def _file_digest(digest: Any, label: str, path: Path | None) -> None:
    digest.update(f"\0file {label}\0".encode())
    digest.update(path.read_bytes() if path is not None and path.is_file() else b"absent")


@dataclass(frozen=True)
class RunInputs:
    """What every stack's verdict in this run depends on besides its own file."""

    project_root: Path
    repository_root: Path
    code_dirs: Mapping[str, Path]
    """``infra``, ``policies`` (the pack), ``sovereign`` (this package)."""
    files: Mapping[str, Path | None]
    """``requirements.lock``, the project file, the stack schema, the organisation file."""
    catalog_dir: Path
    policy_config: Mapping[str, Any]
    policy_config_source: str
    selection: RuleSelection
    transport: str

    def digest(self) -> str:
        """The run's part of every key; OSError when a file cannot be read (then nothing is kept or reused)."""
        digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0{sys.implementation.cache_tag}".encode())
        for label, directory in sorted(self.code_dirs.items()):
            _tree_digest(digest, label, directory)
        _tree_digest(digest, "catalog", self.catalog_dir)
        for label, path in sorted(self.files.items()):
            _file_digest(digest, label, path)
        settings = {
            "config": self.policy_config, "configSource": self.policy_config_source,
            "only": list(self.selection.only), "skip": list(self.selection.skip), "transport": self.transport,
            "warningDaysEnv": os.environ.get(EXPIRY_WARNING_DAYS_ENV),
            "projectInRepository": os.path.relpath(self.project_root, self.repository_root),
        }
        digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
        return digest.hexdigest()


def stack_key(run_digest: str, stack: str, stack_file: Path, source: str) -> str:
    """The key of one stack: the run's digest, the stack's name, its file as findings name it, and its bytes."""
    digest = hashlib.sha256(f"{run_digest}\0{stack}\0{source}\0".encode())
    digest.update(stack_file.read_bytes())
    return digest.hexdigest()


def config_exemptions(policy_config: Mapping[str, Any]) -> tuple[Exemption, ...]:
    """Every exemption of the policy pack config; ExemptionError on a malformed one (the check reports it)."""
    out: list[Exemption] = []
    for rule, entry in sorted(policy_config.items()):
        if isinstance(entry, Mapping) and EXEMPTIONS_KEY in entry:
            out += parse_exemptions(rule, entry[EXEMPTIONS_KEY], key_path=(rule,))
    return tuple(out)


def time_signature(windows: Iterable[tuple[str, str, str]], exemptions: Sequence[Exemption],
                   policy_config: Mapping[str, Any], at: datetime) -> list[Any]:
    """What a stack's verdict reads of the evaluation time: each transfer's state (``Transfer.state``, the one
    rule), and the days left when its expiry warning shows (``Transfer.ends_within``, the warning's rule); each
    exemption's state. ``windows``: (id, validFrom, validUntil) of the stack's transfers."""
    entry = policy_config.get(EXPIRY_RULE)
    window = expiry_warning_window(entry.get("warningDays") if isinstance(entry, Mapping) else None)
    nowhere = TransferDestination(jurisdiction="", cidrs=(), domains=(), ports=())
    out: list[Any] = []
    for transfer_id, valid_from, valid_until in sorted(windows):
        t = Transfer(id=transfer_id, approval_reference="", regulator="", data_classes=(), source_workloads=(),
                     destination=nowhere, valid_from=datetime.fromisoformat(valid_from),
                     valid_until=datetime.fromisoformat(valid_until))
        warns = t.ends_within(at, window)
        out.append(["transfer", transfer_id, t.state(at).value, (t.valid_until - at).days if warns else None])
    out += [["exemption", e.rule, e.index, e.active(at)] for e in exemptions]
    return out


def instant_forms(at_text: str) -> set[str]:
    """The ways a finding could spell the evaluation instant."""
    at = parse_instant(at_text)
    return {at_text, instant_text(at), at.isoformat()}


@dataclass
class Kept:
    """A stack's verdict as a one-stack report (its notes, the policies, the pack, the catalog layers)."""

    report: CheckReport

    @property
    def result(self) -> StackResult:
        return self.report.stacks[0]


@dataclass
class VerdictCache:
    directory: Path
    exemptions: tuple[Exemption, ...]
    policy_config: Mapping[str, Any]
    at_text: str
    """The run's evaluation time, as the report states it."""
    _at: datetime = field(init=False)

    def __post_init__(self) -> None:
        self._at = parse_instant(self.at_text)

    def _name(self, kind: str, stack: str) -> str:
        return f"{kind}-{stack.replace('/', '-')}"

    def load(self, stack: str, key: str, render_dir: Path) -> Kept | None:
        """The kept verdict when it holds at this run's evaluation time, with the stack's render in
        ``render_dir`` (restored from the cache when it is missing or not this one); else None."""
        data = read_entry(self.directory, self._name("verdict", stack), key)
        if data is None:
            return None
        try:
            doc = json.loads(data)
            if doc["format"] != FORMAT or doc["stack"] != stack:
                return None
            if doc["instant"] is not None and doc["instant"] != self.at_text:
                return None
            windows = [tuple(w) for w in doc["windows"]]
            if doc["signature"] != time_signature(windows, self.exemptions, self.policy_config, self._at):
                return None
            report = CheckReport.from_json(doc["report"])
            if [s.stack for s in report.stacks] != [stack] or not report.stacks[0].judged:
                return None
            preview = str(doc["preview"])
        except (KeyError, TypeError, ValueError):
            return None
        if not self._render_in_place(stack, key, render_dir, preview):
            return None
        return Kept(report)

    def keep(self, key: str, report: CheckReport, render_dir: Path) -> None:
        """Keep a judged stack's verdict (``report``: that one stack) and its render."""
        (result,) = report.stacks
        preview_path = render_dir / PREVIEW
        try:
            preview = hashlib.sha256(preview_path.read_bytes()).hexdigest()
            archive = _archive(render_dir)
        except OSError:
            return
        document = report.to_json()
        text = json.dumps(document, sort_keys=True)
        windows = sorted([t.id, t.valid_from, t.valid_until] for t in result.transfers)
        doc = {
            "format": FORMAT,
            "stack": result.stack,
            "report": document,
            "windows": windows,
            "signature": time_signature([(w[0], w[1], w[2]) for w in windows], self.exemptions, self.policy_config,
                                        self._at),
            "instant": self.at_text if any(form in text for form in instant_forms(self.at_text)) else None,
            "preview": preview,
        }
        write_entry(self.directory, self._name("render", result.stack), key, archive, keep=KEPT_PER_STACK)
        write_entry(self.directory, self._name("verdict", result.stack), key,
                    json.dumps(doc, sort_keys=True).encode(), keep=KEPT_PER_STACK)

    def _render_in_place(self, stack: str, key: str, render_dir: Path, preview: str) -> bool:
        try:
            if hashlib.sha256((render_dir / PREVIEW).read_bytes()).hexdigest() == preview:
                return True
        except OSError:
            pass
        data = read_entry(self.directory, self._name("render", stack), key)
        if data is None:
            return False
        try:
            files = _unarchive(data)
        except (ValueError, zlib.error):
            return False
        if hashlib.sha256(files.get(PREVIEW, b"")).hexdigest() != preview:
            return False
        with staging_area(render_dir.parent) as staging:
            for relative, content in files.items():
                target = staging / render_dir.name / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            publish(staging, render_dir.parent, [render_dir.name])
        return True


def _archive(directory: Path) -> bytes:
    """Every file of a render directory: a JSON index of (path, size), a newline, the bytes; compressed."""
    index: list[list[Any]] = []
    chunks: list[bytes] = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = path.read_bytes()
        index.append([path.relative_to(directory).as_posix(), len(content)])
        chunks.append(content)
    return zlib.compress(json.dumps(index).encode() + b"\n" + b"".join(chunks), 1)


def _unarchive(data: bytes) -> dict[str, bytes]:
    """The files of an archive; ValueError for one that does not add up or names a path outside its directory."""
    raw = zlib.decompress(data)
    head, _, body = raw.partition(b"\n")
    files: dict[str, bytes] = {}
    offset = 0
    for relative, size in json.loads(head):
        path = PurePosixPath(str(relative))
        if path.is_absolute() or not path.parts or any(part in ("", ".", "..") for part in path.parts):
            raise ValueError(f"a path outside the render: {relative!r}")
        if not isinstance(size, int) or size < 0 or offset + size > len(body):
            raise ValueError("sizes that do not add up")
        files[path.as_posix()] = body[offset:offset + size]
        offset += size
    if offset != len(body):
        raise ValueError("sizes that do not add up")
    return files
