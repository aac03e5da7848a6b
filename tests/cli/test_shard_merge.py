"""``check --shard I/N`` and ``sovereign merge``: shares are a deterministic, balanced partition of the stacks, and
the merged shares are, in every format, byte for byte the report of one runner checking every stack; a set of
shares that is not one complete run is bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_support import FIXTURE_STACK, FIXTURES, REPO, make_project, run_cli
from hypothesis import given
from hypothesis import strategies as st

from sovereign.check.shards import parse_shard, share
from sovereign.core.errors import InputError

STACKS = (FIXTURE_STACK, "fixture-cn-b", "fixture-cn-c")
AT = "2027-02-10T00:00:00Z"
"""fixture-cn's transfer warns of its expiry: the reports carry an advisory finding and a transfer."""
FORMATS = ("text", "json", "sarif", "junit", "markdown", "github")

names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), unique=True, min_size=1, max_size=30)


@given(names, st.integers(min_value=1, max_value=12), st.data())
def test_shares_partition_the_stacks_deterministically_and_balanced(stacks: list[str], count: int,
                                                                    data: st.DataObject) -> None:
    costs = {s: data.draw(st.integers(min_value=0, max_value=10_000)) for s in stacks}
    shares = [share(stacks, costs, i, count) for i in range(1, count + 1)]
    assert sorted(s for part in shares for s in part) == sorted(stacks), "disjoint, and together every stack"
    assert shares == [share(list(stacks), dict(costs), i, count) for i in range(1, count + 1)], "deterministic"
    for part in shares:
        assert part == [s for s in stacks if s in part], "in the run's order"
    loads = [sum(costs[s] for s in part) for part in shares]
    assert max(loads) - min(loads) <= max(costs.values()), "greedy largest-first: within one stack's cost"


def test_equal_stacks_go_round_robin_by_name() -> None:
    stacks = ["d", "b", "a", "c", "e"]
    costs = dict.fromkeys(stacks, 1)
    assert [share(stacks, costs, i, 2) for i in (1, 2)] == [["a", "c", "e"], ["d", "b"]]
    assert share(stacks, costs, 3, 7) == ["c"] and share(stacks, costs, 7, 7) == []


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2", "1/2/3", ""])
def test_a_bad_shard_is_bad_input(text: str) -> None:
    with pytest.raises(InputError, match="INDEX/COUNT"):
        parse_shard(text)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("shards") / "project")
    shutil.copytree(REPO / "policies", root / "policies", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "catalog"))
    text = (FIXTURES / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml").read_text(encoding="utf-8")
    for extra in STACKS[1:]:
        (root / "stacks" / f"Pulumi.{extra}.yaml").write_text(text + f"# {extra}\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def shares(project: Path) -> list[Path]:
    """The JSON reports of shards 1/2 and 2/2 (the second run of each reusing nothing: separate caches)."""
    out = []
    for index in (1, 2):
        path = project / f"shard-{index}.json"
        result = run_cli("check", "--all", "--shard", f"{index}/2", "--out", project / f"out-{index}",
                         "--cache-dir", project / f"cache-{index}", "--at", AT, "--format", "json", "--output", path,
                         root=project)
        assert result.returncode in (0, 1), result.stderr
        out.append(path)
    return out


def test_each_shard_checks_its_share_and_says_which(shares: list[Path]) -> None:
    docs = [json.loads(p.read_text()) for p in shares]
    checked = [[s["stack"] for s in d["summary"]["stacks"]] for d in docs]
    assert sorted(checked[0] + checked[1]) == sorted(STACKS) and all(checked)
    assert [d["shard"] for d in docs] == [{"index": i, "count": 2, "stacks": sorted(STACKS)} for i in (1, 2)]


@pytest.mark.parametrize("fmt", FORMATS)
def test_merged_shards_are_the_single_runners_report(project: Path, shares: list[Path], fmt: str) -> None:
    single = run_cli("check", "--all", "--out", project / "single", "--no-cache", "--at", AT, "--format", fmt,
                     root=project)
    merged = run_cli("merge", *reversed(shares), "--format", fmt, root=project)
    assert merged.returncode == single.returncode != 2, merged.stderr
    assert merged.stdout == single.stdout


def test_an_empty_share_merges_too(project: Path, tmp_path: Path) -> None:
    reports = []
    for index in (1, 2, 3, 4):
        path = tmp_path / f"{index}.json"
        result = run_cli("check", "--all", "--shard", f"{index}/4", "--out", tmp_path / "out", "--cache-dir",
                         tmp_path / "cache", "--at", AT, "--format", "json", "--output", path, root=project)
        assert result.returncode in (0, 1), result.stderr
        reports.append(path)
    assert json.loads(reports[3].read_text())["summary"]["stacks"] == []
    single = run_cli("check", "--all", "--out", tmp_path / "out", "--cache-dir", tmp_path / "cache", "--at", AT,
                     "--format", "sarif", root=project)
    merged = run_cli("merge", *reports, "--format", "sarif", root=project)
    assert merged.returncode == single.returncode != 2 and merged.stdout == single.stdout


def test_shares_that_are_not_one_run_are_bad_input(project: Path, shares: list[Path], tmp_path: Path) -> None:
    missing = run_cli("merge", shares[0], root=project)
    assert missing.returncode == 2 and "no report of shard(s) 2/2" in missing.stderr
    twice = run_cli("merge", shares[0], shares[0], shares[1], root=project)
    assert twice.returncode == 2 and "1/2 again" in twice.stderr
    other = json.loads(shares[1].read_text())
    other["summary"]["at"] = "2027-02-11T00:00:00Z"
    later = tmp_path / "later.json"
    later.write_text(json.dumps(other))
    when = run_cli("merge", shares[0], later, root=project)
    assert when.returncode == 2 and "evaluation time" in when.stderr
    plain = run_cli("check", FIXTURE_STACK, "--out", tmp_path / "out", "--no-cache", "--at", AT, "--format", "json",
                    root=project)
    whole = tmp_path / "whole.json"
    whole.write_text(plain.stdout)
    unsharded = run_cli("merge", whole, root=project)
    assert unsharded.returncode == 2 and "without a shard" in unsharded.stderr
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    assert run_cli("merge", garbage, root=project).returncode == 2
    written = tmp_path / "report.md"
    assert run_cli("merge", shares[0], "--output", written, root=project).returncode == 2
    assert not written.exists(), "nothing written"


def test_shard_needs_stacks(project: Path, tmp_path: Path) -> None:
    result = run_cli("check", "--manifests", tmp_path, "--shard", "1/2", root=project)
    assert result.returncode == 2 and "--shard" in result.stderr
