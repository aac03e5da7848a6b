"""The data-flow register as JSON (validated by ``docs/schemas/register.schema.json``), Markdown, or one
self-contained HTML page a compliance officer can open offline: inline CSS, an inline SVG flow diagram, no script
and nothing fetched from anywhere.

Markdown and HTML show the same tables, built once (``_sections``) from the register's records; the diagram draws
each transfer by its state the way the diff's flow map does (``sovereign.diff.flowmap.EDGE_DRAWING``: active solid
green, pending dotted blue ending in a circle, expired dotted grey ending in a cross, flows no active transfer
approves dashed red), each label starting with the state's word, so it reads the same in black and white.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sovereign.diff.flowmap import EDGE_DRAWING, LEGEND, UNAPPROVED
from sovereign.output.check_formats import md_cell
from sovereign.register.model import DISCREPANCY_KINDS, CrossBorderFlow, Register, register_document


@dataclass(frozen=True)
class _Table:
    title: str
    intro: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    empty: str


def _join(items: Sequence[str], empty: str = "—") -> str:
    return ", ".join(items) if items else empty


def _flow_route(f: CrossBorderFlow) -> str:
    return f.source + (f" → {' → '.join(f.via)}" if f.via else "")


def _flows_by_approval(flows: Sequence[CrossBorderFlow]) -> str:
    """``eu: CAC-SA-2026-0042 (2 paths)``: a class's cross-border flows counted by destination and approval."""
    counts: dict[str, int] = {}
    for f in flows:
        key = f"{f.destination_jurisdiction}: {f.approval.reference if f.approval else 'NO APPROVAL'}"
        counts[key] = counts.get(key, 0) + 1
    return _join([f"{k} ({n} path{'s' if n > 1 else ''})" for k, n in sorted(counts.items())], "none")


def _summary_line(r: Register) -> str:
    s = r.summary()
    t = s["transfers"]
    agree = "intent and proof agree" if s["intentMatchesProof"] else f"{s['discrepancies']} discrepancy(ies) " \
        "between intent and proof"
    return (f"{s['dataClasses']} data classes · {s['workloads']} workloads · {s['exits']} path(s) out of the "
            f"cluster · {s['crossBorderFlows']} cross-border flow(s) ({s['approvedFlows']} approved, "
            f"{s['unapprovedFlows']} without approval) · transfers: {t['active']} active, {t['pending']} pending, "
            f"{t['expired']} expired · {agree}")


def _sections(r: Register) -> list[_Table]:
    classes = _Table(
        "Data classes", "Per data class: its legal rule (catalog), where it rests, who handles it, how it can leave.",
        ("data class", "legal rule", "stored in", "storage", "read by", "written by", "exits", "cross-border"),
        tuple((d.id + ("" if d.known else " (not in the catalog)"),
               f"{d.category or '?'}; export {d.export}"
               + (f" to {_join(d.allowed_destinations)}" if d.allowed_destinations else "")
               + (f"; regulator {d.regulator}" if d.regulator else ""),
               _join(d.regions, "nowhere rendered") + (f" ({_join(d.zones)})" if d.zones else ""),
               _join([f"{s.kind} {s.name} ({_join(s.jurisdictions)})" for s in d.storage]),
               _join(d.readers), _join(d.writers), str(len(d.exits)),
               _flows_by_approval(d.flows))
              for d in r.data_classes),
        "No data class is named by the stack.")
    flows = _Table(
        "Cross-border flows", "Every path the connectivity proof finds from a workload to another jurisdiction, "
        "with the approval that covers it at the evaluation time.",
        ("from", "to", "jurisdiction", "port", "data classes", "approval"),
        tuple((_flow_route(f), f.destination, f.destination_jurisdiction, f"{f.ports}/{f.protocol}",
               _join(f.data_classes),
               (f"{f.approval.reference} ({f.approval.regulator}, {f.approval.transfer}, until "
                f"{f.approval.valid_until[:10]})" if f.approval else
                "NO APPROVAL" + (f" (covered only by {_join([f'{a.transfer} {a.state}' for a in f.covering])})"
                                 if f.covering else "")))
              for f in r.flows),
        "None: the proof finds no path to another jurisdiction.")
    transfers = _Table(
        "Transfers and their approvals", "Every transfer the stack declares, its state at the evaluation time and "
        "how many proof paths it covers.",
        ("transfer", "state", "approval", "regulator", "scope", "destination", "valid", "data classes",
         "paths found", "note"),
        tuple((a.transfer, a.state, a.reference, a.regulator, a.scope,
               f"{a.destination_jurisdiction}: {_join(a.destinations)} ({_join(a.destination_ports)})",
               f"{a.valid_from} – {a.valid_until}", _join(a.data_classes), str(n), a.note)
              for a, n in r.transfers),
        "None declared.")
    exits = _Table(
        "Paths out of the cluster", "Every destination outside the cluster a workload may open (the proof), what "
        "it can carry (the workload's classes) and the declaration that opens it.",
        ("workload", "destination", "class", "jurisdiction", "port", "carries", "opened by"),
        tuple((e.workload, e.destination, e.destination_class, e.jurisdiction, f"{e.ports}/{e.protocol}",
               _join(e.data_classes), e.explained_by or "NOTHING DECLARED") for e in r.exits),
        "None: no workload can open anything outside the cluster.")
    disc = _Table(
        "Intent against proof", "Where the stack's declarations and the connectivity proof disagree.",
        ("kind", "what", "detail"),
        tuple((d.kind, d.subject, d.message) for d in r.discrepancies),
        "None: every declared egress and transfer is a path the proof finds, and every path it finds is declared.")
    return [classes, flows, transfers, exits, disc]


def _header_facts(r: Register) -> list[tuple[str, str]]:
    c = r.cluster
    return [("Evaluated at", r.evaluated_at), ("Catalog", r.catalog["text"]),
            ("Cluster", f"{c['name']} on {c['provider']}, regions {_join(c['regions'])}; CNI {c['cni']['name']} "
                        f"({_join(c['cni']['enforces'])})"),
            ("Summary", _summary_line(r))]


# ---------------------------------------------------------------- JSON


def json_report(registers: Sequence[Register]) -> str:
    at = registers[0].evaluated_at if registers else ""
    return json.dumps(register_document(list(registers), at), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- Markdown


def markdown_report(registers: Sequence[Register]) -> str:
    out: list[str] = []
    for r in sorted(registers, key=lambda x: x.stack):
        out.append(f"# Data-flow register: {r.stack} ({r.jurisdiction_name}, `{r.jurisdiction}`)\n")
        out.extend(f"- **{k}**: {md_cell(v)}" for k, v in _header_facts(r))
        out.append("")
        for table in _sections(r):
            out.append(f"## {table.title}\n")
            out.append(f"{table.intro}\n")
            if not table.rows:
                out.append(f"{table.empty}\n")
                continue
            out.append("| " + " | ".join(table.headers) + " |")
            out.append("|" + "---|" * len(table.headers))
            out.extend("| " + " | ".join(md_cell(c) for c in row) + " |" for row in table.rows)
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


# ---------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#1f2328;max-width:1200px}
h1{font-size:1.5rem;border-bottom:2px solid #d0d7de;padding-bottom:.3rem}h2{font-size:1.15rem;margin-top:1.8rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.legend{font-size:.8rem;color:#57606a}svg text{font-family:inherit}
@media print{body{margin:0}}
"""

_BOX_W, _BOX_H, _GAP, _WIDTH = 190, 56, 110, 900


def _svg_style(style: str) -> str:
    """A Mermaid ``linkStyle`` (``stroke:#2da44e,stroke-width:2px,...``) as SVG attributes."""
    attrs = []
    for part in style.split(","):
        key, _, value = part.partition(":")
        attrs.append(f'{key.strip()}="{html.escape(value.strip().removesuffix("px"))}"')
    return " ".join(attrs)


def _marker(state: str) -> str:
    colour = EDGE_DRAWING[state][1].split(",")[0].partition(":")[2]
    link = EDGE_DRAWING[state][0]
    if link.endswith("o"):
        shape = f'<circle cx="5" cy="5" r="4" fill="white" stroke="{colour}" stroke-width="1.5"/>'
    elif link.endswith("x"):
        shape = f'<path d="M1,1 L9,9 M9,1 L1,9" stroke="{colour}" stroke-width="2"/>'
    else:
        shape = f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/>'
    return (f'<marker id="end-{state}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
            f'orient="auto-start-reverse">{shape}</marker>')


def _edges(r: Register) -> list[tuple[str, str, str]]:
    """(destination jurisdiction, state, label): each transfer by its state, then flows no active transfer
    approves, one edge per destination."""
    edges = []
    for a, n in r.transfers:
        word = {"active": "ACTIVE", "pending": "PENDING", "expired": "EXPIRED"}.get(a.state, a.state.upper())
        edges.append((a.destination_jurisdiction, a.state,
                      f"{word} {a.reference} · {_join(a.data_classes)} · {a.valid_from[:10]}–{a.valid_until[:10]}"
                      f" · {n} path(s)"))
    unapproved: dict[str, list[str]] = {}
    for f in r.flows:
        if not f.approved:
            unapproved.setdefault(f.destination_jurisdiction, []).extend(f.data_classes or ("unknown classes",))
    for dest, classes in sorted(unapproved.items()):
        edges.append((dest, UNAPPROVED, f"NO APPROVAL · {_join(sorted(set(classes)))}"))
    return edges


def _svg(r: Register) -> str:
    edges = _edges(r)
    destinations = sorted({d for d, _s, _l in edges})
    rows = max(1, len(destinations))
    height = max(_BOX_H + 40, rows * (_BOX_H + _GAP) - _GAP + 40)
    home_y = (height - _BOX_H) // 2
    right_x = _WIDTH - _BOX_W - 10
    parts = [f'<svg role="img" aria-label="Flows out of {html.escape(r.jurisdiction)}" width="{_WIDTH}" '
             f'height="{height}" viewBox="0 0 {_WIDTH} {height}">',
             "<defs>" + "".join(_marker(s) for s in EDGE_DRAWING) + "</defs>"]

    def box(x: int, y: int, title: str, sub: str) -> None:
        parts.append(f'<rect x="{x}" y="{y}" width="{_BOX_W}" height="{_BOX_H}" rx="6" fill="#f6f8fa" '
                     'stroke="#57606a"/>')
        parts.append(f'<text x="{x + _BOX_W // 2}" y="{y + 24}" text-anchor="middle" font-size="15" '
                     f'font-weight="600">{html.escape(title)}</text>')
        parts.append(f'<text x="{x + _BOX_W // 2}" y="{y + 42}" text-anchor="middle" font-size="11">'
                     f'{html.escape(sub)}</text>')

    box(10, home_y, r.jurisdiction, f"stack {r.stack}")
    dest_y = {d: 20 + i * (_BOX_H + _GAP) for i, d in enumerate(destinations)}
    for d in destinations:
        box(right_x, dest_y[d], d, "unattributed address space" if d == "unattributed" else "jurisdiction")
    per_dest: dict[str, int] = {}
    for dest, state, label in edges:
        index = per_dest.get(dest, 0)
        per_dest[dest] = index + 1
        count = sum(1 for e in edges if e[0] == dest)
        offset = (index - (count - 1) / 2) * 14
        x1, y1 = 10 + _BOX_W, home_y + _BOX_H / 2 + offset
        x2, y2 = right_x, dest_y[dest] + _BOX_H / 2 + offset
        parts.append(f'<line x1="{x1}" y1="{y1:g}" x2="{x2}" y2="{y2:g}" fill="none" '
                     f'{_svg_style(EDGE_DRAWING[state][1])} marker-end="url(#end-{state})"/>')
        parts.append(f'<text x="{(x1 + x2) / 2:g}" y="{(y1 + y2) / 2 - 5:g}" text-anchor="middle" font-size="11">'
                     f'{html.escape(label)}</text>')
    if not edges:
        parts.append(f'<text x="{10 + _BOX_W + 20}" y="{home_y + _BOX_H // 2 + 4}" font-size="12">No declared '
                     "transfer and no path to another jurisdiction.</text>")
    parts.append("</svg>")
    return "\n".join(parts)


def _html_table(table: _Table) -> str:
    out = [f"<h2>{html.escape(table.title)}</h2>", f"<p>{html.escape(table.intro)}</p>"]
    if not table.rows:
        out.append(f"<p>{html.escape(table.empty)}</p>")
        return "\n".join(out)
    out.append("<table><thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in table.headers)
               + "</tr></thead><tbody>")
    out.extend("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows)
    out.append("</tbody></table>")
    return "\n".join(out)


def html_report(registers: Sequence[Register]) -> str:
    ordered = sorted(registers, key=lambda x: x.stack)
    title = "Data-flow register: " + ", ".join(r.stack for r in ordered)
    body = []
    for r in ordered:
        body.append(f"<section><h1>Data-flow register: {html.escape(r.stack)} "
                    f"({html.escape(r.jurisdiction_name)}, {html.escape(r.jurisdiction)})</h1>")
        body.append("<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>"
                                     for k, v in _header_facts(r)) + "</dl>")
        body.append("<h2>Flow diagram</h2>")
        body.append(_svg(r))
        body.append(f'<p class="legend">{html.escape(LEGEND)}</p>')
        body.extend(_html_table(t) for t in _sections(r))
        body.append("<h2>What each discrepancy kind means</h2><dl>" + "".join(
            f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in sorted(DISCREPANCY_KINDS.items()))
            + "</dl></section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


RENDERERS: dict[str, Callable[[Sequence[Register]], str]] = {
    "json": json_report,
    "markdown": markdown_report,
    "html": html_report,
}
"""Format -> renderer of a register report (the registers of the stacks asked for); the first is the default."""
