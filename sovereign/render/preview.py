"""Build ``preview.json``: the steps of ``pulumi preview --json`` for a first deployment, from the recording.

Shape (docs/pulumi-runtime.md §4, pkg/display/json.go): ``{"config", "steps": [{op, urn, provider, newState: {type,
urn, custom, inputs, parent, provider, dependencies, propertyDependencies}}], "diagnostics",
"changeSummary"}``. Empty fields are left out as Go's ``omitempty`` leaves them out. Secrets read
``"[secret]"``.

Differences from a real preview, on purpose: no ``duration`` (it would break byte-identical renders), no
``id`` in ``newState`` and ``outputs`` only for the root Stack (its exports; a preview of a Kubernetes create
only echoes the inputs), and the step order is a
deterministic topological order of the registrations (parents, providers and dependencies first, ties broken
by URN, the root Stack first) because the SDK registers resources from several threads and arrival order
varies between runs; the real engine's order varies for the same reason.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping
from typing import Any

from sovereign.render import wire
from sovereign.render.registration import Registration
from sovereign.render.urns import ROOT_STACK_TYPE, split_provider_reference


def _prerequisites(reg: Registration) -> set[str]:
    needs = set(reg.dependencies)
    for urns in reg.property_dependencies.values():
        needs.update(urns)
    if reg.parent:
        needs.add(reg.parent)
    if reg.provider:
        needs.add(split_provider_reference(reg.provider)[0])
    needs.discard(reg.urn)
    return needs


def registration_order(registrations: Iterable[Registration]) -> list[Registration]:
    """Every resource after its parent, provider and dependencies; otherwise by URN (stable across runs)."""
    by_urn: dict[str, Registration] = {}
    for reg in registrations:
        by_urn.setdefault(reg.urn, reg)
    waiting: dict[str, set[str]] = {u: _prerequisites(r) & by_urn.keys() for u, r in by_urn.items()}
    dependents: dict[str, list[str]] = {u: [] for u in by_urn}
    for urn, needs in waiting.items():
        for need in needs:
            dependents[need].append(urn)

    def key(urn: str) -> tuple[int, str]:
        # The root Stack first, as the engine registers it before anything else.
        return (0 if by_urn[urn].type == ROOT_STACK_TYPE else 1, urn)

    ready = [key(u) for u, needs in waiting.items() if not needs]
    heapq.heapify(ready)
    ordered: list[Registration] = []
    while ready:
        _, urn = heapq.heappop(ready)
        ordered.append(by_urn[urn])
        for dep in dependents[urn]:
            waiting[dep].discard(urn)
            if not waiting[dep]:
                heapq.heappush(ready, key(dep))
    if len(ordered) != len(by_urn):  # a cycle cannot come from a real program; keep everything anyway
        ordered.extend(by_urn[u] for u in sorted(by_urn.keys() - {r.urn for r in ordered}))
    return ordered


def new_state(reg: Registration) -> dict[str, Any]:
    state: dict[str, Any] = {"type": reg.type, "urn": reg.urn, "custom": reg.custom}
    if reg.inputs:
        state["inputs"] = wire.redact_secrets(reg.inputs)
    if reg.parent:
        state["parent"] = reg.parent
    if reg.provider:
        state["provider"] = reg.provider
    if reg.protect:
        state["protect"] = True
    if reg.dependencies:
        state["dependencies"] = sorted(set(reg.dependencies))
    if reg.property_dependencies:
        state["propertyDependencies"] = {k: sorted(set(v)) for k, v in sorted(reg.property_dependencies.items())}
    return state


def step_of(reg: Registration, exported: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One step; ``exported`` (the outputs the resource registered) is shown only for the root Stack."""
    step: dict[str, Any] = {"op": reg.op, "urn": reg.urn}
    if reg.provider:
        step["provider"] = reg.provider
    step["newState"] = new_state(reg)
    if reg.type == ROOT_STACK_TYPE and exported:
        step["newState"]["outputs"] = wire.redact_secrets(dict(exported))
    return step


def change_summary(ordered: Iterable[Registration]) -> dict[str, int]:
    summary: dict[str, int] = {}
    for reg in ordered:
        summary[reg.op] = summary.get(reg.op, 0) + 1
    return dict(sorted(summary.items()))


def sorted_diagnostics(diagnostics: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    return sorted(
        (dict(d) for d in diagnostics),
        key=lambda d: (d.get("urn", ""), d.get("prefix", ""), d.get("severity", ""), d.get("message", "")),
    )


def schema_diagnostic(urn: str, relative_path: str, where: str, message: str, version: str) -> dict[str, str]:
    """A manifest failing its schema, as ``preview.json`` reports it."""
    return {
        "urn": urn,
        "prefix": "schema",
        "severity": "error",
        "message": f"{relative_path}: {where}: {message} (Kubernetes {version} schemas)",
    }


UNRENDERED_PREFIX = "unrendered"
"""``preview.json`` diagnostic prefix of a remote component the mock runtime registered without its children."""


def unrendered_diagnostic(urn: str, type_token: str) -> dict[str, str]:
    """Why an offline render is incomplete where the program uses a remote component (``helm.sh/v4:Chart``,
    ``yaml/v2``, ``kustomize/v2``): the real engine runs the component's provider, which registers every object
    as a child (each judged by the pack); the mock runtime only records the component itself."""
    message = (f"{type_token} is a remote component: under the mock runtime of the offline render its provider "
               f"does not run, so the objects it creates are neither rendered nor checked here. Check them with "
            f"`pulumi preview --policy-pack policies` (the engine registers them as children and the pack judges "
            f"each), or render them (`helm template`, `kustomize build`) and run `sovereign check --manifests`; "
            f"accept it offline only with an exemption of unjudged-object naming the component")
    return {"urn": urn, "prefix": UNRENDERED_PREFIX, "severity": "error", "message": message}


def preview_document(
    config: Mapping[str, str],
    steps: list[Any],
    diagnostics: Iterable[Mapping[str, str]],
    summary: Mapping[str, int],
) -> dict[str, Any]:
    doc: dict[str, Any] = {"config": dict(sorted(config.items())), "steps": steps}
    ordered_diagnostics = sorted_diagnostics(diagnostics)
    if ordered_diagnostics:
        doc["diagnostics"] = ordered_diagnostics
    doc["changeSummary"] = dict(summary)
    return doc
