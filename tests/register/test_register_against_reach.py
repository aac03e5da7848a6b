"""The register's figures are the connectivity proof's: each cross-border flow it lists is a path
``sovereign reach --summary`` finds and a query ``reach`` answers allowed, and each path reach finds is in the
register; each exit is a destination ``reach --from`` lists outside the cluster, and the other way round."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from register_support import STACKS, run_cli

INSIDE = {"in-cluster workloads", "cluster address space"}


def _register(registers: dict[str, Any], stack: str) -> dict[str, Any]:
    found = [r for r in registers["registers"] if r["stack"] == stack]
    assert len(found) == 1
    return found[0]


def _reach_json(project: Path, stack: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("reach", "--manifests", project / "out" / stack / "manifests", "--stack", stack,
                     "--format", "json", *args, root=project)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, json.loads(result.stdout)


@pytest.mark.parametrize("stack", STACKS)
def test_cross_border_flows_are_the_paths_reach_finds(project: Path, registers: dict[str, Any], stack: str) -> None:
    register = _register(registers, stack)
    code, summary = _reach_json(project, stack, "--summary")
    from_reach = {(p["source"], tuple(p["hops"]), p["destination"], p["destinationJurisdiction"] or "unattributed",
                   p["protocol"]) for paths in summary["jurisdictions"].values() for p in paths}
    in_register = {(f["source"], tuple(f["via"]), f["destination"], f["destinationJurisdiction"], f["protocol"])
                   for f in register["crossBorderFlows"]}
    assert in_register == from_reach
    assert register["summary"]["crossBorderFlows"] == len(from_reach)
    assert code == (1 if from_reach else 0)  # reach --summary exits 1 exactly when a path leaves


@pytest.mark.parametrize("stack", STACKS)
def test_every_listed_flow_is_allowed_by_reach_to_a_foreign_jurisdiction(
        project: Path, registers: dict[str, Any], stack: str) -> None:
    register = _register(registers, stack)
    for flow in register["crossBorderFlows"]:
        assert flow["destinationJurisdiction"] != register["jurisdiction"]["id"]
        address = ipaddress.ip_network(flow["destination"]).network_address
        port = flow["ports"].split(",")[0].split("-")[0]
        code, answer = _reach_json(project, stack, "--from", flow["sender"], "--to", f"{address}:{port}",
                                   "--protocol", flow["protocol"])
        assert code == 0, answer
        assert [a["allowed"] for a in answer["answers"]] == [True]


@pytest.mark.parametrize("stack", STACKS)
def test_exits_are_what_reach_lists_outside_the_cluster(project: Path, registers: dict[str, Any], stack: str) -> None:
    register = _register(registers, stack)
    assert register["proof"]["workloads"], "a register over no workload proves nothing"
    for workload in register["proof"]["workloads"]:
        _code, listing = _reach_json(project, stack, "--from", workload)
        from_reach = {(d["destination"], d["jurisdiction"] or "unattributed", d["protocol"])
                      for c in listing["classes"] if c["class"] not in INSIDE for d in c["destinations"]}
        in_register = {(e["destination"], e["jurisdiction"], e["protocol"])
                       for e in register["exits"] if e["workload"] == workload}
        assert in_register == from_reach, workload


def test_cn_prod_figures(registers: dict[str, Any]) -> None:
    """The example that motivates the register: only model weights leave the mainland, under the CAC approval."""
    cn = _register(registers, "cn-prod")
    assert cn["summary"]["crossBorderFlows"] == 2
    assert {f["status"] for f in cn["crossBorderFlows"]} == {"approved"}
    assert {c for f in cn["crossBorderFlows"] for c in f["dataClasses"]} == {"model-weights"}
    assert {f["approval"]["reference"] for f in cn["crossBorderFlows"]} == {"CAC-SA-2026-0042"}
    weights = next(d for d in cn["dataClasses"] if d["id"] == "model-weights")
    assert weights["export"] == "approved-transfer" and weights["allowedDestinations"] == ["eu"]
    assert weights["storedIn"]["regions"] == ["cn-north-1", "cn-northwest-1"]
    assert {loc["name"] for loc in weights["storedIn"]["locations"]} == {"regulated-ssd", "primary"}
    assert all(loc["jurisdictions"] == ["cn"] for loc in weights["storedIn"]["locations"])
    assert weights["writers"] == ["model-registry/registry", "training/trainer"]
    video = next(d for d in cn["dataClasses"] if d["id"] == "raw-camera-video")
    assert video["crossBorderFlows"] == [] and video["export"] == "never"
    [transfer] = cn["transfers"]
    assert (transfer["state"], transfer["pathsFound"], transfer["regulator"]) == ("active", 2, "CAC")
    assert transfer["scope"].startswith("Trained driving-model weights")
