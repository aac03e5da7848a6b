"""The pack over what the Pulumi program registers (captured under the SDK mock runtime by ``sovereign
render``), driven through the analyzer protocol as ``pulumi preview --stack cn-prod --policy-pack policies``.

The agreed cn-prod estate must pass cleanly; each residency-breaking change to it must fail with the rule
that protects against it, before anything would be created.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR

from sovereign.analyzer.client import PolicyPackProcess
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.check.policy_run import target_from_render
from sovereign.core.paths import project_root
from sovereign.render.rendered import load_render
from sovereign.render.runner import render_stacks, stack_dir_name

STACK = "cn-prod"


@pytest.fixture(scope="module")
def cn_prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PolicyPackProcess, list[AnalyzerResource]]]:
    out: Path = tmp_path_factory.mktemp("render")
    render_stacks([STACK], out, root=project_root(), at=EVALUATION_AT, jobs=1)
    target = target_from_render(load_render(out / stack_dir_name(STACK)), project_root())
    with PolicyPackProcess.start(PACK_DIR, stack_config=target.config, stack=STACK,
                                 env={"SOVEREIGN_AT": EVALUATION_AT}) as pack:
        pack.configure_stack(stack=STACK)
        pack.get_analyzer_info()
        pack.configure({})
        yield pack, target.resources


def _preview(pack: PolicyPackProcess, resources: list[AnalyzerResource]) -> list[Diagnostic]:
    """What a preview reports: Analyze per resource in registration order, then one AnalyzeStack."""
    out: list[Diagnostic] = []
    for r in resources:
        out.extend(pack.analyze(r))
    return out + pack.analyze_stack(resources)


def _edit(
    resources: list[AnalyzerResource], kind: str, name: str, change: Callable[[dict[str, Any]], None]
) -> list[AnalyzerResource]:
    out = []
    hit = False
    for r in resources:
        if r.name == name and r.type.startswith("kubernetes:") and r.type.endswith(f":{kind}"):
            props = copy.deepcopy(dict(r.props))
            change(props)
            r = replace(r, props=props)
            hit = True
        out.append(r)
    assert hit, f"no resource {name}"
    return out


def test_cn_prod_passes(cn_prod: tuple[PolicyPackProcess, list[AnalyzerResource]]) -> None:
    pack, resources = cn_prod
    kinds = {r.type for r in resources}
    assert "kubernetes:networking.k8s.io/v1:NetworkPolicy" in kinds and len(resources) > 40
    assert _preview(pack, resources) == []


def _policies(diags: list[Diagnostic]) -> set[str]:
    return {d.policy_name for d in diags if d.mandatory}


def test_foreign_image_fails(cn_prod: tuple[PolicyPackProcess, list[AnalyzerResource]]) -> None:
    pack, resources = cn_prod

    def change(p: dict[str, Any]) -> None:
        p["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.27"

    diags = _preview(pack, _edit(resources, "Deployment", "fleet-ingest/ingest-gateway", change))
    assert _policies(diags) == {"image-registry-allowed"}
    assert "docker.io (implicit default registry of a short name)" in diags[0].message


def test_denied_gpu_fails(cn_prod: tuple[PolicyPackProcess, list[AnalyzerResource]]) -> None:
    pack, resources = cn_prod

    def change(p: dict[str, Any]) -> None:
        terms = p["spec"]["template"]["spec"]["affinity"]["nodeAffinity"][
            "requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        [gpu] = [e for e in terms[0]["matchExpressions"] if e["key"] == "nvidia.com/gpu.product"]
        gpu["values"] = ["NVIDIA-H100-80GB-HBM3"]

    diags = _preview(pack, _edit(resources, "Job", "training/trainer", change))
    assert _policies(diags) == {"accelerator-allowed"}
    assert "selects NVIDIA accelerator NVIDIA-H100-80GB-HBM3, which is not allowed in cn" in diags[0].message


def test_widened_transfer_fails(cn_prod: tuple[PolicyPackProcess, list[AnalyzerResource]]) -> None:
    """The transfer policy opens all of eu's network instead of the approved /24."""
    pack, resources = cn_prod

    def change(p: dict[str, Any]) -> None:
        p["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] = "10.20.0.0/16"

    diags = _preview(pack, _edit(resources, "NetworkPolicy", "model-registry/transfer-weights-to-eu-registry", change))
    assert "transfer-valid" in _policies(diags)
    [d] = [d for d in diags if d.policy_name == "transfer-valid"]
    assert "opens 10.20.0.0/16, beyond the approved destination 10.20.5.0/24 of transfer weights-to-eu" in d.message


def test_new_path_abroad_without_admin_deny_fails(cn_prod: tuple[PolicyPackProcess, list[AnalyzerResource]]) -> None:
    """An egress rule to an eu network, with the estate's admin-tier deny gone: the proof finds the path."""
    pack, resources = cn_prod

    def change(p: dict[str, Any]) -> None:
        p["spec"]["egress"].append({"to": [{"ipBlock": {"cidr": "10.20.9.0/24"}}], "ports": [{"port": 443}]})

    edited = _edit(resources, "NetworkPolicy", "fleet-ingest/egress-ingest-gateway", change)
    edited = [r for r in edited if not r.name.startswith("sovereign-estate-egress") and r.name != "default"]
    diags = _preview(pack, edited)
    assert {"egress-not-open-world", "no-cross-border-path"} <= _policies(diags)
    [proof] = [d for d in diags if d.policy_name == "no-cross-border-path"]
    assert "fleet-ingest/ingest-gateway can send data to 10.20.9.0/24 (eu)" in proof.message
    assert proof.urn.endswith("::fleet-ingest/ingest-gateway")
