"""Check reports a CI can use (issue "Adoptable by a real team", items 3-5): input problems are findings with
file and line in every format, one bad stack does not stop the others, report files are never stale, output
errors are one line and exit 2, findings point at the declaration behind them, SARIF that GitHub code scanning
can place, and every report says when it judged, with which catalog, and what may leave."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from cli_support import AT, FIXTURE_STACK, REPO, make_project, run_cli

PACK = REPO / "policies"
BAD_STACK = "fixture-bad"
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")


def _line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), start=1) if needle in line)


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture project with a second stack whose egress names another jurisdiction's network."""
    project = make_project(tmp_path_factory.mktemp("two") / "project")
    text = (project / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml").read_text()
    bad = text.replace("cidrs: [10.10.20.0/24]", "cidrs: [10.20.5.0/24]")
    assert bad != text
    (project / "stacks" / f"Pulumi.{BAD_STACK}.yaml").write_text(bad)
    return project


@pytest.fixture(scope="module")
def reports(two_stacks: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """``check --all`` of both stacks in every format: (exit status, report, stderr)."""
    out = tmp_path_factory.mktemp("renders")
    found = {}
    for fmt in FORMATS:
        r = run_cli("check", "--all", "--out", out, "--policy-pack", PACK, "--at", "2027-02-20", "--format", fmt,
                    root=two_stacks, cwd=two_stacks)
        found[fmt] = (r.returncode, r.stdout, r.stderr)
    return found


def test_a_bad_stack_is_a_finding_and_the_others_are_still_checked(two_stacks: Path,
                                                                   reports: dict[str, tuple[int, str, str]]) -> None:
    code, stdout, stderr = reports["json"]
    assert code == 2, stderr  # bad input still exits 2
    doc = json.loads(stdout)
    stacks = {s["stack"]: s for s in doc["summary"]["stacks"]}
    assert stacks[BAD_STACK]["judged"] is False and stacks[BAD_STACK]["resources"] == 0
    assert "judged" not in stacks[FIXTURE_STACK] and stacks[FIXTURE_STACK]["inventory"]["objects"] > 0
    assert doc["summary"]["result"] == "error" and doc["summary"]["unjudgedStacks"] == [BAD_STACK]
    (finding,) = [v for v in doc["violations"] if v["policy"] == "invalid-input"]
    line = _line_of(two_stacks / "stacks" / f"Pulumi.{BAD_STACK}.yaml", "cidrs: [10.20.5.0/24]")
    assert finding["source"] == {"file": f"stacks/Pulumi.{BAD_STACK}.yaml", "line": line}
    assert finding["stack"] == BAD_STACK and finding["enforcement"] == "mandatory"
    assert finding["message"].startswith("sovereign-clusters:workloads[0].egress[0].cidrs[0]: expected a network")
    assert f"stacks/Pulumi.{BAD_STACK}.yaml:{line}: sovereign-clusters:workloads[0]" in stderr


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_input_problem_is_in_every_format_with_file_and_line(fmt: str, two_stacks: Path,
                                                                 reports: dict[str, tuple[int, str, str]]) -> None:
    code, stdout, _ = reports[fmt]
    assert code == 2
    line = _line_of(two_stacks / "stacks" / f"Pulumi.{BAD_STACK}.yaml", "cidrs: [10.20.5.0/24]")
    file = f"stacks/Pulumi.{BAD_STACK}.yaml"
    if fmt == "sarif":
        run = json.loads(stdout)["runs"][0]
        (result,) = [r for r in run["results"] if r["ruleId"] == "invalid-input"]
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"] == {"uri": file, "uriBaseId": "%SRCROOT%"}
        assert location["region"]["startLine"] == line
        rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "invalid-input")
        assert "could not read" in rule["shortDescription"]["text"]
    elif fmt == "junit":
        root = ET.fromstring(stdout)
        suite = next(s for s in root if s.get("name") == BAD_STACK)
        (error,) = suite.iter("error")
        assert error.get("message") == f"{file}:{line}" and suite.get("errors") == "1"
        assert root.get("errors") == "1"
    elif fmt == "github":
        assert f"::error file={file},line={line},title=invalid-input ({BAD_STACK})::" in stdout
        assert stdout.rstrip().splitlines()[-1].startswith("ERROR: input of 1 stack(s) could not be read")
    elif fmt == "markdown":
        assert f"`{file}:{line}`" in stdout and "⛔ input could not be read" in stdout
    elif fmt == "text":
        assert f"({file}:{line})" in stdout and f"{BAD_STACK}: NOT JUDGED" in stdout
    else:
        assert json.loads(stdout)["summary"]["unjudgedStacks"] == [BAD_STACK]


def test_every_report_file_is_rewritten_even_when_the_command_stops(session_project: Path, tmp_path: Path) -> None:
    """A stale "passed" report of an earlier run never survives a run that stopped on bad input."""
    report = tmp_path / "out" / "report.md"
    report.parent.mkdir()
    report.write_text("## Residency check: ✅ passed\n")
    result = run_cli("check", FIXTURE_STACK, "--out", tmp_path / "r", "--policy-pack", PACK, "--format", "markdown",
                     "--output", report, "--policy-pack-config", tmp_path / "missing.json", root=session_project)
    assert result.returncode == 2
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("sovereign check: error:")]
    assert "missing.json" in error
    text = report.read_text()
    assert "passed" not in text and "⛔ input could not be read" in text and "`invalid-input`" in text


@pytest.mark.parametrize("command", ["check", "diff"])
def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(command: str, rendered: Path, session_project: Path,
                                                                 tmp_path: Path) -> None:
    args = (["check", "--render-dir", rendered, "--policy-pack", PACK] if command == "check"
            else ["diff", rendered, rendered, "--no-policy"])
    result = run_cli(*args, "--output", tmp_path, "--at", AT, root=session_project)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert f"{tmp_path}: (top level): expected a file the report can be written to (--output); found" in line


def test_findings_point_at_the_declaration_in_the_stack_file(reports: dict[str, tuple[int, str, str]],
                                                             two_stacks: Path) -> None:
    """The transfer's expiry warning at the transfer, an object of the tenant's namespace at the tenant."""
    doc = json.loads(reports["json"][1])
    stack_file = two_stacks / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml"
    by_policy = {v["policy"]: v for v in doc["violations"] if v["stack"] == FIXTURE_STACK}
    assert by_policy["transfer-expiry-warning"]["source"]["line"] == _line_of(stack_file, "- id: weights-to-eu")
    tenant = _line_of(stack_file, "- namespace: model-registry")
    assert by_policy["egress-not-open-world"]["source"]["line"] == tenant  # its policy has no workload label


def test_reports_say_when_with_which_catalog_and_what_may_leave(reports: dict[str, tuple[int, str, str]]) -> None:
    doc = json.loads(reports["json"][1])["summary"]
    assert doc["at"] == "2027-02-20" and doc["mandatory"] == 3 + 1 and doc["advisory"] == 1
    assert [layer["layer"] for layer in doc["catalog"]][0] == "public"
    (stack,) = [s for s in doc["stacks"] if s["stack"] == FIXTURE_STACK]
    assert [(t["id"], t["state"], t["approvalReference"], t["regulator"]) for t in stack["transfers"]] == [
        ("weights-to-eu", "active", "CAC-SA-2026-0042", "CAC")]
    sarif = json.loads(reports["sarif"][1])["runs"][0]["properties"]
    assert sarif["evaluationTime"] == "2027-02-20" and sarif["transfers"][FIXTURE_STACK][0]["state"] == "active"
    assert sarif["counts"] == {"mandatory": 4, "advisory": 1}
    junit = ET.fromstring(reports["junit"][1])
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["evaluationTime"] == "2027-02-20" and props["transfer.weights-to-eu"].startswith("active: CAC-SA")
    markdown = reports["markdown"][1]
    assert "**What may leave**" in markdown
    assert "| `fixture-cn` | `weights-to-eu` | ✅ active | CAC-SA-2026-0042 | CAC |" in markdown
    text = reports["text"][1]
    assert "transfer weights-to-eu [active]: CAC-SA-2026-0042 (CAC), model-weights from model-registry/registry" \
        in text
    assert text.splitlines()[1].startswith("catalog: public sovereign-clusters ")


def test_without_at_the_report_states_the_moment_it_judged(session_project: Path, rendered: Path) -> None:
    doc = json.loads(run_cli("check", "--render-dir", rendered, "--policy-pack", PACK, "--format", "json",
                             root=session_project).stdout)
    assert len(doc["summary"]["at"]) == len("2026-12-07T00:00:00Z") and doc["summary"]["at"].endswith("Z")


@pytest.mark.parametrize(("at", "state"), [("2026-01-01", "pending"), ("2027-03-01", "expired")])
def test_transfers_are_reported_with_their_state(at: str, state: str, rendered: Path, session_project: Path) -> None:
    doc = json.loads(run_cli("check", "--render-dir", rendered, "--policy-pack", PACK, "--format", "json",
                             "--at", at, root=session_project).stdout)
    (stack,) = doc["summary"]["stacks"]
    assert [t["state"] for t in stack["transfers"]] == [state]


def test_sarif_from_another_directory_is_relative_to_the_repository_root(two_stacks: Path, tmp_path: Path) -> None:
    """Run from a subdirectory of a git work tree: URIs stay relative to its root, as code scanning resolves
    them; fingerprints do not move when only the days left of a warning change."""
    repo = tmp_path / "repo"
    shutil.copytree(two_stacks, repo)
    (repo / "stacks" / f"Pulumi.{BAD_STACK}.yaml").unlink()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "deep" / "er").mkdir(parents=True)
    prints = []
    for at in ("2027-02-10", "2027-02-20"):
        result = run_cli("check", FIXTURE_STACK, "--out", tmp_path / "out", "--policy-pack", PACK, "--format",
                         "sarif", "--at", at, root=repo, cwd=repo / "deep" / "er")
        run = json.loads(result.stdout)["runs"][0]
        uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
        assert uris == {f"stacks/Pulumi.{FIXTURE_STACK}.yaml"}
        rules = {r["id"]: r["properties"] for r in run["tool"]["driver"]["rules"]}
        assert rules["no-cross-border-path"]["security-severity"] == "9.5"
        assert rules["transfer-expiry-warning"]["security-severity"] == "5.5"
        assert "security" in rules["no-cross-border-path"]["tags"]
        prints.append({r["ruleId"]: r["partialFingerprints"]["sovereignViolation/v2"] for r in run["results"]})
    assert prints[0] == prints[1]


def test_a_manifest_finding_points_at_the_field_it_names(tmp_path: Path) -> None:
    vector = REPO / "tests" / "redteam" / "vectors" / "host-network" / "leak"
    result = run_cli("check", "--manifests", vector, "--jurisdiction", "cn", "--at", AT, "--format", "json",
                     root=REPO, cwd=REPO)
    (finding,) = [v for v in json.loads(result.stdout)["violations"] if v["policy"] == "no-host-access"]
    workload = vector / "01-workload.yaml"
    assert finding["source"] == {"file": "tests/redteam/vectors/host-network/leak/01-workload.yaml",
                                 "line": _line_of(workload, "hostNetwork: true")}
    (path,) = [v for v in json.loads(result.stdout)["violations"] if v["policy"] == "no-cross-border-path"]
    assert path["source"]["line"] == 1  # names no field of its object: the object's document
