"""A Mermaid flow map (``flowchart LR``) of the HEAD posture, for a pull-request comment.

Jurisdictions are nodes; approved transfers are solid edges labelled with the approval reference and expiry;
cross-border flows that no active transfer covers are red dashed edges (one per source/destination pair).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sovereign.diff.posture import UNATTRIBUTED, Posture

RED_DASHED = "stroke:#d73a49,stroke-width:2px,stroke-dasharray:5 5"
GREEN = "stroke:#2da44e,stroke-width:2px"


def _node_id(jurisdiction: str) -> str:
    return "j_" + re.sub(r"[^A-Za-z0-9_]", "_", jurisdiction)


def _label(text: str) -> str:
    """Mermaid label text: quotes and angle brackets as entities, so the label cannot break the syntax."""
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;").replace("|", "#124;")


def flow_map(postures: Sequence[Posture]) -> str:
    nodes: dict[str, str] = {}
    for p in postures:
        nodes.setdefault(p.jurisdiction, "")
    stacks_by_jur: dict[str, list[str]] = {}
    for p in postures:
        stacks_by_jur.setdefault(p.jurisdiction, []).append(p.stack)
    edges: list[tuple[str, str, str, str]] = []  # (from, to, label, style)
    for p in sorted(postures, key=lambda x: x.stack):
        for t in sorted(p.transfers.values()):
            nodes.setdefault(t.destination_jurisdiction, "")
            label = f"{t.approval_reference} · {', '.join(t.data_classes)} · until {t.valid_until[:10]}"
            edges.append((p.jurisdiction, t.destination_jurisdiction, label, GREEN))
        unapproved: dict[str, list[str]] = {}
        for f in sorted(p.flows):
            if f.approval:
                continue
            nodes.setdefault(f.destination_jurisdiction, "")
            who = f.source + (f" via {', '.join(f.via)}" if f.via else "")
            unapproved.setdefault(f.destination_jurisdiction, []).append(f"{who} {f.protocol}/{f.ports}")
        for dest, items in sorted(unapproved.items()):
            shown = sorted(set(items))
            more = f" (+{len(shown) - 3} more)" if len(shown) > 3 else ""
            label = f"NO APPROVAL: {'; '.join(shown[:3])}{more}"
            edges.append((p.jurisdiction, dest, label, RED_DASHED))
    lines = ["flowchart LR"]
    for jur in sorted(nodes):
        if jur == UNATTRIBUTED:
            caption = "unattributed address space"
        else:
            stacks = stacks_by_jur.get(jur)
            caption = f"{jur}" + (f" ({', '.join(sorted(stacks))})" if stacks else "")
        lines.append(f'    {_node_id(jur)}["{_label(caption)}"]')
    styles = []
    for index, (src, dst, label, style) in enumerate(edges):
        arrow = "-.->" if style == RED_DASHED else "-->"
        lines.append(f'    {_node_id(src)} {arrow}|"{_label(label)}"| {_node_id(dst)}')
        styles.append(f"    linkStyle {index} {style}")
    return "\n".join(lines + styles) + "\n"
