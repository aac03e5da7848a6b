"""The in-toto Statement of a bundle (in-toto attestation framework, Statement v1): its subjects are the bundle's
files with their SHA-256 digests, its predicate (our own type) the verdict and the versions that produced it.

Any in-toto tool can read the statement and check the subjects; the predicate needs this page and
docs/evidence.md only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://sovereign-clusters.dev/evidence/v1"
"""Our predicate: ``{stack, at, verdict, versions, git, index}`` (docs/evidence.md, "The statement")."""


def statement(subjects: Mapping[str, str], predicate: Mapping[str, Any]) -> dict[str, Any]:
    """The statement over ``subjects`` (bundle path -> sha256 hex), in path order."""
    return {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": name, "digest": {"sha256": subjects[name]}} for name in sorted(subjects)],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }


class StatementError(ValueError):
    """The payload is not a statement of ours (the message says how)."""


@dataclass(frozen=True)
class ParsedStatement:
    subjects: dict[str, str]
    predicate: dict[str, Any]


def parse_statement(doc: Any) -> ParsedStatement:
    """Subjects and predicate of a statement; StatementError for anything else (closed world: unknown types and
    malformed subjects are errors, not skipped)."""
    if not isinstance(doc, Mapping):
        raise StatementError("the payload is not a JSON object")
    if doc.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"_type is {doc.get('_type')!r}, expected {STATEMENT_TYPE}")
    if doc.get("predicateType") != PREDICATE_TYPE:
        raise StatementError(f"predicateType is {doc.get('predicateType')!r}, expected {PREDICATE_TYPE}")
    predicate = doc.get("predicate")
    if not isinstance(predicate, Mapping):
        raise StatementError("predicate is not an object")
    raw = doc.get("subject")
    if not isinstance(raw, list) or not raw:
        raise StatementError("subject is not a non-empty list")
    subjects: dict[str, str] = {}
    for i, entry in enumerate(raw):
        name = entry.get("name") if isinstance(entry, Mapping) else None
        digest = entry.get("digest") if isinstance(entry, Mapping) else None
        sha = digest.get("sha256") if isinstance(digest, Mapping) else None
        if not isinstance(name, str) or not isinstance(sha, str) or len(sha) != 64:
            raise StatementError(f"subject[{i}] is not {{name, digest: {{sha256: <64 hex>}}}}")
        if name in subjects:
            raise StatementError(f"subject[{i}] names {name} twice")
        subjects[name] = sha.lower()
    return ParsedStatement(subjects=subjects, predicate=dict(predicate))
