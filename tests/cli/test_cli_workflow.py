"""The residency workflow: well-formed, uploads SARIF, comments, and every `sovereign` call parses."""

from __future__ import annotations

import shlex

import yaml
from cli_support import REPO

from sovereign.cli.main import build_parser

WORKFLOW = REPO / ".github" / "workflows" / "residency.yml"


def _steps() -> list[dict]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return doc["jobs"]["residency"]["steps"]


def test_workflow_runs_on_pull_requests_with_the_permissions_it_needs() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in doc[True]  # YAML 1.1 reads the key `on` as True
    assert doc["permissions"]["security-events"] == "write"
    assert doc["permissions"]["pull-requests"] == "write"
    uses = [s.get("uses", "") for s in _steps()]
    assert any(u.startswith("github/codeql-action/upload-sarif@") for u in uses)
    assert any(u.startswith("actions/checkout@") for u in uses)
    checkout = next(s for s in _steps() if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # diff --base needs history


def test_every_sovereign_command_in_the_workflow_parses() -> None:
    parser = build_parser()
    commands = []
    for step in _steps():
        for line in str(step.get("run", "")).splitlines():
            line = line.strip()
            if line.startswith(".venv/bin/sovereign "):
                words = shlex.split(line.split("||")[0])
                commands.append([w.replace("$BASE_REF", "origin/main") for w in words[1:]])
    assert {c[0] for c in commands} == {"check", "diff"}
    for argv in commands:
        args = parser.parse_args(argv)  # argparse exits (SystemExit) on an unknown flag
        assert callable(args.func)
    sarif = next(c for c in commands if "sarif" in c)
    assert sarif[sarif.index("--output") + 1] == "out/residency.sarif"
    upload = next(s for s in _steps() if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    assert upload["with"]["sarif_file"] == "out/residency.sarif"


def test_docs_describe_the_real_pulumi_path() -> None:
    text = (REPO / "docs" / "cli.md").read_text()
    needles = ("pulumi login --local", "PULUMI_CONFIG_PASSPHRASE",
               "pulumi preview --stack cn-prod --policy-pack policies")
    for needle in needles:
        assert needle in text
