"""The pack's settings on the command line (``--rule``, ``--skip-rule``, ``--soft-fail``, ``--policy-pack-config``)
and ``sovereign rules``: a selection is policy config, so it means what the same ``--policy-pack-config`` means
under ``pulumi preview``, on both transports."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import AT, REPO, run_cli

from policies.pack import load_rules
from sovereign.analyzer.model import COMPANIONS

LEAK = REPO / "tests" / "redteam" / "vectors" / "world-with-except" / "leak"
"""Plain manifests with two mandatory findings of two rules: no-cross-border-path and egress-not-open-world."""


def _check(tmp_path: Path, name: str, *args: str) -> tuple[int, dict[str, Any], str]:
    out = tmp_path / f"{name}.json"
    done = run_cli("check", "--manifests", LEAK, "--at", AT, "--format", "json", "--output", out, *args)
    report = json.loads(out.read_text()) if out.exists() and done.returncode in (0, 1) else {}
    return done.returncode, report, done.stderr


def _policies(report: dict[str, Any]) -> set[str]:
    return {v["policy"] for v in report["violations"]}


def test_the_leak_draws_findings_of_two_rules(tmp_path: Path) -> None:
    code, report, _ = _check(tmp_path, "all")
    assert code == 1
    assert {"no-cross-border-path", "egress-not-open-world"} <= _policies(report)
    assert "disabledPolicies" not in report["summary"]


def test_skip_rule_is_the_policy_pack_config_that_disables_it(tmp_path: Path) -> None:
    code, skipped, _ = _check(tmp_path, "skip", "--skip-rule", "egress-not-open-world")
    assert code == 1
    assert "egress-not-open-world" not in _policies(skipped)
    assert "no-cross-border-path" in _policies(skipped)
    assert skipped["summary"]["disabledPolicies"] == ["egress-not-open-world"]
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"egress-not-open-world": "disabled"}))
    _, configured, _ = _check(tmp_path, "config", "--policy-pack-config", str(config))
    assert configured == skipped


def test_rule_keeps_only_that_rule_and_the_companions(tmp_path: Path) -> None:
    code, report, _ = _check(tmp_path, "only", "--rule", "egress-not-open-world")
    assert code == 1
    assert _policies(report) == {"egress-not-open-world"}
    rules = {r.id for r in load_rules()}
    assert set(report["summary"]["disabledPolicies"]) == rules - {"egress-not-open-world"}
    assert not set(report["summary"]["disabledPolicies"]) & set(COMPANIONS)


def test_selection_is_the_same_over_grpc(tmp_path: Path) -> None:
    args = ("--rule", "no-cross-border-path", "--rule", "unjudged-object")
    _, direct, _ = _check(tmp_path, "direct", *args)
    _, grpc, _ = _check(tmp_path, "grpc", *args, "--pack-transport", "grpc")
    assert direct == grpc and _policies(direct) == {"no-cross-border-path"}


def test_a_rule_the_pack_lacks_is_bad_input_with_a_suggestion(tmp_path: Path) -> None:
    code, _, err = _check(tmp_path, "bad", "--skip-rule", "no-cross-border-pth", "--rule", "nope-at-all")
    assert code == 2
    assert "--skip-rule: expected a rule of the pack" in err and "did you mean no-cross-border-path?" in err
    assert "--rule: expected a rule of the pack" in err and "found nope-at-all" in err


def test_soft_fail_reports_the_failure_and_exits_0(tmp_path: Path) -> None:
    code, report, _ = _check(tmp_path, "soft", "--soft-fail")
    assert code == 0
    assert report["summary"]["result"] == "fail" and report["summary"]["softFail"] is True
    text = run_cli("check", "--manifests", LEAK, "--at", AT, "--soft-fail")
    assert text.returncode == 0 and "(--soft-fail: exit 0)" in text.stdout.splitlines()[-1]


def test_soft_fail_does_not_hide_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: [unclosed\n")
    done = run_cli("check", "--manifests", bad, "--soft-fail")
    assert done.returncode == 2


def test_rules_lists_every_rule_and_companion_as_the_pack_describes_them() -> None:
    done = run_cli("rules", "--format", "json")
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)["rules"]
    ids = [r["id"] for r in listed]
    rules = load_rules()
    assert ids == [r.id for r in rules] + list(COMPANIONS)
    by_id = {r["id"]: r for r in listed}
    for rule in rules:
        assert by_id[rule.id]["protects"] == rule.protects
        assert by_id[rule.id]["enforcement"] == rule.enforcement
        assert by_id[rule.id]["severity"] == rule.severity
    text = run_cli("rules")
    assert text.returncode == 0 and all(r.id in text.stdout for r in rules)


@pytest.mark.parametrize("rule_id", ["storageclass-topology", "no-cross-border-path"])
def test_explain_prints_rationale_fix_config_and_samples(rule_id: str) -> None:
    done = run_cli("rules", "--explain", rule_id, "--format", "json")
    assert done.returncode == 0, done.stderr
    explained = json.loads(done.stdout)
    rule = next(r for r in load_rules() if r.id == rule_id)
    assert explained["remediation"] == rule.remediation and explained["rationale"]
    verdicts = {s["verdict"] for s in explained["samples"]}
    assert verdicts == {"allowed", "disallowed"}
    assert all((REPO / s["file"]).is_file() for s in explained["samples"])
    assert any(s["expect"] for s in explained["samples"] if s["verdict"] == "disallowed")
    assert "exemptions" in explained["config"]
    text = run_cli("rules", "--explain", rule_id)
    assert "Why:" in text.stdout and f"Fix: {rule.remediation}" in text.stdout and "Disallowed samples:" in text.stdout


def test_explain_of_an_unknown_rule_is_bad_input() -> None:
    done = run_cli("rules", "--explain", "storageclass-topolgy")
    assert done.returncode == 2 and "did you mean storageclass-topology?" in done.stderr


def test_diff_takes_the_pack_settings(tmp_path: Path, rendered: Path, session_project: Path) -> None:
    common = (rendered, rendered, "--at", AT, "--policy-pack", REPO / "policies")
    bad = tmp_path / "config.json"
    bad.write_text('{"no-cross-border-path": {"enforcementLevel": "loud"}}')
    done = run_cli("diff", *common, "--policy-pack-config", bad, root=session_project)
    assert done.returncode == 2 and str(bad) in done.stderr and "enforcementLevel" in done.stderr
    done = run_cli("diff", *common, "--rule", "nope", root=session_project)
    assert done.returncode == 2 and "--rule: expected a rule of the pack" in done.stderr
    done = run_cli("diff", *common, "--skip-rule", "transfer-valid", "--soft-fail",
                   "--format", "json", root=session_project)
    assert done.returncode == 0, done.stderr
