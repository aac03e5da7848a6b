"""The closed world as a user meets it: ``sovereign check --manifests`` on an operator's object the checker does
not know, a carve-out of it in the ``--policy-pack-config`` file (active, expired, malformed), the inventory in
every format, and region ids that name places in different countries at different providers (``--provider``)."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from cli_support import FIXTURE_STACK, REPO, make_project, run_cli
from test_cli_check import sarif_schema

AT = "2026-12-06T00:00:00Z"
UNKNOWN_OPERATOR = """\
apiVersion: v1
kind: Namespace
metadata:
  name: analytics
  labels: {sovereign-clusters.dev/jurisdiction: cn}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: analytics}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: widgets.example.com/v1
kind: Widget
metadata: {name: nightly-export, namespace: analytics}
spec: {target: "https://export.example.com/upload"}
"""


def carve_out(expires: str, **extra: str) -> dict[str, object]:
    entry: dict[str, str] = {
        "kind": "Widget", "apiGroup": "widgets.example.com", "namespace": "analytics",
        "reason": "operator reviewed by platform security, SEC-142", "approver": "j.doe@automaker.cn",
        "expires": expires,
    }
    entry.update(extra)
    return {"unjudged-object": {"exemptions": [entry]}}


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    path = tmp_path / "operator.yaml"
    path.write_text(UNKNOWN_OPERATOR)
    return path


def _config(tmp_path: Path, content: object) -> Path:
    path = tmp_path / "policy-config.json"
    path.write_text(json.dumps(content))
    return path


def _check(manifests: Path, *extra: str | Path) -> tuple[int, str, str]:
    result = run_cli("check", "--manifests", manifests, "--at", AT, *extra)
    return result.returncode, result.stdout, result.stderr


def _mandatory(doc: dict) -> list[tuple[str, str]]:
    return [(v["policy"], v["resource"]["name"]) for v in doc["violations"] if v["enforcement"] == "mandatory"]


def test_unknown_kind_fails_the_check(manifests: Path) -> None:
    code, out, err = _check(manifests, "--format", "json")
    assert code == 1, err
    doc = json.loads(out)
    assert _mandatory(doc) == [("unjudged-object", "nightly-export")]
    message = doc["violations"][0]["message"]
    assert "kind Widget of API group widgets.example.com is not in the registry of kinds" in message
    inventory = doc["summary"]["stacks"][0]["inventory"]
    assert (inventory["judged"], inventory["inert"], inventory["unjudged"], inventory["carvedOut"]) == (2, 0, 1, 0)


def test_active_carve_out_passes_and_is_reported(manifests: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, carve_out("2027-03-31"))
    code, out, err = _check(manifests, "--format", "json", "--policy-pack-config", config)
    assert code == 0, out + err
    doc = json.loads(out)
    assert _mandatory(doc) == []
    inventory = doc["summary"]["stacks"][0]["inventory"]
    assert inventory["carvedOut"] == 1
    [carve] = inventory["carveOuts"]
    assert (carve["status"], carve["approver"], carve["objects"]) == (
        "active", "j.doe@automaker.cn", ["Widget analytics/nightly-export"])
    [suppressed] = inventory["suppressed"]
    assert suppressed["rule"] == "unjudged-object"


def test_expired_carve_out_suppresses_nothing(manifests: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, carve_out("2026-12-05"))
    code, out, err = _check(manifests, "--policy-pack-config", config)
    assert code == 1, err
    assert "expired on 2026-12-05" in out
    assert "carve-out #0 (EXPIRED until 2026-12-05" in out


def test_carve_out_valid_through_its_last_day(manifests: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, carve_out("2026-12-06"))
    code, out, err = _check(manifests, "--policy-pack-config", config)
    assert code == 0, out + err


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ({"unjudged-object": {"exemptions": [{"kind": "Widget", "reason": "x", "expires": "2027-03-31"}]}},
         "unjudged-object.exemptions[0]: expected a value matching the policy's config schema; found 'approver' "
         "is a required property"),
        ({"unjudged-object": {"exemptions": [{"kind": "Widget", "reason": "x", "approver": "a",
                                              "expires": "31/03/2027"}]}},
         "unjudged-object.exemptions[0].expires"),
        ({"unjudged-object": {"exemptions": [{"reason": "everything", "approver": "a", "expires": "2027-03-31"}]}},
         "unjudged-object.exemptions[0]"),
    ],
    ids=["no-approver", "date-format", "covers-nothing-named"],
)
def test_malformed_exemption_is_bad_input(manifests: Path, tmp_path: Path, content: object, fragment: str) -> None:
    config = _config(tmp_path, content)
    report = tmp_path / "report.json"
    code, out, err = _check(manifests, "--policy-pack-config", config, "--output", report)
    assert code == 2, out + err
    assert str(config) in err and fragment in err
    # The report file is rewritten with the problem as its one finding (never a stale report).
    written = report.read_text()
    assert "[mandatory] invalid-input" in written and fragment in written


def test_sarif_marks_suppressed_findings(manifests: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, carve_out("2027-03-31"))
    code, out, err = _check(manifests, "--format", "sarif", "--policy-pack-config", config)
    assert code == 0, err
    doc = json.loads(out)
    jsonschema.validate(doc, sarif_schema())
    [run] = doc["runs"]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    assert [r["ruleId"] for r in suppressed] == ["unjudged-object"]
    assert suppressed[0]["suppressions"][0]["status"] == "accepted"
    assert "j.doe@automaker.cn" in suppressed[0]["suppressions"][0]["justification"]
    assert run["properties"]["inventory"]["manifests"]["carvedOut"] == 1


def test_inventory_in_text_markdown_and_junit(manifests: Path, tmp_path: Path) -> None:
    config = _config(tmp_path, carve_out("2027-03-31"))
    _, text, _ = _check(manifests, "--policy-pack-config", config)
    assert "inventory: 3 objects: 2 judged, 0 inert, 1 unjudged (1 carved out)" in text
    _, markdown, _ = _check(manifests, "--format", "markdown", "--policy-pack-config", config)
    assert "Widget analytics/nightly-export" in markdown and "carve-out" in markdown.lower()
    _, junit, _ = _check(manifests, "--format", "junit", "--policy-pack-config", config)
    root = ET.fromstring(junit)
    names = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert names.get("inventory.unjudged") == "1" and names.get("inventory.carvedOut") == "1", names


HK_PIN = """\
apiVersion: v1
kind: Namespace
metadata:
  name: telemetry
  labels: {sovereign-clusters.dev/jurisdiction: hk}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: telemetry}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingest, namespace: telemetry}
spec:
  selector: {matchLabels: {app: ingest}}
  template:
    metadata: {labels: {app: ingest}}
    spec:
      nodeSelector: {topology.kubernetes.io/region: ap-southeast-1}
      containers: [{name: ingest, image: registry.automaker.hk/ingest:1.0}]
"""
SHOWS_HUAWEI = """\
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: evs}
provisioner: disk.csi.everest.io
parameters: {csi.storage.k8s.io/csi-driver-name: disk.csi.everest.io, everest.io/disk-volume-type: SSD}
allowedTopologies:
  - matchLabelExpressions:
      - {key: topology.kubernetes.io/zone, values: [ap-southeast-1a]}
"""


@pytest.mark.parametrize(
    ("provider", "extra", "expected"),
    [
        (None, "", "region ap-southeast-1 is ambiguous"),
        ("aws", "", "would run in region ap-southeast-1 (aws, SG), outside hk"),
        ("huawei", "", None),
        (None, SHOWS_HUAWEI, None),
    ],
    ids=["unknown-provider-fails-closed", "aws-is-singapore", "huawei-is-hong-kong", "storageclass-shows-huawei"],
)
def test_region_ids_are_read_per_provider(tmp_path: Path, provider: str | None, extra: str,
                                          expected: str | None) -> None:
    path = tmp_path / "hk.yaml"
    path.write_text(HK_PIN + extra)
    code, out, err = _check(path, "--format", "json", *(("--provider", provider) if provider else ()))
    doc = json.loads(out)
    findings = [v["message"] for v in doc["violations"] if v["policy"] == "workload-region-affinity"]
    if expected is None:
        assert findings == [], findings
    else:
        assert code == 1, err
        assert len(findings) == 1 and expected in findings[0], findings  # one root cause, reported once


REMOTE_CHART = """
k8s.helm.v4.Chart("metrics", chart="oci://registry.automaker.cn/charts/metrics", namespace="fleet-ingest", opts=opts)
"""


@pytest.mark.parametrize("carved_out", [False, True], ids=["fails-closed", "carved-out"])
def test_remote_component_offline_is_unrendered(tmp_path: Path, carved_out: bool) -> None:
    """A Helm v4 chart is a remote component: the mock runtime never runs its provider, so the offline check has
    not seen its objects and must not pass them silently (the real CLI registers and judges each child)."""
    project = make_project(tmp_path / "project")
    program = project / "infra" / "__main__.py"
    program.write_text(program.read_text() + REMOTE_CHART)
    config = _config(tmp_path, {"unjudged-object": {"exemptions": [{
        "kind": "Chart", "apiGroup": "helm.sh", "name": "metrics", "reason": "chart reviewed with helm template",
        "approver": "platform@automaker.cn", "expires": "2027-01-31"}]}} if carved_out else {})
    result = run_cli("check", FIXTURE_STACK, "--out", tmp_path / "out", "--at", AT, "--format", "json",
                     "--policy-pack", REPO / "policies", "--policy-pack-config", config, root=project)
    assert result.returncode in (0, 1), result.stderr
    doc = json.loads(result.stdout)
    [finding] = [v for v in doc["violations"] if v["policy"] == "unrendered-component"]
    assert finding["resource"]["name"] == "metrics"
    assert "kubernetes:helm.sh/v4:Chart is a remote component" in finding["message"]
    if carved_out:
        assert finding["enforcement"] == "advisory" and finding["message"].startswith("[exempted]")
    else:
        assert finding["enforcement"] == "mandatory" and result.returncode == 1
