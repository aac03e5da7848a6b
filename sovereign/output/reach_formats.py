"""``sovereign reach`` results as text or JSON: answers to queries (with their expectations), what one workload can
reach by destination class, and the summary of paths that leave a jurisdiction.

Every result also says what the answer does not cover: policies of APIs the CNI does not enforce (ignored), parts
of policies the engine does not model (notes) and objects whose effect on traffic it does not read (not read).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sovereign.connectivity import DESTINATION_CLASSES, ConnectivityReport, Destination
from sovereign.connectivity.coverage import NotRead
from sovereign.connectivity.intervals import format_ports


@dataclass(frozen=True)
class Caveats:
    """What an answer does not cover (JSON: ``ignoredPolicies``, ``notes``, ``notRead``)."""

    ignored: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    not_read: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def of(cls, report: ConnectivityReport, not_read: list[NotRead]) -> Caveats:
        return cls(
            [{"kind": i.kind, "namespace": i.namespace, "name": i.name, "reason": i.reason}
             for i in report.ignored_policies],
            list(report.notes),
            [{"object": n.object, "source": n.source, "reason": n.reason} for n in not_read],
        )

    def json(self) -> dict[str, Any]:
        return {"ignoredPolicies": self.ignored, "notes": self.notes, "notRead": self.not_read}

    def text(self) -> list[str]:
        lines = []
        for i in self.ignored:
            ns = f"{i['namespace']}/" if i["namespace"] else ""
            lines.append(f"ignored: {i['kind']} {ns}{i['name']}: {i['reason']}")
        lines.extend(f"note: {n}" for n in self.notes)
        groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for n in self.not_read:  # objects of one kind, not read for one reason: one line
            groups.setdefault((n["object"].split(" ", 2)[0] + " " + n["object"].split(" ", 2)[1], n["reason"]),
                              []).append(n)
        for (kind, reason), items in groups.items():
            if len(items) == 1:
                lines.append(f"not read: {items[0]['object']} ({items[0]['source']}): {reason}")
                continue
            names = ", ".join(i["object"].split(" ", 2)[2] for i in items[:5]) + (", ..." if len(items) > 5 else "")
            lines.append(f"not read: {len(items)} {kind} ({names}): {reason}")
        return lines


@dataclass(frozen=True)
class ReachAnswers:
    """Answers to queries, in query order (``answer_json`` each), and what they do not cover."""

    answers: list[dict[str, Any]]
    caveats: Caveats


@dataclass(frozen=True)
class ReachDestinations:
    """``--from`` alone: what one workload can reach, by destination class."""

    source: str
    jurisdiction: str | None
    destinations: list[Destination]
    caveats: Caveats


@dataclass(frozen=True)
class ReachSummary:
    data: dict[str, Any]
    """``summary(report)``: what the JSON format writes."""
    workloads: int


def verdict(a: dict[str, Any]) -> str:
    """``allowed``, ``denied`` or ``mixed`` (a Service or ExternalName whose backends or addresses disagree)."""
    return "allowed" if a["allowed"] else "mixed" if a.get("mixed") else "denied"


def text_answer(a: dict[str, Any]) -> str:
    q = a["query"]
    port = "any port" if q["port"] is None else str(q["port"])
    lines = [f"{q['from']} -> {q['to']} {port}/{q['protocol']}: {verdict(a)}"]
    lines.extend(f"  via {step}" for step in a.get("resolved", ()))
    lines.extend(f"  {r}" for r in a["rules"])
    if not a["rules"] or a.get("mixed"):
        lines.append(f"  ({a['reason']})")
    backends = a.get("backends", [])
    if len(backends) > 1 or a.get("mixed"):
        for b in backends:
            bport = "any port" if b["port"] is None else str(b["port"])
            lines.append(f"  backend {b['backend']} {bport}: {'allowed' if b['allowed'] else 'denied'}")
    if q.get("expect") is not None:
        lines.append(f"  expected {q['expect']}: {'PASS' if a['passed'] else 'FAIL'}")
    return "\n".join(lines)


def expectation_counts(answers: list[dict[str, Any]]) -> dict[str, int]:
    expected = [a for a in answers if a["query"].get("expect") is not None]
    passed = sum(1 for a in expected if a["passed"])
    return {"total": len(expected), "passed": passed, "failed": len(expected) - passed}


def summary(report: ConnectivityReport) -> dict[str, Any]:
    """Per source jurisdiction: the paths that leave it (direct and through relays), and ignored policies."""
    by_jur: dict[str, list[dict[str, Any]]] = {}
    for p in report.cross_border():
        by_jur.setdefault(p.source_jurisdiction or "(unknown)", []).append(
            {
                "source": p.source,
                "hops": list(p.hops),
                "destination": p.destination_range,
                "destinationJurisdiction": p.destination_jurisdiction,
                "protocol": p.protocol,
                "ports": format_ports(p.ports),
                "rules": [str(r) for r in p.rules],
                **({"direction": p.direction} if p.direction == "inbound" else {}),
            }
        )
    return {
        "jurisdictions": {j: by_jur[j] for j in sorted(by_jur)},
        "ignoredPolicies": [
            {"kind": i.kind, "namespace": i.namespace, "name": i.name, "reason": i.reason}
            for i in report.ignored_policies
        ],
        "notes": list(report.notes),
    }


def _text_summary(data: dict[str, Any], workloads: int) -> str:
    lines = []
    if not data["jurisdictions"]:
        lines.append(f"no path leaves its jurisdiction ({workloads} workloads)")
    for jur, paths in data["jurisdictions"].items():
        sources = sorted({p["source"] for p in paths})
        lines.append(f"{jur}: {len(sources)} workload(s) can reach outside ({len(paths)} path(s))")
        merged: dict[tuple[Any, ...], list[str]] = {}
        for p in paths:  # one line per path, protocols that share ports and rules joined
            key = (
                p["source"],
                tuple(p["hops"]),
                p["destination"],
                p["destinationJurisdiction"],
                p["ports"],
                tuple(p["rules"]),
                p.get("direction") == "inbound",
            )
            merged.setdefault(key, []).append(p["protocol"])
        for (source, hops, dest, djur, ports, rules, inbound), protos in merged.items():
            via = f" via {' -> '.join(hops)}" if hops else ""
            place = f"{dest} ({djur or 'unattributed'})"
            if inbound:  # a client abroad connects in; the data leaves on the response path
                lines.append(f"  {source} <- {place} {','.join(protos)}/{ports} (inbound: answered abroad)")
            else:
                lines.append(f"  {source}{via} -> {place} {','.join(protos)}/{ports}")
            lines.extend(f"      {r}" for r in rules)
    lines.extend(Caveats(data["ignoredPolicies"], data["notes"], data.get("notRead", [])).text())
    return "\n".join(lines)


def _answers_text(result: ReachAnswers | ReachDestinations) -> str:
    if isinstance(result, ReachDestinations):
        return _destinations_text(result)
    lines = [text_answer(a) for a in result.answers]
    lines.extend(result.caveats.text())
    counts = expectation_counts(result.answers)
    if counts["total"]:
        lines.append(f"expectations: {counts['passed']} passed, {counts['failed']} failed")
        for i, a in enumerate(result.answers):
            q = a["query"]
            if q.get("expect") is not None and not a["passed"]:
                lines.append(f"  FAIL query {i}: {q['from']} -> {q['to']}: expected {q['expect']}, "
                             f"answer {verdict(a)}")
    return "\n".join(lines) + "\n"


def _answers_json(result: ReachAnswers | ReachDestinations) -> str:
    if isinstance(result, ReachDestinations):
        return json.dumps(_destinations_json(result), indent=2, sort_keys=True) + "\n"
    data = {"answers": result.answers, "expectations": expectation_counts(result.answers), **result.caveats.json()}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def _destination_json(d: Destination) -> dict[str, Any]:
    return {"destination": d.destination, "jurisdiction": d.jurisdiction, "protocol": d.protocol,
            "ports": format_ports(d.ports), "rules": [str(r) for r in d.rules]}


def _destinations_json(result: ReachDestinations) -> dict[str, Any]:
    classes: dict[str, list[dict[str, Any]]] = {c: [] for c in DESTINATION_CLASSES}
    for d in result.destinations:
        classes[d.category].append(_destination_json(d))
    return {"source": result.source, "jurisdiction": result.jurisdiction,
            "classes": [{"class": c, "destinations": classes[c]} for c in DESTINATION_CLASSES],
            **result.caveats.json()}


def _destinations_text(result: ReachDestinations) -> str:
    home = result.jurisdiction or "no jurisdiction"
    lines = [f"{result.source} ({home}) can reach:"]
    for category in DESTINATION_CLASSES:
        found = [d for d in result.destinations if d.category == category]
        count = len({d.destination for d in found})
        lines.append(f"{category} ({count}):" if count else f"{category}: none")
        merged: dict[tuple[Any, ...], list[str]] = {}
        for d in found:  # protocols that share ports and rules on one line
            key = (d.destination, d.jurisdiction, format_ports(d.ports), tuple(str(r) for r in d.rules))
            merged.setdefault(key, []).append(d.protocol)
        for (dest, jur, ports, rules), protos in merged.items():
            lines.append(f"  {dest} ({jur or 'unattributed'}) {','.join(protos)}/{ports}")
            lines.extend(f"      {r}" for r in rules)
    lines.extend(result.caveats.text())
    return "\n".join(lines) + "\n"


def _summary_text(result: ReachSummary) -> str:
    return _text_summary(result.data, result.workloads) + "\n"


def _summary_json(result: ReachSummary) -> str:
    return json.dumps(result.data, indent=2, sort_keys=True) + "\n"


ANSWER_RENDERERS = {"text": _answers_text, "json": _answers_json}
"""Answers to queries (``ReachAnswers``) and, for ``--from`` alone, what a workload reaches (``ReachDestinations``)."""
SUMMARY_RENDERERS = {"text": _summary_text, "json": _summary_json}
