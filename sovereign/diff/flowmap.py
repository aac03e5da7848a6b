"""The flow map of the HEAD posture: its edges as data (JSON) and as Mermaid (``flowchart LR``, for a pull-request
comment).

Jurisdictions are nodes. Each declared transfer is an edge drawn by its state at the evaluation time (the stack
model's ``Transfer.state``): active transfers solid green, pending ones (not yet valid) dotted blue ending in a
circle, expired ones dotted grey ending in a cross; cross-border flows that no active transfer covers are red
dashed edges (one per source/destination pair). Each edge's label starts with the state's word too, so the map
reads the same without colour.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sovereign.diff.posture import Posture
from sovereign.estate.proof import UNATTRIBUTED
from sovereign.stackconfig.model import TransferState

UNAPPROVED = "unapproved"
"""The edge state of cross-border flows without an active transfer."""

EDGE_DRAWING: dict[str, tuple[str, str]] = {
    TransferState.ACTIVE.value: ("-->", "stroke:#2da44e,stroke-width:2px"),
    TransferState.PENDING.value: ("-.-o", "stroke:#0969da,stroke-width:2px,stroke-dasharray:2 4"),
    TransferState.EXPIRED.value: ("-.-x", "stroke:#8c959f,stroke-width:2px,stroke-dasharray:2 4"),
    UNAPPROVED: ("-.->", "stroke:#d73a49,stroke-width:2px,stroke-dasharray:5 5"),
}
"""Edge state -> (Mermaid link, linkStyle). Every state is drawn apart: line, arrow head and colour."""

LEGEND = (
    "solid green: active transfer · dotted blue ending in ○: pending transfer (not yet valid) · dotted grey "
    "ending in ×: expired transfer · dashed red: cross-border flow without an active transfer"
)


@dataclass(frozen=True, order=True)
class FlowEdge:
    stack: str
    source: str
    """Jurisdiction id the edge leaves."""
    destination: str
    """Jurisdiction id it reaches (``unattributed`` for nobody's address space)."""
    state: str
    """``active``, ``pending``, ``expired`` (a declared transfer) or ``unapproved`` (flows no transfer covers)."""
    transfer: str
    """The transfer's id; empty for unapproved flows."""
    label: str


def _node_id(jurisdiction: str) -> str:
    return "j_" + re.sub(r"[^A-Za-z0-9_]", "_", jurisdiction)


def _label(text: str) -> str:
    """Mermaid label text: quotes and angle brackets as entities, so the label cannot break the syntax."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("|", "#124;")


def _transfer_label(state: TransferState, reference: str, classes: str, valid_from: str, valid_until: str) -> str:
    if state is TransferState.PENDING:
        return f"PENDING {reference} · {classes} · from {valid_from[:10]}"
    if state is TransferState.EXPIRED:
        return f"EXPIRED {reference} · {classes} · ended {valid_until[:10]}"
    return f"{reference} · {classes} · until {valid_until[:10]}"


def flow_edges(postures: Sequence[Posture], at: datetime) -> list[FlowEdge]:
    """The map's edges, per stack in name order: its transfers by id, then its unapproved flows by destination."""
    edges: list[FlowEdge] = []
    for p in sorted(postures, key=lambda x: x.stack):
        for tid, standing in p.standings(at, timedelta(0)).items():
            t = standing.fact
            label = _transfer_label(
                standing.state, t.approval_reference, ", ".join(t.data_classes), t.valid_from, t.valid_until
            )
            edges.append(
                FlowEdge(p.stack, p.jurisdiction, t.destination_jurisdiction, standing.state.value, tid, label)
            )
        unapproved: dict[str, list[str]] = {}
        for f in sorted(p.flows):
            if f.approval:
                continue
            who = f.source + (f" via {', '.join(f.via)}" if f.via else "")
            unapproved.setdefault(f.destination_jurisdiction, []).append(f"{who} {f.protocol}/{f.ports}")
        for dest, items in sorted(unapproved.items()):
            shown = sorted(set(items))
            more = f" (+{len(shown) - 3} more)" if len(shown) > 3 else ""
            label = f"NO APPROVAL: {'; '.join(shown[:3])}{more}"
            edges.append(FlowEdge(p.stack, p.jurisdiction, dest, UNAPPROVED, "", label))
    return edges


def mermaid(postures: Sequence[Posture], edges: Sequence[FlowEdge]) -> str:
    """``flowchart LR``: a node per jurisdiction (its stacks named), then the edges, then one linkStyle each."""
    stacks_by_jur: dict[str, list[str]] = {}
    for p in postures:
        stacks_by_jur.setdefault(p.jurisdiction, []).append(p.stack)
    nodes = set(stacks_by_jur) | {e.source for e in edges} | {e.destination for e in edges}
    lines = ["flowchart LR"]
    for jur in sorted(nodes):
        if jur == UNATTRIBUTED:
            caption = "unattributed address space"
        else:
            stacks = stacks_by_jur.get(jur)
            caption = f"{jur}" + (f" ({', '.join(sorted(stacks))})" if stacks else "")
        lines.append(f'    {_node_id(jur)}["{_label(caption)}"]')
    styles = []
    for index, edge in enumerate(edges):
        link, style = EDGE_DRAWING[edge.state]
        lines.append(f'    {_node_id(edge.source)} {link}|"{_label(edge.label)}"| {_node_id(edge.destination)}')
        styles.append(f"    linkStyle {index} {style}")
    return "\n".join(lines + styles) + "\n"
