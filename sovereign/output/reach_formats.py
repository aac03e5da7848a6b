"""``sovereign reach`` results as text or JSON: answers to queries, and the summary of paths that leave a
jurisdiction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sovereign.connectivity import ConnectivityReport
from sovereign.connectivity.intervals import format_ports


@dataclass(frozen=True)
class ReachSummary:
    data: dict[str, Any]
    """``summary(report)``: what the JSON format writes."""
    workloads: int


def text_answer(a: dict[str, Any]) -> str:
    q = a["query"]
    port = "any port" if q["port"] is None else str(q["port"])
    lines = [f"{q['from']} -> {q['to']} {port}/{q['protocol']}: {'allowed' if a['allowed'] else 'denied'}"]
    lines.extend(f"  {r}" for r in a["rules"])
    if not a["rules"]:
        lines.append(f"  ({a['reason']})")
    return "\n".join(lines)


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
            )
            merged.setdefault(key, []).append(p["protocol"])
        for (source, hops, dest, djur, ports, rules), protos in merged.items():
            via = f" via {' -> '.join(hops)}" if hops else ""
            lines.append(f"  {source}{via} -> {dest} ({djur or 'unattributed'}) {','.join(protos)}/{ports}")
            lines.extend(f"      {r}" for r in rules)
    for i in data["ignoredPolicies"]:
        ns = f"{i['namespace']}/" if i["namespace"] else ""
        lines.append(f"ignored: {i['kind']} {ns}{i['name']}: {i['reason']}")
    lines.extend(f"note: {n}" for n in data["notes"])
    return "\n".join(lines)


def _answers_text(answers: list[dict[str, Any]]) -> str:
    return "\n".join(text_answer(a) for a in answers) + "\n"


def _answers_json(answers: list[dict[str, Any]]) -> str:
    return json.dumps(answers, indent=2, sort_keys=True) + "\n"


def _summary_text(result: ReachSummary) -> str:
    return _text_summary(result.data, result.workloads) + "\n"


def _summary_json(result: ReachSummary) -> str:
    return json.dumps(result.data, indent=2, sort_keys=True) + "\n"


ANSWER_RENDERERS = {"text": _answers_text, "json": _answers_json}
SUMMARY_RENDERERS = {"text": _summary_text, "json": _summary_json}
