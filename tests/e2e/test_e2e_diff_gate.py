"""``sovereign diff`` as a merge gate fails closed: a change that opens egress to the world is a new mandatory
violation (exit 1), even when the estate's admin-tier deny keeps the new path inside cn."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from e2e_support import command_available, run_cli

pytestmark = pytest.mark.skipif(not command_available("diff"), reason="sovereign diff not available")
AT = "2026-12-01"


def _add_world_policy(render: Path, target: Path) -> Path:
    shutil.copytree(render, target)
    preview_path = target / "cn-prod" / "preview.json"
    doc = json.loads(preview_path.read_text(encoding="utf-8"))
    provider = next(s for s in doc["steps"] if s["newState"]["type"] == "pulumi:providers:kubernetes")
    token = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
    urn = f"urn:pulumi:cn-prod::sovereign-clusters::{token}::fleet-ingest/allow-world"
    inputs = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "allow-world", "namespace": "fleet-ingest"},
              "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                       "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}}
    doc["steps"].append({"op": "create", "urn": urn, "newState": {
        "custom": True, "type": token, "urn": urn, "inputs": inputs, "parent": provider["newState"]["parent"],
        "provider": provider["urn"] + "::provider-id"}})
    preview_path.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    return target


def test_diff_that_opens_the_world_fails(tmp_path: Path) -> None:
    base = tmp_path / "base"
    run = run_cli(["render", "cn-prod", "--out", str(base), "--at", AT])
    assert run.code == 0, run.stderr
    head = _add_world_policy(base, tmp_path / "head")
    run = run_cli(["diff", str(base), str(head), "--at", AT, "--format", "json"])
    assert run.code == 1, f"diff let a 0.0.0.0/0 allow through (exit {run.code})\n{run.stdout[:3000]}{run.stderr}"
    assert "egress-not-open-world" in run.stdout, run.stdout[:3000]
    same = run_cli(["diff", str(base), str(base), "--at", AT, "--format", "json"])
    assert same.code == 0, same.stdout[:2000]
