"""Transfers expire at the evaluation time, in every evaluator: the program (SOVEREIGN_AT), the pack (policy
config ``at``), ``sovereign check --at`` and ``sovereign diff``. cn-prod's ``weights-to-eu`` is valid
2026-03-01 .. 2027-02-28 (validUntil exclusive)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_support import ROOT, analyze, command_available, describe, pack, run_cli, stack_config

ACTIVE, EXPIRED, WARNED = "2026-12-01", "2027-03-01", "2027-02-10"
TRANSFER = "weights-to-eu"
TRANSFER_KEY = "sovereign-clusters.dev/transfer"


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cn-prod rendered at an active and an expired time: once via --at, once via SOVEREIGN_AT only."""
    out = {}
    for label, at, how in (("active", ACTIVE, "flag"), ("expired", EXPIRED, "flag"), ("expired-env", EXPIRED, "env")):
        target = tmp_path_factory.mktemp(f"render-{label}")
        args = ["render", "cn-prod", "--out", str(target)]
        run = run_cli(args + ["--at", at] if how == "flag" else args, env={"SOVEREIGN_AT": at} if how == "env" else {})
        assert run.code == 0, run.stderr
        out[label] = target / "cn-prod"
        (target / "render.log").write_text(run.stdout + "\n" + run.stderr, encoding="utf-8")
    return out


def _transfer_objects(render: Path) -> list[dict[str, Any]]:
    objs = []
    for path in sorted((render / "manifests").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            labels = (doc or {}).get("metadata", {}).get("labels") or {}
            annotations = (doc or {}).get("metadata", {}).get("annotations") or {}
            if TRANSFER in str(labels.get(TRANSFER_KEY, "")) or TRANSFER in str(annotations.get(TRANSFER_KEY, "")):
                objs.append(doc)
    return objs


# ------------------------------------------------------------------------------ the program
def test_program_renders_the_transfer_only_while_active(renders: dict[str, Path]) -> None:
    active = _transfer_objects(renders["active"])
    assert {o["kind"] for o in active} >= {"NetworkPolicy"}, [o["kind"] for o in active]
    assert _transfer_objects(renders["expired"]) == []
    assert _transfer_objects(renders["expired-env"]) == [], "SOVEREIGN_AT alone must drive the program too"


def test_program_reports_the_expired_transfer(renders: dict[str, Path]) -> None:
    """Not rendered AND reported: the render (preview.json diagnostics/outputs or the command's output) says
    that weights-to-eu expired (the program logs it and exports ``expiredTransfers``)."""
    preview = (renders["expired"] / "preview.json").read_text(encoding="utf-8")
    said = (renders["expired"].parent / "render.log").read_text(encoding="utf-8")
    doc = json.loads(preview)
    reported = [d for d in doc.get("diagnostics") or [] if TRANSFER in json.dumps(d)]
    outputs = [s for s in doc.get("steps", []) if "expiredTransfers" in json.dumps(s)]
    assert reported or outputs or (TRANSFER in said and "expired" in said), (
        "render at 2027-03-01 dropped weights-to-eu without a word: no diagnostic, no stack output, nothing printed "
        "(RT-9)")


# ------------------------------------------------------------------------------ the pack (config `at`)
def _rendered_manifests(render: Path) -> list[dict[str, Any]]:
    from sovereign.render.rendered import load_render

    rendered = load_render(render)
    return [dict(s.inputs) for s in rendered.kubernetes_objects()]


@pytest.mark.parametrize(("at", "expired"), [(ACTIVE, False), ("2027-02-27T23:59:59Z", False),
                                             ("2027-02-28T00:00:00Z", True), (EXPIRED, True)])
def test_pack_judges_transfers_at_its_config_at(at: str, expired: bool, renders: dict[str, Path]) -> None:
    manifests = _rendered_manifests(renders["active"])
    policy_config = {name: {"at": at} for name in ("transfer-valid", "no-cross-border-path",
                                                   "transfer-expiry-warning")}
    with pack(stack_config("cn-prod"), stack="cn-prod", policy_config=policy_config) as process:
        diags = analyze(process, manifests, stack="cn-prod")
    mandatory = [d for d in diags if d.enforcement_level == "mandatory"]
    if expired:
        assert any(d.policy_name == "transfer-valid" and "expired" in d.message for d in mandatory), describe(diags)
        assert any(d.policy_name == "no-cross-border-path" for d in mandatory), describe(diags)
    else:
        assert not mandatory, describe(mandatory)


# ------------------------------------------------------------------------------ sovereign check --at
def _check(args: list[str], env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    run = run_cli(["check", *args, "--format", "json"], env=env)
    assert run.code in (0, 1), run.stderr
    return run.code, json.loads(run.stdout)


def _messages(report: dict[str, Any], policy: str) -> list[str]:
    return [v["message"] for v in report["violations"] if v["policy"] == policy]


def test_check_at_active_time_passes_without_warning(tmp_path: Path) -> None:
    code, report = _check(["cn-prod", "--at", ACTIVE, "--out", str(tmp_path)])
    assert code == 0, report["violations"]
    assert not _messages(report, "transfer-expiry-warning")


def test_check_after_expiry_renders_without_the_transfer_and_reports_it(tmp_path: Path) -> None:
    code, report = _check(["cn-prod", "--at", EXPIRED, "--out", str(tmp_path)])
    assert code == 0, report["violations"]  # the program left the expired transfer out: nothing crosses
    assert any("expired on 2027-02-28" in m for m in _messages(report, "transfer-expiry-warning")), report
    assert _transfer_objects(tmp_path / "cn-prod") == []


def test_check_of_a_stale_render_after_expiry_fails(renders: dict[str, Path]) -> None:
    """A render made while the transfer was active, checked after it expired: the transfer policies are still
    there and must now be rejected."""
    code, report = _check(["--render-dir", str(renders["active"]), "--at", EXPIRED])
    assert code == 1
    assert any("expired" in m for m in _messages(report, "transfer-valid")), report["violations"]
    assert _messages(report, "no-cross-border-path"), report["violations"]


def test_check_warns_n_days_before_expiry(renders: dict[str, Path]) -> None:
    code, report = _check(["--render-dir", str(renders["active"]), "--at", WARNED])
    assert code == 0, report["violations"]
    warnings = _messages(report, "transfer-expiry-warning")
    assert any("in 18 day(s)" in m for m in warnings), report["violations"]
    assert all(v["enforcement"] == "advisory" for v in report["violations"]), report["violations"]


def test_check_warning_window_is_configurable(renders: dict[str, Path]) -> None:
    code, report = _check(["--render-dir", str(renders["active"]), "--at", ACTIVE],
                          env={"SOVEREIGN_EXPIRY_WARNING_DAYS": "100"})
    assert code == 0
    assert any("in 89 day(s)" in m for m in _messages(report, "transfer-expiry-warning")), report["violations"]
    _, quiet = _check(["--render-dir", str(renders["active"]), "--at", ACTIVE],
                      env={"SOVEREIGN_EXPIRY_WARNING_DAYS": "30"})
    assert not _messages(quiet, "transfer-expiry-warning")


# ------------------------------------------------------------------------------ sovereign diff
needs_diff = pytest.mark.skipif(not command_available("diff"), reason="sovereign diff not available "
                                "(sovereign/cli/diff.py missing): the diff evaluator's expiry cannot be tested")


def _diff(base: Path, head: Path, at: str | None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """cn-prod's entry of the JSON diff: ``transfers`` (HEAD's, each with its state at the evaluation time) and
    ``posture`` (the changes)."""
    args = ["diff", str(base.parent), str(head.parent), "--format", "json"] + (["--at", at] if at else [])
    run = run_cli(args, env=env)
    assert run.code in (0, 1), run.stderr
    doc = json.loads(run.stdout)
    (stack,) = [s for s in doc["stacks"] if s["stack"] == "cn-prod"]
    return dict(stack)


def _ids(stack: dict[str, Any], state: str) -> list[str]:
    """Transfers of HEAD in ``state`` (``expired``...), or ``expiring`` (active, ending within the window)."""
    return [t["id"] for t in stack["transfers"] if (t["expiring"] if state == "expiring" else t["state"] == state)]


@needs_diff
@pytest.mark.parametrize(("at", "expired", "expiring"), [(ACTIVE, [], []), (WARNED, [], [TRANSFER]),
                                                         (EXPIRED, [TRANSFER], [])])
def test_diff_judges_transfers_at_its_evaluation_time(at: str, expired: list[str], expiring: list[str],
                                                      renders: dict[str, Path]) -> None:
    stack = _diff(renders["active"], renders["active"], at)
    assert _ids(stack, "expired") == expired, stack
    assert _ids(stack, "expiring") == expiring, stack
    assert not any(stack["posture"].values()), stack  # a transfer's state is no change


@needs_diff
def test_diff_takes_sovereign_at_from_the_environment(renders: dict[str, Path]) -> None:
    stack = _diff(renders["active"], renders["active"], None, env={"SOVEREIGN_AT": EXPIRED})
    assert _ids(stack, "expired") == [TRANSFER], stack


@needs_diff
def test_diff_active_to_expired_render(renders: dict[str, Path]) -> None:
    run = run_cli(["diff", str(renders["active"].parent), str(renders["expired"].parent), "--at", EXPIRED,
                   "--format", "markdown"])
    assert run.code == 0, run.stderr
    assert "weights-to-eu" in run.stdout and "expired" in run.stdout, run.stdout[:3000]
    assert "transfer-weights-to-eu" in run.stdout  # the transfer policies are shown as removed


def test_root_is_the_checkout() -> None:
    assert (ROOT / "stacks" / "Pulumi.cn-prod.yaml").is_file()
