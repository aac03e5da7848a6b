"""The diff as Markdown (a pull-request comment: posture, the Mermaid flow map, then resources) or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from sovereign.diff.compare import DiffResult, StackDiff
from sovereign.diff.flowmap import LEGEND
from sovereign.diff.posture import PostureDiff, TransferStanding, camel
from sovereign.output.check_formats import md_cell
from sovereign.stackconfig.model import TransferState

OP_SIGNS = {"create": "+", "delete": "-", "update": "~", "replace": "+-"}
MAX_VALUE = 120
SECRET_CHANGE = {"add": "[secret] (added)", "delete": "[secret] (removed)", "update": "changed (secret)"}
"""What a secret property change reads as: that it changed, never to what."""


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def _counts(p: PostureDiff) -> list[str]:
    parts = []
    for label, n in (
        ("egress opened", len(p.egress_opened)),
        ("egress closed", len(p.egress_closed)),
        ("cross-border flows added", len(p.flows_added)),
        ("cross-border flows removed", len(p.flows_removed)),
        ("storage/backup moves", len(p.placements)),
        ("transfers added", len(p.transfers_added)),
        ("transfers removed", len(p.transfers_removed)),
        ("transfers changed", len({t[0] for t in p.transfers_changed})),
        ("new violations", len(p.policy_added)),
        ("resolved violations", len(p.policy_resolved)),
    ):
        if n:
            parts.append(f"{n} {label}")
    return parts


def _state_counts(p: PostureDiff) -> str:
    """``1 active (1 expiring), 1 expired``: the standing picture of a stack's transfers, not its changes."""
    parts = []
    for state in (TransferState.ACTIVE, TransferState.PENDING, TransferState.EXPIRED):
        n = len(p.transfers_in(state))
        if n:
            expiring = len(p.transfers_expiring) if state is TransferState.ACTIVE else 0
            parts.append(f"{n} {state.value}" + (f" ({expiring} expiring)" if expiring else ""))
    return ", ".join(parts) or "—"


def _state_text(t: TransferStanding) -> str:
    if t.state is TransferState.PENDING:
        return "⏳ pending (not yet valid)"
    if t.state is TransferState.EXPIRED:
        return "❌ expired"
    if t.expiring:
        return f"⚠️ active, expiring ({t.days_left} days left)"
    return "✅ active"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(md_cell(c) for c in row) + " |" for row in rows]
    return out + [""]


def _posture_md(s: StackDiff, at: str) -> list[str]:
    p = s.posture
    lines = [f"### Posture: `{s.stack}` ({p.jurisdiction}) — {s.status}", ""]
    if p.is_empty():
        return lines + ["No residency change.", ""] + _standing_md(s, at)
    if p.egress_opened or p.egress_closed:
        lines += ["**Egress destinations**", ""]
        rows = [
            ["opened", e.workload, e.destination, e.jurisdiction, f"{e.protocol}/{e.ports}"]
            for e in p.egress_opened
        ]
        rows += [
            ["closed", e.workload, e.destination, e.jurisdiction, f"{e.protocol}/{e.ports}"]
            for e in p.egress_closed
        ]
        lines += _table(["", "Workload", "Destination", "Jurisdiction", "Ports"], rows)
    if p.flows_added or p.flows_removed:
        lines += ["**Cross-border flows**", ""]
        rows = []
        for change, flows in (("added", p.flows_added), ("removed", p.flows_removed)):
            for f in flows:
                approval = f.approval or ("❌ no approval" if change == "added" else "none")
                via = f" via {', '.join(f.via)}" if f.via else ""
                rows.append(
                    [
                        change,
                        f"{f.source}{via}",
                        f"{f.destination} ({f.destination_jurisdiction})",
                        f"{f.protocol}/{f.ports}",
                        approval,
                    ]
                )
        lines += _table(["", "From", "To", "Ports", "Approval"], rows)
    if p.placements:
        lines += ["**Storage and backups moved**", ""]
        rows = [[f"{c.kind} {c.name}", c.field, c.old or "—", c.new or "—"] for c in p.placements]
        lines += _table(["Object", "Field", "Before", "After"], rows)
    if p.transfers_added or p.transfers_removed or p.transfers_changed:
        lines += ["**Transfers changed**", ""]
        rows = []
        for st in p.transfers_added:
            t = st.fact
            rows.append(
                [
                    "added",
                    t.id,
                    f"{t.approval_reference} ({t.regulator}) → {t.destination_jurisdiction}, "
                    f"{', '.join(t.data_classes)}, {t.valid_from} → {t.valid_until}; {_state_text(st)}",
                ]
            )
        for st in p.transfers_removed:
            t = st.fact
            rows.append(
                ["removed", t.id, f"{t.approval_reference} → {t.destination_jurisdiction}; was {_state_text(st)}"]
            )
        for tid, field, old, new in p.transfers_changed:
            rows.append(["changed", tid, f"{field}: {old} → {new}"])
        lines += _table(["", "Transfer", "Detail"], rows)
    if p.policy_added or p.policy_resolved:
        lines += ["**Policy results**", ""]
        rows = [
            [
                ("❌ new " if v.mandatory else "⚠️ new ") + v.enforcement,
                v.policy,
                v.resource.label(),
                v.message,
            ]
            for v in p.policy_added
        ]
        rows += [["✅ resolved", v.policy, v.resource.label(), v.message] for v in p.policy_resolved]
        lines += _table(["", "Policy", "Resource", "Finding"], rows)
    return lines + _standing_md(s, at)


def _standing_md(s: StackDiff, at: str) -> list[str]:
    """Every transfer of the stack and its state at the evaluation time: what may leave, not what changed."""
    p = s.posture
    if not p.transfers:
        return []
    side = "BASE" if s.status == "removed" else "HEAD"
    lines = [f"**Transfers of {side} at `{at}`** (their state, not a change)", ""]
    rows = [
        [
            _state_text(st),
            st.fact.id,
            f"{st.fact.approval_reference} ({st.fact.regulator})",
            st.fact.destination_jurisdiction,
            ", ".join(st.fact.data_classes),
            f"{st.fact.valid_from} → {st.fact.valid_until}",
        ]
        for st in p.transfers
    ]
    return lines + _table(["State", "Transfer", "Approval", "To", "Data classes", "Valid"], rows)


def _resources_md(s: StackDiff) -> list[str]:
    counts = {
        op: sum(1 for r in s.resources if r.op == op) for op in ("create", "update", "replace", "delete")
    }
    summary = ", ".join(f"{n} to {op}" for op, n in counts.items() if n) or "no changes"
    lines = [f"<details><summary><code>{s.stack}</code>: {summary}</summary>", ""]
    if s.resources:
        lines.append("```diff")
        for r in s.resources:
            lines.append(f"{OP_SIGNS[r.op]} {r.type}::{r.name}")
            for c in r.properties:
                if c.secret:
                    sign = {"add": "+", "delete": "-"}.get(c.kind, "~")
                    lines.append(f"{sign}     {c.path}: {SECRET_CHANGE.get(c.kind, 'changed (secret)')}")
                elif c.kind == "add":
                    lines.append(f"+     {c.path}: {_value(c.new)}")
                elif c.kind == "delete":
                    lines.append(f"-     {c.path}: {_value(c.old)}")
                else:
                    lines.append(f"~     {c.path}: {_value(c.old)} => {_value(c.new)}")
        lines.append("```")
    return lines + ["", "</details>", ""]


def to_markdown(result: DiffResult) -> str:
    unapproved = sum(len(s.posture.unapproved_flows_added) for s in result.stacks)
    new_mandatory = sum(1 for s in result.stacks for v in s.posture.policy_added if v.mandatory)
    verdict = "❌ needs attention" if result.exit_code else "✅ no new residency risk"
    lines = [f"## Residency diff: `{result.base_label}` → `{result.head_label}` — {verdict}", ""]
    lines.append(
        f"Evaluated at `{result.at.isoformat()}` · transfers expiring within {result.expiring_days} days "
        f"flagged · policy pack {'run on both sides' if result.policy_checked else 'not run'}"
    )
    lines.append("")
    if unapproved or new_mandatory:
        lines += [
            f"**{unapproved} cross-border flow(s) without approval added, {new_mandatory} new mandatory "
            "violation(s).**",
            "",
        ]
    rows = [
        [
            f"`{s.stack}`",
            s.status,
            "; ".join(_counts(s.posture)) or "—",
            _state_counts(s.posture),
            str(len(s.resources)),
        ]
        for s in result.stacks
    ]
    lines += [
        "| Stack | Status | Residency changes | Transfers (state) | Resource changes |",
        "|---|---|---|---|---:|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in rows] + [""]
    lines += ["### Flow map (HEAD)", "", "```mermaid", result.flow_map.rstrip("\n"), "```", "", LEGEND, ""]
    at = result.at.isoformat()
    for s in result.stacks:
        lines += _posture_md(s, at)
        lines += [f"> {md_cell(note)}" for note in s.notes] + ([""] if s.notes else [])
    lines += ["### Resource changes", ""]
    for s in result.stacks:
        lines += _resources_md(s)
    return "\n".join(lines).rstrip("\n") + "\n"


def _record(obj: Any) -> dict[str, Any]:
    """A posture record (dataclass) with camelCase keys; values (e.g. Kubernetes label maps) untouched."""
    return {camel(k): v for k, v in asdict(obj).items()}


def _standing(t: TransferStanding) -> dict[str, Any]:
    """A transfer's record with its state at the evaluation time: ``state``, ``expiring``, ``daysLeft``."""
    return {**_record(t.fact), "state": t.state.value, "expiring": t.expiring, "daysLeft": t.days_left}


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, tuple | list):
        return [_jsonable(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    return obj


def to_json(result: DiffResult) -> str:
    stacks = []
    for s in result.stacks:
        p = s.posture
        stacks.append(
            {
                "stack": s.stack,
                "status": s.status,
                "notes": s.notes,
                "jurisdiction": p.jurisdiction,
                "transfers": [_standing(t) for t in p.transfers],
                "posture": {
                    "egressOpened": [_record(e) for e in p.egress_opened],
                    "egressClosed": [_record(e) for e in p.egress_closed],
                    "crossBorderFlowsAdded": [_record(f) for f in p.flows_added],
                    "crossBorderFlowsRemoved": [_record(f) for f in p.flows_removed],
                    "storageAndBackupsMoved": [_record(c) for c in p.placements],
                    "transfersAdded": [_standing(t) for t in p.transfers_added],
                    "transfersRemoved": [_standing(t) for t in p.transfers_removed],
                    "transfersChanged": [
                        {"id": t[0], "field": t[1], "old": t[2], "new": t[3]} for t in p.transfers_changed
                    ],
                    "policyAdded": [v.to_json() for v in p.policy_added],
                    "policyResolved": [v.to_json() for v in p.policy_resolved],
                },
                "resources": [
                    {
                        "op": r.op,
                        "urn": r.urn,
                        "type": r.type,
                        "name": r.name,
                        "properties": [
                            {"path": c.path, "kind": c.kind, "old": c.old, "new": c.new, "secret": c.secret}
                            for c in r.properties
                        ],
                    }
                    for r in s.resources
                ],
            }
        )
    doc = {
        "base": result.base_label,
        "head": result.head_label,
        "at": result.at.isoformat(),
        "expiringDays": result.expiring_days,
        "policyChecked": result.policy_checked,
        "stacks": stacks,
        "flowMap": result.flow_map,
        "flowEdges": [_record(e) for e in result.flow_edges],
        "result": "attention" if result.exit_code else "ok",
    }
    return json.dumps(_jsonable(doc), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


RENDERERS = {"markdown": to_markdown, "json": to_json}
"""``sovereign diff --format``: Markdown first (the default: a pull-request comment)."""
