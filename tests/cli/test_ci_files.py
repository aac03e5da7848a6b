"""The CI files a user adopts: the reusable action (action.yml), the pre-commit hooks (.pre-commit-hooks.yaml) and
the example workflow (.github/workflows/residency.yml).

They are checked as their consumers read them (GitHub's metadata syntax, pre-commit's manifest format), every
``sovereign`` flag they pass is checked against the command's own ``--help``, and the shell steps that decide
something (the action's check step and verdict, the workflow's comment) run here under ci_runner.py.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from ci_runner import action_inputs, evaluate, expressions, load, run_step, step
from cli_support import AT, FIXTURE_STACK, REPO, make_project

ACTION = REPO / "action.yml"
HOOKS = REPO / ".pre-commit-hooks.yaml"
WORKFLOW = REPO / ".github" / "workflows" / "residency.yml"
SOVEREIGN = Path(sys.executable).parent / "sovereign"

PRE_COMMIT_HOOK_KEYS = frozenset({
    # pre-commit.com, "Creating new hooks": the keys of a hook in .pre-commit-hooks.yaml.
    "id", "name", "entry", "language", "files", "exclude", "types", "types_or", "exclude_types", "always_run",
    "fail_fast", "verbose", "pass_filenames", "require_serial", "description", "language_version",
    "minimum_pre_commit_version", "args", "stages",
})
PRE_COMMIT_REQUIRED = ("id", "name", "entry", "language")
PRE_COMMIT_STAGES = frozenset({  # pre-commit >= 3.2 names
    "commit-msg", "post-checkout", "post-commit", "post-merge", "post-rewrite", "pre-commit", "pre-merge-commit",
    "pre-push", "pre-rebase", "prepare-commit-msg", "manual",
})

CLEAN = """\
apiVersion: v1
kind: Namespace
metadata:
  name: team
  labels:
    sovereign-clusters.dev/jurisdiction: cn
"""
OPEN_EGRESS = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: open
  namespace: team
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
"""
UNLABELLED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n"


@pytest.fixture(scope="module")
def session_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CLI tests' project, with the organisation file the project's catalog layers need, if they need one."""
    from sovereign.core import paths

    project = make_project(tmp_path_factory.mktemp("ci") / "project")
    example = getattr(paths, "EXAMPLE_ORGANISATION", None)
    if example is not None and (REPO / example).is_file() and not (project / example).exists():
        (project / example).parent.mkdir(parents=True, exist_ok=True)
        (project / example).write_bytes((REPO / example).read_bytes())
    return project


# --- what `sovereign` accepts ----------------------------------------------------------------------------------

@cache
def help_text(command: str) -> str:
    result = subprocess.run([str(SOVEREIGN), command, "--help"], capture_output=True, text=True, check=True)
    return result.stdout


def flags_of(command: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", help_text(command)))


def formats_of(command: str) -> set[str]:
    match = re.search(r"--format \{([^}]*)\}", help_text(command))
    assert match, f"sovereign {command} --help shows no --format choices"
    return set(match.group(1).split(","))


def checked_formats(wanted: set[str]) -> set[str]:
    """The formats to hold against ``check --help``: ``github`` only once the lead's format has landed."""
    if "github" not in formats_of("check"):
        return wanted - {"github"}
    return wanted


# --- the action --------------------------------------------------------------------------------------------------

def test_action_is_a_composite_action_with_the_documented_metadata() -> None:
    action = load(ACTION)
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    for name, spec in action["inputs"].items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert spec.get("description"), f"input {name} has no description"
        assert isinstance(spec.get("default", ""), str), f"input {name}: inputs are strings"
    for s in action["runs"]["steps"]:
        assert ("run" in s) != ("uses" in s), s.get("name")
        if "run" in s:
            assert s.get("shell") == "bash", f"step {s.get('name')!r}: composite run steps need shell:"
        else:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", s["uses"]), s["uses"]


def test_every_input_is_used_and_every_used_input_is_declared() -> None:
    action = load(ACTION)
    text = ACTION.read_text()
    used = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", "\n".join(expressions(text))))
    used |= set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", "\n".join(
        str(s.get("if", "")) for s in action["runs"]["steps"])))
    assert used == set(action["inputs"])


def test_every_output_is_a_step_output_the_step_writes() -> None:
    action = load(ACTION)
    for name, spec in action["outputs"].items():
        (expr,) = expressions(str(spec["value"]))
        _, step_id, _, key = expr.split(".")
        script = str(step(action, step_id)["run"])
        written = key in re.findall(r'echo "([a-z-]+)=', script) + re.findall(r'echo "([a-z-]+)<<', script)
        per_format = key.endswith("-file") and '"$format-file=' in script
        assert written or per_format, f"output {name}: step {step_id} never writes {key}"


def _action_check_argv_flags() -> set[str]:
    script = str(step(load(ACTION), "check")["run"])
    flags: set[str] = set()
    for line in script.splitlines():
        if "args+=" in line or '"$SOVEREIGN" check' in line:
            flags |= set(re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", line))
    return flags


def test_every_sovereign_flag_of_the_action_exists() -> None:
    flags = _action_check_argv_flags()
    assert {"--all", "--manifests", "--policy-pack-config", "--rule", "--skip-rule", "--at", "--soft-fail",
            "--format", "--output"} <= flags
    assert flags <= flags_of("check")
    script = str(step(load(ACTION), "check")["run"])
    named = set(re.findall(r"--format ([a-z]+)", script))
    assert checked_formats(named) <= formats_of("check")


# --- the action's steps, run ---------------------------------------------------------------------------------------

def _run_check(workspace: Path, root: Path, **given: str) -> Any:
    action = load(ACTION)
    context = {
        "inputs": action_inputs(action, given),
        "steps": {"install": {"outputs": {"sovereign": str(SOVEREIGN)}}},
        "github": {"action_path": str(REPO)},
    }
    return run_step(step(action, "check"), context, workspace, extra_env={"SOVEREIGN_ROOT": str(root)})


def test_check_step_on_clean_manifests(tmp_path: Path, session_project: Path, test_pack: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "ns.yaml").write_text(CLEAN)
    run = _run_check(tmp_path, session_project, manifests="deploy", formats="json, markdown",
                     **{"policy-pack": str(test_pack)})
    assert run.returncode == 0, run.stderr
    assert run.outputs["exit-code"] == "0" and run.outputs["verdict"] == "pass"
    out = tmp_path / "out"
    assert run.outputs["report-paths"].splitlines() == [str(out / "residency.json"), str(out / "residency.md")]
    assert run.outputs["markdown-file"] == str(out / "residency.md")
    assert json.loads((out / "residency.json").read_text())["summary"]["result"] == "pass"
    assert run.summary == (out / "residency.md").read_text()


def test_soft_fail_exits_0_but_the_verdict_is_fail(tmp_path: Path, session_project: Path, test_pack: Path) -> None:
    (tmp_path / "all.yaml").write_text(CLEAN + OPEN_EGRESS)
    common = {"manifests": "all.yaml", "formats": "json", "policy-pack": str(test_pack)}
    hard = _run_check(tmp_path, session_project, **common)
    assert (hard.outputs["exit-code"], hard.outputs["verdict"]) == ("1", "fail"), hard.stderr
    soft = _run_check(tmp_path, session_project, **common, **{"soft-fail": "true"})
    assert (soft.outputs["exit-code"], soft.outputs["verdict"]) == ("0", "fail"), soft.stderr
    report = json.loads((tmp_path / "out" / "residency.json").read_text())
    assert report["summary"].get("softFail") is True
    assert any(v["enforcement"] == "mandatory" for v in report["violations"])


def test_rule_selection_and_at_reach_the_command(tmp_path: Path, session_project: Path, test_pack: Path) -> None:
    (tmp_path / "all.yaml").write_text(CLEAN + OPEN_EGRESS)
    run = _run_check(tmp_path, session_project, manifests="all.yaml", formats="json", at=AT,
                     **{"policy-pack": str(test_pack), "skip-rule": "egress-in-jurisdiction"})
    assert run.outputs["verdict"] == "pass", run.stderr
    report = json.loads((tmp_path / "out" / "residency.json").read_text())
    assert "egress-in-jurisdiction" in report["summary"]["disabledPolicies"]
    assert report["summary"]["at"]


def test_bad_input_is_an_error_and_the_summary_says_why(tmp_path: Path, session_project: Path,
                                                        test_pack: Path) -> None:
    (tmp_path / "cm.yaml").write_text(UNLABELLED)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "residency.md").write_text("## Residency check: ✅ passed (a stale report)\n")
    run = _run_check(tmp_path, session_project, manifests="cm.yaml", **{"policy-pack": str(test_pack)})
    assert run.returncode == 0, run.stderr  # the step records; the Verdict step fails the action
    assert (run.outputs["exit-code"], run.outputs["verdict"]) == ("2", "error")
    assert "stale" not in run.summary and run.summary.strip()
    if not run.outputs.get("markdown-file"):
        assert "exited 2 (bad input)" in run.summary


def test_stacks_are_rendered_into_the_output_dir(tmp_path: Path, session_project: Path, test_pack: Path) -> None:
    run = _run_check(tmp_path, session_project, stacks=FIXTURE_STACK, formats="sarif", at=AT,
                     **{"policy-pack": str(test_pack), "output-dir": "reports"})
    assert run.outputs["exit-code"] in ("0", "1"), run.stdout + run.stderr
    assert (tmp_path / "reports" / FIXTURE_STACK / "preview.json").is_file()
    assert json.loads(Path(run.outputs["sarif-file"]).read_text())["version"] == "2.1.0"
    assert "no Markdown report requested" in run.summary


@pytest.mark.parametrize(("exit_code", "expected"), [("0", 0), ("1", 1), ("2", 2), ("", 2)])
def test_the_verdict_step_fails_the_action_unless_the_check_passed(tmp_path: Path, exit_code: str,
                                                                   expected: int) -> None:
    action = load(ACTION)
    spec = step(action, "Verdict")
    assert spec["if"] == "always()"
    context = {"steps": {"check": {"outputs": {"exit-code": exit_code, "verdict": ""}}}}
    assert run_step(spec, context, tmp_path).returncode == expected


# --- the pre-commit hooks ------------------------------------------------------------------------------------------

def test_hook_manifest_uses_the_documented_keys() -> None:
    hooks = yaml.safe_load(HOOKS.read_text())
    assert isinstance(hooks, list) and hooks
    assert len({h["id"] for h in hooks}) == len(hooks)
    for hook in hooks:
        assert set(hook) <= PRE_COMMIT_HOOK_KEYS, set(hook) - PRE_COMMIT_HOOK_KEYS
        for key in PRE_COMMIT_REQUIRED:
            assert isinstance(hook[key], str) and hook[key], key
        assert hook["language"] == "python"  # pre-commit installs this repository with pip
        assert set(hook.get("stages", [])) <= PRE_COMMIT_STAGES
        for key in ("types", "types_or"):
            assert all(t in ("yaml", "json", "file", "text") for t in hook.get(key, []))
        re.compile(hook.get("files", ""))


def test_every_hook_runs_a_sovereign_command_with_flags_it_has() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load(HOOKS.read_text())}
    assert set(hooks) == {"sovereign-validate", "sovereign-check-manifests"}
    for hook in hooks.values():
        program, command, *rest = shlex.split(hook["entry"])
        assert program == "sovereign"
        assert set(rest) <= flags_of(command), hook["entry"]
        assert hook["pass_filenames"] is False  # both judge the whole input, not the changed files alone


def test_validate_hook_runs_on_stack_files_the_catalog_and_the_organisation() -> None:
    from sovereign.core import paths

    hook = next(h for h in yaml.safe_load(HOOKS.read_text()) if h["id"] == "sovereign-validate")
    files = re.compile(hook["files"])
    for path in ("stacks/Pulumi.cn-prod.yaml", "stacks/stack.schema.json", "policies/catalog/catalog.yaml",
                 "policies/catalog/jurisdictions/cn.yaml", getattr(paths, "ORGANISATION_FILE", "organisation.yaml")):
        assert files.search(path), path
    for path in ("infra/cluster.py", "deploy/app.yaml", "docs/organisation.yaml"):
        assert not files.search(path), path


def test_the_manifests_hook_runs_as_pre_commit_calls_it(tmp_path: Path, session_project: Path,
                                                         test_pack: Path) -> None:
    """pre-commit runs ``entry`` + the user's ``args`` (+ no file names): one check of the whole input."""
    hook = next(h for h in yaml.safe_load(HOOKS.read_text()) if h["id"] == "sovereign-check-manifests")
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "ns.yaml").write_text(CLEAN)
    (tmp_path / "deploy" / "policy.yaml").write_text(OPEN_EGRESS)  # alone, the Namespace label is elsewhere
    argv = [str(SOVEREIGN), *shlex.split(hook["entry"])[1:], "deploy", "--policy-pack", str(test_pack)]
    env = {**_env(), "SOVEREIGN_ROOT": str(session_project)}
    result = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 1, result.stderr
    assert "open" in result.stdout
    entry_alone = [str(SOVEREIGN), *shlex.split(hook["entry"])[1:]]  # a user who forgot `args`
    no_args = subprocess.run(entry_alone, cwd=tmp_path, capture_output=True, text=True, env=env, check=False)
    assert no_args.returncode == 2 and "--manifests" in no_args.stderr


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env.pop("SOVEREIGN_AT", None)
    return env


# --- the workflow ----------------------------------------------------------------------------------------------------

def test_workflow_uses_the_action_with_inputs_it_declares() -> None:
    doc = load(WORKFLOW)
    assert "pull_request" in doc[True]  # YAML 1.1 reads the key `on` as True
    assert doc["permissions"]["security-events"] == "write"
    assert doc["permissions"]["pull-requests"] == "write"
    checkout = next(s for s in step_list(doc) if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0  # diff --base needs history
    residency = step(doc, "residency")
    assert residency["uses"] == "./"
    declared = set(load(ACTION)["inputs"])
    assert set(residency["with"]) <= declared
    formats = set(re.split(r"[\s,]+", residency["with"]["formats"].strip()))
    assert {"sarif", "markdown", "github"} <= formats
    assert checked_formats(formats) <= formats_of("check")
    assert residency["with"]["upload-sarif"] == "true"
    outputs = set(load(ACTION)["outputs"])
    used = set(re.findall(r"steps\.residency\.outputs\.([a-z-]+)", WORKFLOW.read_text()))
    assert used and used <= outputs


def step_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = doc["jobs"].values()
    return list(job["steps"])


def test_every_sovereign_command_in_the_workflow_parses() -> None:
    from sovereign.cli.main import build_parser

    parser = build_parser()
    commands = []
    for s in step_list(load(WORKFLOW)):
        for line in str(s.get("run", "")).replace("\\\n", " ").splitlines():
            line = line.strip()
            if line.startswith('"$SOVEREIGN" '):
                words = shlex.split(line.split("||")[0])
                commands.append([w.replace("$BASE_REF", "origin/main") for w in words[1:]])
    assert [c[0] for c in commands] == ["diff"]
    for argv in commands:
        assert set(a for a in argv if a.startswith("--")) <= flags_of(argv[0])
        args = parser.parse_args(argv)  # argparse exits (SystemExit) on an unknown flag
        assert callable(args.func)


def _compose(tmp_path: Path, report: str, exit_code: str) -> str:
    doc = load(WORKFLOW)
    spec = step(doc, "Compose the pull-request comment")
    assert str(spec["if"]).startswith("always()")
    context = {
        "steps": {"residency": {"outputs": {"markdown-file": report, "exit-code": exit_code}}},
        "github": {"server_url": "https://github.com", "repository": "acme/clusters", "run_id": "42",
                   "run_attempt": "1"},
    }
    run = run_step(spec, context, tmp_path, extra_env={"BASE_REF": "origin/main"})
    assert run.returncode == 0, run.stderr
    return (tmp_path / "out" / "comment.md").read_text()


def test_the_comment_posts_the_report_and_the_diff(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    report = tmp_path / "out" / "residency.md"
    report.write_text("## Residency check: ✅ passed\n")
    (tmp_path / "out" / "diff.md").write_text("## Residency diff\n")
    body = _compose(tmp_path, str(report), "0")
    assert "## Residency check: ✅ passed" in body and "## Residency diff" in body


@pytest.mark.parametrize("report_state", ["missing", "empty", "no output"])
def test_the_comment_is_never_empty(tmp_path: Path, report_state: str) -> None:
    (tmp_path / "out").mkdir()
    report = tmp_path / "out" / "residency.md"
    if report_state == "empty":
        report.write_text("")
    given = "" if report_state == "no output" else str(report)
    body = _compose(tmp_path, given, "2")
    assert "exited 2: bad input" in body
    assert "https://github.com/acme/clusters/actions/runs/42/attempts/1" in body
    assert "No residency diff" in body
    set_up_failed = _compose(tmp_path, "", "")
    assert "did not run to its end" in set_up_failed


def test_workflow_expressions_are_ones_the_runner_knows() -> None:
    """Every ``${{ }}`` of the workflow names a context GitHub provides or a step output the action declares."""
    known_roots = {"github", "steps", "inputs", "secrets", "env", "matrix", "needs", "hashFiles('out/comment.md')"}
    for expr in expressions(WORKFLOW.read_text()):
        root = expr.split(".")[0].split(" ")[0]
        assert root in known_roots, expr
    evaluate("${{ github.run_id }}", {"github": {"run_id": "1"}})


def test_docs_describe_the_real_pulumi_path() -> None:
    text = (REPO / "docs" / "cli.md").read_text()
    needles = ("pulumi login --local", "PULUMI_CONFIG_PASSPHRASE",
               "pulumi preview --stack cn-prod --policy-pack policies")
    for needle in needles:
        assert needle in text


def test_docs_show_the_action_the_hooks_and_the_workflow() -> None:
    text = (REPO / "docs" / "cli.md").read_text()
    for needle in ("action.yml", ".pre-commit-hooks.yaml", "sovereign-validate", "sovereign-check-manifests",
                   "upload-sarif", "--format github"):
        assert needle in text, needle
    readme = (REPO / "README.md").read_text()
    assert "action.yml" in readme
