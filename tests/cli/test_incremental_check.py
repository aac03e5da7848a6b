"""``sovereign check`` reuses the render and verdict of every stack whose inputs did not change: for each input
kind, changing it re-judges exactly the stacks it concerns; the evaluation time counts only through transfer and
exemption states and the expiry warning's days; damaged or foreign entries are never trusted; a reused verdict's
report is the report a fresh check writes.

A stack that was rendered again has a new ``preview.json`` (the render is moved into place), one that was reused
keeps its file: the tests tell them apart by inode.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cli_support import FIXTURE_STACK, FIXTURES, REPO, make_project, run_cli

from sovereign.check.verdict_cache import EXPIRY_RULE

A, B = FIXTURE_STACK, "fixture-cn-late"
"""Two stacks: B is A with a transfer valid a year longer."""
BEFORE = "2026-11-25T00:00:00Z"
"""Both transfers active, neither within 30 days of its end."""
DAY_AFTER = "2026-11-26T09:30:00Z"
WARNED = "2027-02-10T00:00:00Z"
"""A's transfer ends 2027-02-28: its expiry warning shows (18 days left)."""
WARNED_NEXT_DAY = "2027-02-11T00:00:00Z"
EXPIRED = "2027-03-01T00:00:00Z"
"""A's transfer expired; B's still active."""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the real pack (copied: its code is an input too) and two stacks."""
    root = make_project(tmp_path_factory.mktemp("incremental") / "project")
    shutil.copytree(REPO / "policies", root / "policies", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "catalog"))
    text = (FIXTURES / "stacks" / f"Pulumi.{A}.yaml").read_text(encoding="utf-8")
    (root / "stacks" / f"Pulumi.{B}.yaml").write_text(
        text.replace('validUntil: "2027-02-28T00:00:00Z"', 'validUntil: "2028-02-28T00:00:00Z"'), encoding="utf-8")
    (root / "requirements.lock").write_text("pulumi==3.0.0\n", encoding="utf-8")
    return root


def _check(root: Path, *extra: str | Path, at: str | None = BEFORE, fmt: str = "json",
           out: str = "out") -> tuple[int, str, str]:
    args: list[str | Path] = ["check", "--all", "--out", root / out, "--cache-dir", root / "cache", "--format", fmt]
    if at is not None:
        args += ["--at", at]
    result = run_cli(*args, *extra, root=root)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.stdout, result.stderr


def _inodes(root: Path, out: str = "out") -> dict[str, int]:
    return {s: (root / out / s / "preview.json").stat().st_ino for s in (A, B)}


def _judged_again(root: Path, *extra: str | Path, at: str | None = BEFORE) -> set[str]:
    """The stacks a check rendered and judged anew (the others came from the cache)."""
    before = _inodes(root)
    _check(root, *extra, at=at)
    after = _inodes(root)
    return {s for s in (A, B) if before[s] != after[s]}


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_each_input_invalidates_exactly_the_stacks_it_concerns(fleet: Path, tmp_path: Path) -> None:
    _check(fleet)
    assert _judged_again(fleet) == set(), "nothing changed: every stack reused"
    _append(fleet / "stacks" / f"Pulumi.{B}.yaml", "# a reviewer's comment\n")
    assert _judged_again(fleet) == {B}, "a stack file: that stack only"
    _append(fleet / "policies" / "catalog" / "catalog.yaml", "# public layer touched\n")
    assert _judged_again(fleet) == {A, B}, "the public catalog layer"
    _append(fleet / "examples" / "automaker" / "organisation.yaml", "# organisation touched\n")
    assert _judged_again(fleet) == {A, B}, "the organisation file"
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"namespace-team-label": "disabled"}), encoding="utf-8")
    assert _judged_again(fleet, "--policy-pack-config", config) == {A, B}, "the policy pack config"
    assert _judged_again(fleet, "--policy-pack-config", config) == set()
    config.write_text(json.dumps({"namespace-team-label": "advisory"}), encoding="utf-8")
    assert _judged_again(fleet, "--policy-pack-config", config) == {A, B}, "the config's content, not its name"
    assert _judged_again(fleet, "--policy-pack-config", config, "--skip-rule", "namespace-team-label") == {A, B}, \
        "the rule selection"
    _append(fleet / "infra" / "__main__.py", "# program touched\n")
    assert _judged_again(fleet) == {A, B}, "the program's code"
    _append(fleet / "policies" / "pack.py", "# pack touched\n")
    assert _judged_again(fleet) == {A, B}, "the pack's code"
    _append(fleet / "requirements.lock", "pyyaml==6.0.2\n")
    assert _judged_again(fleet) == {A, B}, "the locked dependencies"
    assert _judged_again(fleet) == set()


def test_the_sovereign_package_and_every_run_input_is_in_the_key(tmp_path: Path) -> None:
    """The package cannot be edited under a running suite: its part of the key is tested on the digest."""
    from sovereign.check.rule_selection import RuleSelection
    from sovereign.check.verdict_cache import RunInputs

    code = tmp_path / "code"
    for name in ("infra", "policies", "sovereign", "catalog"):
        (code / name).mkdir(parents=True)
        (code / name / "a.py").write_text("x = 1\n")
    (code / "sovereign" / "__pycache__").mkdir()
    lock = tmp_path / "requirements.lock"
    lock.write_text("a==1\n")

    def inputs(**changes: object) -> RunInputs:
        base: dict[str, object] = dict(
            project_root=tmp_path, repository_root=tmp_path,
            code_dirs={n: code / n for n in ("infra", "policies", "sovereign")},
            files={"requirements.lock": lock}, catalog_dir=code / "catalog", policy_config={},
            policy_config_source="--policy-pack-config", selection=RuleSelection(), transport="in-process")
        base.update(changes)
        return RunInputs(**base)  # type: ignore[arg-type]

    first = inputs().digest()
    assert inputs().digest() == first
    (code / "sovereign" / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"bytecode")
    assert inputs().digest() == first, "bytecode is not code"
    (code / "sovereign" / "a.py").write_text("x = 2\n")
    assert inputs().digest() != first
    assert inputs(policy_config={"all": "advisory"}).digest() != inputs().digest()
    assert inputs(selection=RuleSelection(skip=("x",))).digest() != inputs().digest()
    assert inputs(repository_root=tmp_path.parent).digest() != inputs().digest(), "paths in findings"


def test_time_counts_only_through_states_and_warnings(fleet: Path) -> None:
    _check(fleet, at=BEFORE)
    assert _judged_again(fleet, at=DAY_AFTER) == set(), "another day, no state or warning changed"
    assert _judged_again(fleet, at=WARNED) == {A}, "A's expiry warning appears"
    assert _judged_again(fleet, at=WARNED_NEXT_DAY) == {A}, "its days left changed"
    assert _judged_again(fleet, at=EXPIRED) == {A}, "A's transfer expired between two runs"
    assert _judged_again(fleet, at="2027-03-02T00:00:00Z") == set(), "still expired, nothing else changed"
    code, _out, _err = _check(fleet, at=None)  # now: whatever the date, a run without --at works
    assert code in (0, 1)


def test_an_exemption_expiring_invalidates_every_stack(fleet: Path, tmp_path: Path) -> None:
    config = tmp_path / "exemptions.json"
    config.write_text(json.dumps({"namespace-team-label": {"exemptions": [
        {"kind": "Namespace", "reason": "labels come later", "approver": "a@example.com",
         "expires": "2026-12-31"}]}}), encoding="utf-8")
    _check(fleet, "--policy-pack-config", config, at="2026-12-01T00:00:00Z")
    assert _judged_again(fleet, "--policy-pack-config", config, at="2026-12-02T00:00:00Z") == set()
    assert _judged_again(fleet, "--policy-pack-config", config, at="2027-01-01T00:00:00Z") == {A, B}


def test_a_reused_verdict_reads_as_a_fresh_one(fleet: Path) -> None:
    for fmt in ("json", "sarif", "markdown", "junit", "text", "github"):
        _check(fleet, at=WARNED, fmt=fmt)  # kept (or reused)
        _code, warm, _ = _check(fleet, at=WARNED, fmt=fmt)
        result = run_cli("check", "--all", "--out", fleet / "cold", "--no-cache", "--at", WARNED, "--format", fmt,
                         root=fleet)
        assert warm == result.stdout, fmt
    _c, warm, _e = _check(fleet, at=None, fmt="json")
    stated = json.loads(warm)["summary"]["at"]
    assert stated.endswith("Z") and stated != WARNED, "the report states this run's evaluation time"


def test_a_render_is_restored_and_damaged_or_foreign_entries_are_not_trusted(fleet: Path) -> None:
    shutil.rmtree(fleet / "cache", ignore_errors=True)  # this run's entries only
    _check(fleet, at=BEFORE)
    cold = {p.relative_to(fleet / "out"): p.read_bytes() for p in (fleet / "out").rglob("*") if p.is_file()}
    shutil.rmtree(fleet / "out")
    _check(fleet, at=BEFORE)  # e.g. CI: the cache directory persisted, out/ did not
    restored = {p.relative_to(fleet / "out"): p.read_bytes() for p in (fleet / "out").rglob("*") if p.is_file()}
    assert restored == cold
    newest = _newest_entry(fleet, B)
    newest.write_bytes(newest.read_bytes()[:-40] + b"X" * 40)  # damaged: the digest no longer matches
    assert _judged_again(fleet, at=BEFORE) == {B}
    # another stack's entry under B's name: its header says so
    shutil.copy(_newest_entry(fleet, A), _newest_entry(fleet, B))
    assert _judged_again(fleet, at=BEFORE) == {B}


def _newest_entry(root: Path, stack: str) -> Path:
    own = re.compile(rf"verdict-{re.escape(stack)}-[0-9a-f]{{64}}\.entry")
    return max((p for p in (root / "cache").iterdir() if own.fullmatch(p.name)), key=lambda p: p.stat().st_mtime)


def test_no_cache_reads_and_writes_nothing(fleet: Path, tmp_path: Path) -> None:
    cache = tmp_path / "unused"
    result = run_cli("check", "--all", "--out", fleet / "out", "--no-cache", "--cache-dir", cache, "--at", BEFORE,
                     root=fleet)
    assert result.returncode in (0, 1), result.stderr
    assert not cache.exists()


def test_the_expiry_rule_named_in_the_cache_is_the_packs() -> None:
    from policies.rules.transfer_expiry_warning.rule import RULE

    assert RULE.id == EXPIRY_RULE
