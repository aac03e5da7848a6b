"""The documents of a bundle that follow from its inputs: the policy results, the render's digests, the
connectivity proof's summary and the verdict. One derivation, run when the bundle is written and again by the
verifier over the bundled inputs, so "the same" means byte-identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.catalog.model import Catalog
from sovereign.check.model import CheckReport
from sovereign.core.clock import evaluation_time
from sovereign.estate.proof import EstateProof, prove_estate
from sovereign.evidence import layout
from sovereign.evidence.canonical import json_bytes, sha256_hex
from sovereign.output.check_formats import to_json, verdict_line
from sovereign.output.reach_formats import summary
from sovereign.output.register_formats import json_report
from sovereign.register.build import register_of
from sovereign.render.rendered import load_render


@dataclass(frozen=True)
class Derived:
    files: dict[str, bytes]
    """Bundle path -> bytes, for every derived document (``layout.DERIVED``)."""
    verdict: dict[str, Any]


def verdict(report: CheckReport) -> dict[str, Any]:
    """The verdict a bundle states, from the check report alone (pass: no mandatory violation)."""
    return {
        "result": "fail" if report.mandatory_count else "pass",
        "mandatory": report.mandatory_count,
        "advisory": report.advisory_count,
        "activeTransfers": len(report.active_transfers),
        "line": verdict_line(report),
    }


def render_digests(render_dir: Path) -> dict[str, str]:
    """SHA-256 of every file of one stack's render (``preview.json``, ``manifests/…``), by relative POSIX path."""
    return {p.relative_to(render_dir).as_posix(): sha256_hex(p.read_bytes())
            for p in sorted(render_dir.rglob("*")) if p.is_file()}


def connectivity_summary(proof: EstateProof) -> dict[str, Any]:
    """The connectivity proof over the render: ``sovereign reach --summary``'s document (every path leaving the
    jurisdiction, ignored policies, notes), the number of workloads it covered, and each cross-border flow with
    the approval reference of the active transfer covering it (empty: none covers it)."""
    flows = [
        {"source": f.source, "via": list(f.via), "destination": f.destination,
         "sourceJurisdiction": f.source_jurisdiction, "destinationJurisdiction": f.destination_jurisdiction,
         "protocol": f.protocol, "ports": f.ports, "approval": f.approval}
        for f in sorted(proof.flows)
    ]
    return {**summary(proof.report), "workloads": len(proof.report.workloads), "flows": flows,
            "engine": "sovereign.connectivity (the engine of the no-cross-border-path rule)"}


def derive(report: CheckReport, render_dir: Path, catalog: Catalog, at: str) -> Derived:
    """Every derived document of one stack's bundle from its check report and render."""
    when = evaluation_time(at)
    proof = prove_estate(load_render(render_dir), catalog, when)
    files = {
        layout.RESULTS: to_json(report).encode("utf-8"),
        layout.RENDER: json_bytes({"files": render_digests(render_dir)}),
        layout.CONNECTIVITY: json_bytes(connectivity_summary(proof)),
        # the data-flow register, as `sovereign register STACK --format json --at AT` writes it
        layout.REGISTER: json_report([register_of(proof, catalog, when)]).encode("utf-8"),
    }
    return Derived(files=files, verdict=verdict(report))
