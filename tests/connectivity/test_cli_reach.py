"""``sovereign reach`` end to end: single and batch queries, JSON, summary, CNI flags, stacks, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from sovereign.catalog import default_catalog
from sovereign.cli.main import main
from sovereign.stackconfig.loader import list_stacks
from tests.connectivity.builders import deployment, netpol, ns, pod

OBJECTS = [
    ns("shop"),
    deployment("shop", "web", {"app": "web"}, replicas=4),
    pod("shop", "db-0", {"app": "db"}, ports=[{"containerPort": 5432, "name": "pg"}]),
    netpol(
        "shop",
        "db-in",
        {
            "podSelector": {"matchLabels": {"app": "db"}},
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": "pg"}]}],
        },
    ),
    netpol(
        "shop",
        "web-out",
        {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [
                {"to": [{"podSelector": {"matchLabels": {"app": "db"}}}]},
                {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443}]},
            ],
        },
    ),
]


@pytest.fixture()
def manifests(tmp_path: Path) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    (d / "a.yaml").write_text(yaml.safe_dump_all(OBJECTS[:3]))
    (d / "b.json").write_text(json.dumps({"kind": "List", "apiVersion": "v1", "items": OBJECTS[3:]}))
    return d


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["reach", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_single_query_allowed_with_rule_chain(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", str(manifests), "--from", "shop/web", "--to", "shop/db-0:5432/TCP")
    assert code == 0
    assert out.splitlines() == [
        "shop/web -> shop/db-0 5432/TCP: allowed",
        "  NetworkPolicy shop/web-out egress[0]",
        "  NetworkPolicy shop/db-in ingress[0]",
    ]


def test_single_query_denied_exits_1(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys, "--manifests", str(manifests), "--from", "shop/web", "--to", "198.51.100.1", "--port", "443"
    )
    assert code == 1
    assert "denied" in out and "NetworkPolicy shop/web-out isolates" in out


def test_batch_queries_json(manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.yaml"
    queries.write_text(
        yaml.safe_dump(
            [
                {"from": "shop/web", "to": "203.0.113.7", "port": 443},
                {"from": "shop/db-0", "to": "shop/web", "port": 80, "protocol": "udp"},
                {"from": "shop/web", "to": "shop/db-0", "port": 22},
            ]
        )
    )
    code, out, _ = _run(capsys, "--manifests", str(manifests), "--queries", str(queries), "--format", "json")
    answers: list[dict[str, Any]] = json.loads(out)["answers"]
    assert code == 1
    assert [a["allowed"] for a in answers] == [True, True, False]
    assert answers[0]["query"] == {"from": "shop/web", "to": "203.0.113.7", "port": 443, "protocol": "TCP",
                                   "expect": None}
    assert answers[0]["rules"] == ["NetworkPolicy shop/web-out egress[1]"]
    assert set(answers[2]) == {"query", "allowed", "mixed", "verdict", "passed", "rules", "reason", "resolved",
                               "backends"}
    assert [a["passed"] for a in answers] == [True, True, False]  # without expect: allowed is a pass


def test_cni_flags_change_the_answer(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(
        capsys,
        "--manifests",
        str(manifests),
        "--from",
        "shop/web",
        "--to",
        "198.51.100.1:443",
        "--cni-enforces",
        "Cilium",
    )
    assert code == 0 and "allowed" in out  # NetworkPolicy not enforced: default allow


def test_summary_lists_paths_per_jurisdiction(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    jur = sorted(default_catalog().jurisdictions)[0]
    code, out, _ = _run(
        capsys,
        "--manifests",
        str(manifests),
        "--summary",
        "--jurisdiction",
        jur,
        "--format",
        "json",
        "--cluster-cidr",
        "10.0.0.0/16",
    )
    data = json.loads(out)
    assert code == 1
    paths = data["jurisdictions"][jur]
    web = [p for p in paths if p["source"] == "shop/web"]
    assert web and all(p["ports"] == "443" for p in web if not p["hops"])
    assert {p["source"] for p in paths} >= {"shop/db-0", "shop/web"}


@pytest.mark.skipif(not list_stacks(), reason="no stacks in this checkout")
def test_stack_supplies_cni_and_jurisdiction(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = list_stacks()[0]
    code, out, _ = _run(capsys, "--manifests", str(manifests), "--stack", stack, "--summary")
    assert code in (0, 1)
    assert out.strip()


def test_bad_manifest_is_exit_2_naming_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(netpol("a", "p", {"podSelector": {}, "policyTypes": ["Up"]})))
    code, _, err = _run(capsys, "--manifests", str(bad), "--from", "a/x", "--to", "1.1.1.1")
    assert code == 2
    assert "bad.yaml" in err and "document at line 1.spec.policyTypes[0]" in err


def test_bad_queries_file_is_exit_2(manifests: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.json"
    queries.write_text(json.dumps([{"from": "shop/web", "to": "shop/db-0", "port": 70000}]))
    code, _, err = _run(capsys, "--manifests", str(manifests), "--queries", str(queries))
    assert code == 2 and "q.json" in err and "[0].port" in err


def test_unknown_workload_is_exit_2(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--manifests", str(manifests), "--from", "shop/nope", "--to", "shop/web")
    assert code == 2 and "shop/nope" in err


def test_bracketed_ipv6_target(manifests: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", str(manifests), "--from", "shop/db-0", "--to", "[2001:db8::1]:443/UDP")
    assert code == 0 and "2001:db8::1 443/UDP: allowed" in out
