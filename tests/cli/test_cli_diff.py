"""``sovereign diff``: residency posture first, then resources; crafted before/after renders and a git base."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_support import FIXTURE_STACK, run_cli

AT = "2026-11-25"


def _edit(preview: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    doc = json.loads(preview.read_text())
    edit(doc)
    preview.write_text(json.dumps(doc, indent=4, sort_keys=True) + "\n")


def _step(doc: dict, suffix: str) -> dict:
    return next(s for s in doc["steps"] if s["urn"].endswith(suffix))


def craft_head(doc: dict) -> None:
    """The change under review: egress to a US network, backups moved, the transfer about to end, a secret
    deleted and a config map added."""
    np = _step(doc, "NetworkPolicy::egress-registry")["newState"]["inputs"]
    np["spec"]["egress"][0]["to"][0]["ipBlock"]["cidr"] = "10.30.0.0/16"
    bsl = _step(doc, "BackupStorageLocation::backup-primary")["newState"]["inputs"]
    bsl["spec"]["config"]["region"] = "cn-northwest-1"
    transfers = json.loads(doc["config"]["sovereign-clusters:transfers"])
    transfers[0]["validUntil"] = "2026-12-10T00:00:00Z"
    doc["config"]["sovereign-clusters:transfers"] = json.dumps(transfers, sort_keys=True, separators=(",", ":"))
    secret = _step(doc, "Secret::registry-token")
    doc["steps"].remove(secret)
    extra = json.loads(json.dumps(secret))
    extra["urn"] = extra["newState"]["urn"] = secret["urn"].replace("Secret::registry-token", "ConfigMap::settings")
    extra["newState"]["type"] = "kubernetes:core/v1:ConfigMap"
    extra["newState"]["inputs"] = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"mode": "strict"},
                                   "metadata": {"name": "settings", "namespace": "model-registry"}}
    doc["steps"].append(extra)


@pytest.fixture
def before_after(rendered: Path, tmp_path: Path) -> tuple[Path, Path]:
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(rendered, base)
    shutil.copytree(rendered, head)
    _edit(head / FIXTURE_STACK / "preview.json", craft_head)
    return base, head


def test_diff_json_posture(before_after: tuple[Path, Path], session_project: Path) -> None:
    base, head = before_after
    result = run_cli("diff", base, head, "--format", "json", "--no-policy", "--at", AT, root=session_project)
    assert result.returncode == 1, result.stderr  # an unapproved cross-border flow was added
    doc = json.loads(result.stdout)
    (stack,) = doc["stacks"]
    assert stack["stack"] == FIXTURE_STACK and stack["status"] == "changed"
    posture = stack["posture"]
    opened = {(e["workload"], e["destination"], e["jurisdiction"], e["protocol"], e["ports"])
              for e in posture["egressOpened"]}
    closed = {(e["workload"], e["destination"], e["jurisdiction"]) for e in posture["egressClosed"]}
    assert ("model-registry/registry", "10.30.0.0/16", "us", "TCP", "443") in opened
    assert ("model-registry/registry", "10.10.20.0/24", "cn") in closed
    (flow,) = posture["crossBorderFlowsAdded"]
    assert (flow["source"], flow["destination"], flow["destinationJurisdiction"], flow["approval"]) == (
        "model-registry/registry", "10.30.0.0/16", "us", "")
    assert posture["crossBorderFlowsRemoved"] == []  # the approved EU transfer path is unchanged
    assert posture["storageAndBackupsMoved"] == [{
        "kind": "BackupStorageLocation", "name": "velero/primary", "field": "config region",
        "old": "cn-north-1", "new": "cn-northwest-1"}]
    (standing,) = stack["transfers"]  # HEAD's transfers and their state at --at (not changes)
    assert (standing["id"], standing["state"], standing["expiring"], standing["daysLeft"]) == (
        "weights-to-eu", "active", True, 15)
    # The window moved but the transfer stays active at --at: its fields changed, its state did not.
    assert [(c["field"], c["new"]) for c in posture["transfersChanged"]] == [
        ("validUntil", "2026-12-10T00:00:00+00:00")]
    assert [(e["state"], e["source"], e["destination"], e["transfer"]) for e in doc["flowEdges"]] == [
        ("active", "cn", "eu", "weights-to-eu"), ("unapproved", "cn", "us", "")]
    ops = {(r["op"], r["name"]) for r in stack["resources"]}
    assert ops == {("create", "settings"), ("delete", "registry-token"), ("update", "egress-registry"),
                   ("update", "backup-primary")}
    update = next(r for r in stack["resources"] if r["name"] == "egress-registry")
    assert update["properties"] == [{"path": "spec.egress[0].to[0].ipBlock.cidr", "kind": "update",
                                     "old": "10.10.20.0/24", "new": "10.30.0.0/16", "secret": False}]


def test_diff_markdown_posture_first_with_a_flow_map(before_after: tuple[Path, Path], session_project: Path) -> None:
    base, head = before_after
    result = run_cli("diff", base, head, "--no-policy", "--at", AT, root=session_project)
    out = result.stdout
    assert out.startswith("## Residency diff:")
    assert out.index("### Posture") < out.index("### Resource changes")
    assert out.index("```mermaid") < out.index("### Posture")
    mermaid = out[out.index("```mermaid") + len("```mermaid\n"): out.index("```", out.index("```mermaid") + 3)]
    assert mermaid.startswith("flowchart LR\n")
    assert 'j_cn -->|"CAC-SA-2026-0042 · model-weights · until 2026-12-10"| j_eu' in mermaid
    assert 'j_cn -.->|"NO APPROVAL: model-registry/registry TCP/443"| j_us' in mermaid
    assert "linkStyle 1 stroke:#d73a49" in mermaid
    assert "| ⚠️ active, expiring (15 days left) | weights-to-eu |" in out
    assert "| `fixture-cn` | changed |" in out and "| 1 active (1 expiring) |" in out
    assert "~     spec.egress[0].to[0].ipBlock.cidr: \"10.10.20.0/24\" => \"10.30.0.0/16\"" in out


def test_diff_reports_policy_results_changed(before_after: tuple[Path, Path], session_project: Path,
                                             test_pack: Path) -> None:
    base, head = before_after
    result = run_cli("diff", base, head, "--format", "json", "--policy-pack", test_pack, "--at", AT,
                     root=session_project)
    posture = json.loads(result.stdout)["stacks"][0]["posture"]
    added = [(v["policy"], v["resource"]["name"], v["message"]) for v in posture["policyAdded"]]
    assert added == [("egress-in-jurisdiction", "egress-registry",
                      "egress[0].to[0] 10.30.0.0/16 leaves the jurisdiction")]
    assert posture["policyResolved"] == []


def _plain_secret(value: str) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        """A Secret with its values in plain text, as a render made elsewhere (or an old one) may carry them."""
        inputs = _step(doc, "Secret::registry-pull")["newState"]["inputs"]
        inputs["stringData"] = {"user": f"user-{value}", "same": "unchanged-plain-value"}
        inputs["data"] = {"key": base64.b64encode(f"key-{value}".encode()).decode()}
        if value == "new":
            inputs["data"]["extra"] = base64.b64encode(b"added-plain-value").decode()
    return edit


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_diff_of_a_rotated_secret_says_changed_never_to_what(fmt: str, rendered: Path, session_project: Path,
                                                            tmp_path: Path) -> None:
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(rendered, base)
    shutil.copytree(rendered, head)
    _edit(base / FIXTURE_STACK / "preview.json", _plain_secret("old"))
    _edit(head / FIXTURE_STACK / "preview.json", _plain_secret("new"))
    result = run_cli("diff", base, head, "--format", fmt, "--no-policy", "--at", AT, root=session_project)
    assert result.returncode == 0, result.stderr
    for value in ("user-old", "user-new", "key-old", "key-new", "unchanged-plain-value", "added-plain-value"):
        for needle in (value, base64.b64encode(value.encode()).decode()):
            assert needle not in result.stdout + result.stderr, f"diff shows {value}"
    if fmt == "markdown":
        assert "~     data.key: changed (secret)" in result.stdout
        assert "~     stringData.user: changed (secret)" in result.stdout
        assert "+     data.extra: [secret] (added)" in result.stdout
        assert "stringData.same" not in result.stdout
    else:
        (change,) = [r for r in json.loads(result.stdout)["stacks"][0]["resources"] if r["name"] == "registry-pull"]
        assert change["op"] == "update"
        assert change["properties"] == [
            {"path": "data.extra", "kind": "add", "old": None, "new": "[secret]", "secret": True},
            {"path": "data.key", "kind": "update", "old": "[secret]", "new": "[secret]", "secret": True},
            {"path": "stringData.user", "kind": "update", "old": "[secret]", "new": "[secret]", "secret": True},
        ]


def test_identical_renders_show_no_change(rendered: Path, session_project: Path) -> None:
    result = run_cli("diff", rendered, rendered, "--no-policy", "--at", AT, root=session_project)
    assert result.returncode == 0
    assert "No residency change." in result.stdout
    assert f"<code>{FIXTURE_STACK}</code>: no changes" in result.stdout


def _mermaid(markdown: str) -> str:
    start = markdown.index("```mermaid\n") + len("```mermaid\n")
    return markdown[start: markdown.index("```", start)]


def _set_window(valid_from: str | None = None, valid_until: str | None = None) -> Callable[[dict[str, Any]], None]:
    def edit(doc: dict[str, Any]) -> None:
        transfers = json.loads(doc["config"]["sovereign-clusters:transfers"])
        if valid_from:
            transfers[0]["validFrom"] = valid_from
        if valid_until:
            transfers[0]["validUntil"] = valid_until
        doc["config"]["sovereign-clusters:transfers"] = json.dumps(transfers, sort_keys=True, separators=(",", ":"))
    return edit


# The fixture's transfer weights-to-eu is valid from 2026-03-01 until 2027-02-28 (exclusive).
TRANSFER_STATES = [
    ("2026-01-01", "pending", '-.-o|"PENDING CAC-SA-2026-0042 · model-weights · from 2026-03-01"| j_eu',
     "stroke:#0969da", "| ⏳ pending (not yet valid) | weights-to-eu |"),
    ("2026-11-25", "active", '-->|"CAC-SA-2026-0042 · model-weights · until 2027-02-28"| j_eu',
     "stroke:#2da44e", "| ✅ active | weights-to-eu |"),
    ("2027-02-28", "expired", '-.-x|"EXPIRED CAC-SA-2026-0042 · model-weights · ended 2027-02-28"| j_eu',
     "stroke:#8c959f", "| ❌ expired | weights-to-eu |"),
]


@pytest.mark.parametrize(("at", "state", "edge", "style", "row"), TRANSFER_STATES)
def test_an_unchanged_transfer_is_drawn_by_its_state_and_is_no_change(
        at: str, state: str, edge: str, style: str, row: str, rendered: Path, session_project: Path) -> None:
    """Same render on both sides: whatever the transfer's state at --at, nothing changed (exit 0, unchanged);
    the flow map draws the transfer by its state, in Markdown and in JSON."""
    md = run_cli("diff", rendered, rendered, "--no-policy", "--at", at, root=session_project)
    assert md.returncode == 0, md.stderr
    assert f"| `{FIXTURE_STACK}` | unchanged | — | 1 {state} | 0 |" in md.stdout
    assert "No residency change." in md.stdout and row in md.stdout
    mermaid = _mermaid(md.stdout)
    assert f"j_cn {edge}" in mermaid
    assert f"linkStyle 0 {style}" in mermaid
    doc = json.loads(run_cli("diff", rendered, rendered, "--no-policy", "--at", at, "--format", "json",
                             root=session_project).stdout)
    (stack,) = doc["stacks"]
    assert stack["status"] == "unchanged"
    assert not any(stack["posture"].values())  # no change of any kind, the transfer's state included
    assert [t["state"] for t in stack["transfers"]] == [state]
    assert doc["flowEdges"][0]["state"] == state and doc["flowEdges"][0]["transfer"] == "weights-to-eu"
    assert f"j_cn {edge}" in doc["flowMap"]


def test_every_state_is_drawn_apart() -> None:
    from sovereign.diff.flowmap import EDGE_DRAWING, LEGEND
    from sovereign.stackconfig.model import TransferState

    assert set(EDGE_DRAWING) == {s.value for s in TransferState} | {"unapproved"}
    links = [link for link, _ in EDGE_DRAWING.values()]
    colours = [style.split(",")[0] for _, style in EDGE_DRAWING.values()]
    assert len(set(links)) == len(links) and len(set(colours)) == len(colours)
    for word in ("active", "pending", "expired", "without an active transfer"):
        assert word in LEGEND


@pytest.mark.parametrize("fmt", ["json", "markdown"])
def test_a_renewed_window_is_one_changed_transfer_with_its_new_state(
        fmt: str, rendered: Path, session_project: Path, tmp_path: Path) -> None:
    """BASE's approval ended before --at, HEAD renews it: the window field and the state it leads to are one
    changed transfer (not an expiry of HEAD, not a change counted twice)."""
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(rendered, base)
    shutil.copytree(rendered, head)
    _edit(base / FIXTURE_STACK / "preview.json", _set_window(valid_until="2026-11-01T00:00:00Z"))
    result = run_cli("diff", base, head, "--no-policy", "--at", AT, "--format", fmt, root=session_project)
    assert result.returncode == 0, result.stderr
    if fmt == "json":
        (stack,) = json.loads(result.stdout)["stacks"]
        assert stack["status"] == "changed"
        assert [(c["field"], c["old"], c["new"]) for c in stack["posture"]["transfersChanged"]] == [
            ("validUntil", "2026-11-01T00:00:00+00:00", "2027-02-28T00:00:00+00:00"),
            ("state", "expired", "active")]
        assert [t["state"] for t in stack["transfers"]] == ["active"]
        # the path the renewal approves again: no longer without approval, now under the approval
        assert [f["approval"] for f in stack["posture"]["crossBorderFlowsAdded"]] == ["CAC-SA-2026-0042"]
        assert [f["approval"] for f in stack["posture"]["crossBorderFlowsRemoved"]] == [""]
    else:
        assert "1 transfers changed" in result.stdout
        assert "| changed | weights-to-eu | state: expired → active |" in result.stdout
        assert "expired" not in _mermaid(result.stdout).lower()


def test_an_added_pending_transfer_is_added_once_with_its_state(rendered: Path, session_project: Path,
                                                                tmp_path: Path) -> None:
    """A transfer only HEAD declares, valid only after --at: added (with state pending), drawn pending."""
    base, head = tmp_path / "base", tmp_path / "head"
    shutil.copytree(rendered, base)
    shutil.copytree(rendered, head)

    def drop_transfers(doc: dict[str, Any]) -> None:
        doc["config"]["sovereign-clusters:transfers"] = "[]"

    _edit(base / FIXTURE_STACK / "preview.json", drop_transfers)
    _edit(head / FIXTURE_STACK / "preview.json", _set_window(valid_from="2026-12-01T00:00:00Z"))
    result = run_cli("diff", base, head, "--no-policy", "--at", AT, "--format", "json", root=session_project)
    doc = json.loads(result.stdout)
    (stack,) = doc["stacks"]
    assert [(t["id"], t["state"], t["daysLeft"]) for t in stack["posture"]["transfersAdded"]] == [
        ("weights-to-eu", "pending", None)]
    assert stack["posture"]["transfersChanged"] == []
    assert [e["state"] for e in doc["flowEdges"] if e["transfer"]] == ["pending"]


def test_diff_against_a_git_base(project: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)

    git("init", "-q")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "add", ".")
    git("-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-q", "-m", "base")
    stack_file = project / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml"
    stack_file.write_text(stack_file.read_text().replace("region: cn-north-1", "region: cn-northwest-1"))
    result = run_cli("diff", "--base", "HEAD", "--format", "json", "--no-policy", "--at", AT, root=project,
                     cwd=project)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["base"] == "HEAD" and doc["head"] == "working tree"
    moved = doc["stacks"][0]["posture"]["storageAndBackupsMoved"]
    assert [(m["field"], m["old"], m["new"]) for m in moved] == [("config region", "cn-north-1", "cn-northwest-1")]
    listing = subprocess.run(["git", "-C", str(project), "worktree", "list"], capture_output=True, text=True)
    assert len(listing.stdout.strip().splitlines()) == 1  # the temporary worktree is gone


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["only-one"], "two render directories, or --base GIT_REF"),
        (["--base", "no-such-ref-xyz"], "a git revision of this repository"),
        (["--expiring-days", "-1", "a", "b"], "a number of days >= 0"),
    ],
)
def test_diff_bad_input(args: list[str], expected: str, session_project: Path) -> None:
    result = run_cli("diff", *args, root=session_project, cwd=session_project)
    assert result.returncode == 2
    assert expected in result.stderr


def test_missing_render_dir_is_bad_input(tmp_path: Path, rendered: Path, session_project: Path) -> None:
    result = run_cli("diff", tmp_path / "nope", rendered, "--no-policy", root=session_project)
    assert result.returncode == 2
    assert str(tmp_path / "nope") in result.stderr


def test_notes_of_either_side_reach_every_diff_format() -> None:
    """What the connectivity proof says about its input (e.g. duplicate objects: the last one counts) is shown."""
    from datetime import UTC, datetime

    from sovereign.diff.compare import DiffResult, StackDiff
    from sovereign.diff.posture import PostureDiff
    from sovereign.output.diff_formats import to_json, to_markdown

    note = "HEAD: Deployment shop/web is defined twice (a.yaml:1, b.yaml:4): the last one counts"
    result = DiffResult("base", "head", datetime(2026, 12, 1, tzinfo=UTC), 30, False,
                        stacks=[StackDiff("cn-prod", "unchanged", PostureDiff("cn-prod", "cn"), [], [note])])
    assert f"> {note}" in to_markdown(result)
    assert json.loads(to_json(result))["stacks"][0]["notes"] == [note]
