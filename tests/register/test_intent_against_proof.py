"""Where the declared intent and the connectivity proof differ, the register says so: the render of cn-prod read
with a changed declaration (a transfer removed, one added that nothing renders, a transfer out of its window) and
with a planted secret, through ``build_register``, the function the evidence bundle calls."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from register_support import AT

from sovereign.catalog import load_catalog
from sovereign.core.clock import parse_instant
from sovereign.register.build import build_register
from sovereign.render.rendered import RenderedStack, Step, load_render

TRANSFERS = "sovereign-clusters:transfers"


def _cn_prod(project: Path, registers: dict[str, Any]) -> tuple[RenderedStack, Any]:
    assert registers  # the session fixture rendered the stacks into <project>/out
    return load_render(project / "out" / "cn-prod"), load_catalog(project / "policies" / "catalog")


def _with_transfers(rendered: RenderedStack, transfers: list[dict[str, Any]]) -> RenderedStack:
    return dataclasses.replace(rendered, config={**rendered.config, TRANSFERS: json.dumps(transfers)})


def _kinds(register: Any) -> list[str]:
    return sorted(d.kind for d in register.discrepancies)


def test_the_example_agrees_apart_from_the_name_the_cni_cannot_open(project: Path, registers: dict[str, Any]) -> None:
    rendered, catalog = _cn_prod(project, registers)
    register = build_register(rendered, catalog, parse_instant(AT))
    assert _kinds(register) == ["declared-egress-not-found"]
    [d] = register.discrepancies
    assert "s3.cn-north-1.amazonaws.com.cn" in d.message and "calico" in d.message


def test_a_path_no_declaration_explains(project: Path, registers: dict[str, Any]) -> None:
    """The transfer is gone from the declaration but its path is still in the estate."""
    rendered, catalog = _cn_prod(project, registers)
    register = build_register(_with_transfers(rendered, []), catalog, parse_instant(AT))
    assert _kinds(register) == ["declared-egress-not-found", "unapproved-flow", "unapproved-flow", "undeclared-exit"]
    assert {f.approved for f in register.flows} == {False}
    assert register.to_json()["summary"]["unapprovedFlows"] == 2
    undeclared = next(d for d in register.discrepancies if d.kind == "undeclared-exit")
    assert undeclared.subject == "model-registry/registry -> 10.20.5.0/24"


def test_a_declared_transfer_whose_path_the_proof_does_not_find(project: Path, registers: dict[str, Any]) -> None:
    rendered, catalog = _cn_prod(project, registers)
    declared = json.loads(rendered.config[TRANSFERS])
    extra = {**declared[0], "id": "weights-to-eu-store", "approvalReference": "CAC-SA-2026-0099",
             "destination": {"jurisdiction": "eu", "cidrs": ["10.20.20.0/24"], "ports": [{"port": 443}]}}
    register = build_register(_with_transfers(rendered, [*declared, extra]), catalog, parse_instant(AT))
    assert _kinds(register) == ["declared-egress-not-found", "transfer-without-path"]
    missing = next(d for d in register.discrepancies if d.kind == "transfer-without-path")
    assert missing.subject == "transfer weights-to-eu-store" and "10.20.20.0/24" in missing.message
    assert dict((a.transfer, n) for a, n in register.transfers) == {"weights-to-eu": 2, "weights-to-eu-store": 0}


def test_a_path_whose_transfer_is_out_of_its_window(project: Path, registers: dict[str, Any]) -> None:
    """Read at a time the approval has expired (the render still holds the path): unapproved, and the register
    names the transfer that covers it and its state; before validFrom it says pending."""
    rendered, catalog = _cn_prod(project, registers)
    for at, state in ((datetime(2027, 3, 1, tzinfo=UTC), "expired"), (datetime(2026, 1, 1, tzinfo=UTC), "pending")):
        register = build_register(rendered, catalog, at)
        assert {f.approved for f in register.flows} == {False}
        assert {a.state for f in register.flows for a in f.covering} == {state}
        assert all(f"weights-to-eu ({state})" in d.message for d in register.discrepancies
                   if d.kind == "unapproved-flow")
        assert register.to_json()["summary"]["transfers"][state] == 1


def test_no_secret_value_enters_the_register(project: Path, registers: dict[str, Any]) -> None:
    """A Secret in the estate and secret stack config: the register never reads a value of either."""
    rendered, catalog = _cn_prod(project, registers)
    planted = "planted-secret-value-4f1c"
    secret = Step(op="create", urn="urn:pulumi:cn-prod::sovereign-clusters::kubernetes:core/v1:Secret::creds",
                  type="kubernetes:core/v1:Secret", custom=True, parent="", provider="", dependencies=(),
                  property_dependencies={},
                  inputs={"apiVersion": "v1", "kind": "Secret",
                          "metadata": {"name": "creds", "namespace": "model-registry"},
                          "stringData": {"token": planted}})
    config = {**rendered.config, "sovereign-clusters:kubeconfig": "[secret]"}
    register = build_register(dataclasses.replace(rendered, steps=(*rendered.steps, secret), config=config),
                              catalog, parse_instant(AT))
    from sovereign.output.register_formats import RENDERERS

    for render in RENDERERS.values():
        assert planted not in render([register])
