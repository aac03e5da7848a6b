"""Reviewed exemptions: the one format in which an organisation accepts a finding it cannot fix yet.

An exemption belongs to one rule and lives in that rule's policy config, under ``exemptions``, so the real CLI
(``pulumi preview --policy-pack-config``) and ``sovereign check --policy-pack-config`` read the same file the
same way (the CLI validates it against the schema below before the pack runs)::

    {"unjudged-object": {"exemptions": [
        {"kind": "SparkApplication", "apiGroup": "sparkoperator.k8s.io", "namespace": "analytics",
         "reason": "operator reviewed by platform security, ticket SEC-142", "approver": "j.doe@automaker.cn",
         "expires": "2027-03-31"}]}}

A carve-out of the closed world is an exemption of ``unjudged-object``. Every exemption names what it covers
(``kind``, ``apiGroup``, ``namespace``, ``name``; ``*`` globs in namespace and name; at least one of kind, namespace,
name), why (``reason``), who accepted it (``approver``) and until when (``expires``, a date: valid through that day,
UTC, judged at the evaluation time). A finding an active exemption covers is not a violation: the pack reports it
as *suppressed* (advisory, policies ``resource-rule-exemptions`` / ``rule-exemptions``) and every report lists it.
An expired exemption suppresses nothing: the finding is reported as a violation, saying which exemption expired.
Fail-closed findings (a value unknown at preview, a rule that crashed) are never suppressed: they say the rule
could not judge, which no review of the object can accept.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

EXEMPTIONS_KEY = "exemptions"
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
SELECTOR_KEYS = ("kind", "apiGroup", "namespace", "name")
EXEMPTIONS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Reviewed exemptions of this rule: each covers objects by kind, apiGroup, namespace and name "
    "(globs * in namespace and name) and states reason, approver and expiry date (valid through that day, UTC).",
    "items": {
        "type": "object",
        "properties": {
            "kind": {"type": "string", "minLength": 1},
            "apiGroup": {"type": "string"},
            "namespace": {"type": "string", "minLength": 1},
            "name": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1},
            "approver": {"type": "string", "minLength": 1},
            "expires": {"type": "string", "pattern": DATE_PATTERN},
            "reference": {"type": "string"},
        },
        "required": ["reason", "approver", "expires"],
        "anyOf": [{"required": ["kind"]}, {"required": ["namespace"]}, {"required": ["name"]}],
        "additionalProperties": False,
    },
}
"""JSON schema (Draft 4, what the CLI validates policy config with) of a rule's ``exemptions`` property."""

SUPPRESSED_TAG = "[exempted]"
_SUPPRESSED = re.compile(r"^\[exempted\] rule (?P<rule>[a-z0-9-]+) on (?P<subject>.+?): (?P<finding>.*) "
                         r"\(exemption #(?P<index>\d+) of (?P<rule2>[a-z0-9-]+), approved by (?P<approver>.+?), "
                         r"expires (?P<expires>\d{4}-\d{2}-\d{2}): (?P<reason>.*)\)$", re.DOTALL)


class ExemptionError(ValueError):
    """An exemption that does not have the required form (the key path says where)."""

    def __init__(self, key_path: Sequence[str | int], problem: str) -> None:
        self.key_path = tuple(key_path)
        self.problem = problem
        super().__init__(f"{'.'.join(str(k) for k in key_path)}: {problem}")


@dataclass(frozen=True)
class Exemption:
    rule: str
    index: int
    """Position in the rule's list (messages name it as #index)."""
    reason: str
    approver: str
    expires: date
    kind: str | None = None
    api_group: str | None = None
    namespace: str | None = None
    name: str | None = None
    reference: str | None = None

    def covers(self, kind: str, api_group: str, namespace: str, name: str) -> bool:
        """Whether the object is covered; absent selector keys match anything."""
        if self.kind is not None and self.kind != kind:
            return False
        if self.api_group is not None and self.api_group != ("" if api_group == "core" else api_group):
            return False
        if self.namespace is not None and not fnmatch.fnmatchcase(namespace, self.namespace):
            return False
        return self.name is None or fnmatch.fnmatchcase(name, self.name)

    def active(self, at: datetime) -> bool:
        """Valid through the whole ``expires`` day (UTC)."""
        end = datetime(self.expires.year, self.expires.month, self.expires.day, tzinfo=UTC) + timedelta(days=1)
        return at < end

    def selector(self) -> str:
        parts = [f"{key}={value}" for key, value in (("kind", self.kind), ("apiGroup", self.api_group),
                                                      ("namespace", self.namespace), ("name", self.name))
                 if value is not None]
        return ", ".join(parts)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rule": self.rule, "index": self.index}
        for key, value in (("kind", self.kind), ("apiGroup", self.api_group), ("namespace", self.namespace),
                           ("name", self.name)):
            if value is not None:
                out[key] = value
        out.update({"reason": self.reason, "approver": self.approver, "expires": self.expires.isoformat()})
        if self.reference:
            out["reference"] = self.reference
        return out

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Exemption:
        """What ``to_json`` wrote (a check report read back: ``sovereign merge``, the verdict cache)."""
        return cls(rule=str(doc["rule"]), index=int(doc["index"]), reason=str(doc["reason"]),
                   approver=str(doc["approver"]), expires=date.fromisoformat(str(doc["expires"])),
                   kind=doc.get("kind"), api_group=doc.get("apiGroup"), namespace=doc.get("namespace"),
                   name=doc.get("name"), reference=doc.get("reference"))


def parse_exemptions(rule: str, raw: Any, *, key_path: Sequence[str | int] = ()) -> list[Exemption]:
    """The exemptions of one rule from its config value (None: none); ``ExemptionError`` on a malformed one.

    The CLI has already validated the schema under ``pulumi preview``; this is the same check for every other way
    in (tests, ``sovereign check``), and the pack's guard fails the rule closed on an error."""
    if raw is None:
        return []
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise ExemptionError((*key_path, EXEMPTIONS_KEY), "expected a list of exemptions")
    out = []
    for index, item in enumerate(raw):
        where = (*key_path, EXEMPTIONS_KEY, index)
        if not isinstance(item, Mapping):
            raise ExemptionError(where, "expected an object")
        unknown = sorted(str(k) for k in item if k not in EXEMPTIONS_SCHEMA["items"]["properties"])
        if unknown:
            raise ExemptionError(where, f"unknown keys {unknown}")
        for key in ("reason", "approver", "expires"):
            if not isinstance(item.get(key), str) or not str(item.get(key)).strip():
                raise ExemptionError((*where, key), "a non-empty string is required")
        if not any(isinstance(item.get(k), str) and item.get(k) for k in ("kind", "namespace", "name")):
            raise ExemptionError(where, "name at least one of kind, namespace, name (no blanket exemptions)")
        for key in SELECTOR_KEYS + ("reference",):
            if key in item and not isinstance(item[key], str):
                raise ExemptionError((*where, key), "expected a string")
        expires_text = str(item["expires"])
        if not re.fullmatch(DATE_PATTERN, expires_text):
            raise ExemptionError((*where, "expires"), f"expected a date YYYY-MM-DD, found {expires_text!r}")
        try:
            expires = date.fromisoformat(expires_text)
        except ValueError:
            raise ExemptionError((*where, "expires"), f"not a calendar date: {expires_text!r}") from None
        out.append(Exemption(rule=rule, index=index, reason=str(item["reason"]), approver=str(item["approver"]),
                             expires=expires, kind=item.get("kind"), api_group=item.get("apiGroup"),
                             namespace=item.get("namespace"), name=item.get("name"),
                             reference=item.get("reference")))
    return out


@dataclass(frozen=True)
class Match:
    active: Exemption | None
    """The first active exemption covering the object (the finding is suppressed)."""
    expired: tuple[Exemption, ...]
    """Expired exemptions that would cover it (named in the violation)."""


def match(exemptions: Iterable[Exemption], kind: str, api_group: str, namespace: str, name: str,
          at: datetime) -> Match:
    covering = [e for e in exemptions if e.covers(kind, api_group, namespace, name)]
    active = next((e for e in covering if e.active(at)), None)
    return Match(active, tuple(e for e in covering if not e.active(at)))


def suppressed_message(rule: str, subject: str, finding: str, exemption: Exemption) -> str:
    """How a suppressed finding is reported (advisory); ``parse_suppressed`` reads it back."""
    reason = " ".join(exemption.reason.split())
    return (f"{SUPPRESSED_TAG} rule {rule} on {subject}: {finding} (exemption #{exemption.index} of {exemption.rule}, "
            f"approved by {exemption.approver}, expires {exemption.expires.isoformat()}: {reason})")


def expired_note(expired: Sequence[Exemption]) -> str:
    shown = "; ".join(f"exemption #{e.index} of {e.rule} ({e.selector()}, approved by {e.approver}) expired on "
                      f"{e.expires.isoformat()}" for e in expired)
    return f" [{shown}: an expired exemption suppresses nothing; renew it after review or fix the finding]"


@dataclass(frozen=True)
class Suppressed:
    rule: str
    subject: str
    finding: str
    exemption_index: int
    approver: str
    expires: str
    reason: str
    source: str = ""
    """Where the suppressed finding would point (file and line): set by the check, which knows the input."""
    line: int = 1

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "subject": self.subject, "finding": self.finding, "exemption": self.exemption_index,
                "approver": self.approver, "expires": self.expires, "reason": self.reason,
                "source": {"file": self.source, "line": self.line}}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Suppressed:
        return cls(str(doc["rule"]), str(doc["subject"]), str(doc["finding"]), int(doc["exemption"]),
                   str(doc["approver"]), str(doc["expires"]), str(doc["reason"]), str(doc["source"]["file"]),
                   int(doc["source"]["line"]))


def parse_suppressed(message: str) -> Suppressed | None:
    found = _SUPPRESSED.match(message.strip())
    if found is None:
        return None
    return Suppressed(found["rule"], found["subject"], found["finding"], int(found["index"]), found["approver"],
                      found["expires"], found["reason"])
