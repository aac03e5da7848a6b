"""``sovereign reach`` as a user tries it (issue 19, item 6): input it cannot read is exit 2, a Service name and port
resolve to backends, ``--from`` alone lists what a workload reaches, queries carry expectations, unknown names get
the closest ones, hostNetwork pods are explained. (The older reach tests are in tests/connectivity/test_cli_reach.py.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import run_cli

from sovereign.cli.main import main
from tests.connectivity.builders import deployment, netpol, ns

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {"selector": {"app": "web"}, "ports": [{"name": "api", "port": 5000, "targetPort": "http"}]},
}
APP = [
    ns("shop"),
    deployment("shop", "web", {"app": "web"}, ports=[{"containerPort": 8080, "name": "http"}]),
    deployment("shop", "front", {"app": "front"}),
    SERVICE,
    netpol("shop", "front-out", {
        "podSelector": {"matchLabels": {"app": "front"}},
        "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 8080}]},
            {"to": [{"ipBlock": {"cidr": "203.0.113.0/24"}}], "ports": [{"port": 443}]},
        ],
    }),
]


def _write(path: Path, objects: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return path


@pytest.fixture()
def app(tmp_path: Path) -> Path:
    return _write(tmp_path / "app.yaml", APP)


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["reach", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------ input it cannot read: exit 2


@pytest.mark.parametrize("text", ["", "---\n", "# only a comment\n---\n---\n"])
def test_input_without_objects_is_exit_2(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text(text)
    code, out, err = _run(capsys, "--manifests", empty, "--summary")
    assert (code, out) == (2, "")
    assert "empty.yaml" in err and "at least one Kubernetes object" in err


def test_directory_without_manifests_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("kind: Pod\n")
    code, out, err = _run(capsys, "--manifests", tmp_path, "--summary")
    assert (code, out) == (2, "") and ".yaml/.yml/.json" in err


def test_directory_that_cannot_be_listed_is_exit_2(app: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    _write(locked / "more.yaml", APP)
    real = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)  # root can read anything: simulate a directory it may not list
    code, out, err = _run(capsys, "--manifests", tmp_path, "--summary")
    assert (code, out) == (2, "")
    assert "locked" in err and "Permission denied" in err


def test_summary_over_no_workload_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    only_policies = _write(tmp_path / "p.yaml", [ns("shop"), APP[4]])
    code, out, err = _run(capsys, "--manifests", only_policies, "--summary")
    assert (code, out) == (2, "") and "at least one workload" in err


def test_object_without_kind_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = _write(tmp_path / "bad.yaml", [*APP, {"apiVersion": "v1", "metadata": {"name": "x"}}])
    code, _, err = _run(capsys, "--manifests", bad, "--from", "shop/front")
    assert code == 2 and "bad.yaml" in err and ".kind" in err


def test_object_nothing_reads_is_exit_2_naming_each(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    widgets = [{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": n, "namespace": "shop"},
                "spec": {"url": "http://198.51.100.7"}} for n in ("a", "b")]
    mixed = _write(tmp_path / "m.yaml", [*APP, *widgets])
    code, out, err = _run(capsys, "--manifests", mixed, "--from", "shop/front", "--to", "shop/web:5000")
    assert (code, out) == (2, "")
    lines = [line for line in err.strip().splitlines() if "warning:" not in line]
    assert len(lines) == 2 and all("m.yaml: document at line" in line for line in lines)
    assert "example.com/v1 Widget shop/a" in lines[0] and "example.com/v1 Widget shop/b" in lines[1]
    assert "not in the registry of kinds" in err


def test_unknown_kind_with_pods_is_read_and_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = {"apiVersion": "example.com/v1", "kind": "Runner", "metadata": {"name": "r", "namespace": "shop"},
              "spec": {"template": {"metadata": {"labels": {"app": "r"}},
                                    "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    path = _write(tmp_path / "m.yaml", [*APP, runner])
    code, out, _ = _run(capsys, "--manifests", path, "--from", "shop/r", "--to", "shop/web:5000")
    assert code == 0
    assert "not read: example.com/v1 Runner shop/r" in out and "reads its pods by shape" in out


def test_object_judged_elsewhere_is_listed_as_not_read(app: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    ingress = {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
               "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"defaultBackend": {"service": {"name": "web", "port": {"number": 5000}}}}}
    path = _write(tmp_path / "m.yaml", [*APP, ingress])
    code, out, _ = _run(capsys, "--manifests", path, "--from", "shop/front", "--to", "shop/web:5000",
                        "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["notRead"] == [{"object": "networking.k8s.io/v1 Ingress shop/web",
                                "source": f"{path}: document at line {_line_of(path, 'kind: Ingress')}",
                                "reason": "what it does to traffic is not modelled by the connectivity engine; "
                                          "sovereign check judges it (route-backends-in-jurisdiction)"}]


def _line_of(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith(text))
    return next(i for i in range(at, -1, -1) if i == 0 or lines[i - 1] == "---") + 1


@pytest.mark.parametrize(("argv", "needle"), [
    (["--from", "shop/frnt", "--to", "shop/web:5000"], "did you mean shop/front?"),
    (["--from", "shop/front", "--to", "shop/wbe:5000"], "did you mean shop/web?"),
    (["--from", "other/front", "--to", "shop/web"], "did you mean shop/front?"),
    (["--from", "shop/fron"], "did you mean shop/front?"),
    (["--from", "shop/front", "--to", "service:shop/front:80"], "expected NS/NAME of a workload, pod or Service"),
])
def test_unknown_names_are_exit_2_with_the_closest(app: Path, argv: list[str], needle: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, "--manifests", app, *argv)
    assert (code, out) == (2, "") and needle in err


def test_empty_query_list_is_exit_2(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    queries = tmp_path / "q.yaml"
    queries.write_text("[]\n")
    code, out, err = _run(capsys, "--manifests", app, "--queries", queries)
    assert (code, out) == (2, "") and "at least one query" in err


def test_service_selecting_no_pod_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "m.yaml", [a for a in APP if a.get("metadata", {}).get("name") != "web"
                                         or a["kind"] == "Service"])
    code, out, err = _run(capsys, "--manifests", path, "--from", "shop/front", "--to", "shop/web:5000")
    assert (code, out) == (2, "") and "no pod of the input matches" in err


# ------------------------------------------------------------------------------ Services


def test_service_port_resolves_to_target_port_and_backends(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", app, "--from", "shop/front", "--to", "shop/web:5000")
    assert code == 0
    assert out.splitlines()[:3] == [
        "shop/front -> shop/web 5000/TCP: allowed",
        "  via ClusterIP Service shop/web port 5000/TCP (api) -> targetPort http = 8080 -> pods of Deployment shop/web",
        "  NetworkPolicy shop/front-out egress[0]",
    ]


def test_workload_prefix_asks_the_pods_directly(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", app, "--from", "shop/front", "--to", "workload:shop/web:5000")
    assert code == 1 and out.startswith("shop/front -> workload:shop/web 5000/TCP: denied")  # pods listen on 8080


def test_port_the_service_does_not_expose_is_a_clear_denial(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", app, "--from", "shop/front", "--to", "shop/web:8080")
    assert code == 1
    assert "ClusterIP Service shop/web exposes no TCP port 8080 (it exposes 5000/TCP (api) -> http)" in out


# ------------------------------------------------------------------------------ --from alone


def test_from_alone_lists_every_destination_class(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", app, "--from", "shop/front", "--jurisdiction", "eu",
                        "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["source"] == "shop/front" and data["jurisdiction"] == "eu"
    assert [c["class"] for c in data["classes"]] == ["in-cluster workloads", "cluster address space",
                                                     "networks of its jurisdiction", "other jurisdictions",
                                                     "unattributed address space", "DNS names",
                                                     "nodes, entities and unresolved peers"]
    by_class = {c["class"]: c["destinations"] for c in data["classes"]}
    assert by_class["in-cluster workloads"] == [{
        "destination": "shop/web", "jurisdiction": "eu", "protocol": "TCP", "ports": "8080",
        "rules": ["NetworkPolicy shop/front-out egress[0]", "default: allow (no policy decides)"]}]
    outside = [d for c in ("other jurisdictions", "unattributed address space") for d in by_class[c]]
    assert [(d["destination"], d["ports"]) for d in outside] == [("203.0.113.0/24", "443")]


def test_from_alone_text_names_empty_classes(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "--manifests", app, "--from", "shop/front")
    assert code == 0
    assert out.splitlines()[0] == "shop/front (no jurisdiction) can reach:"
    assert "in-cluster workloads (1):" in out and "DNS names: none" in out


@pytest.mark.parametrize("flag", [["--port", "80"], ["--expect", "allowed"], ["--protocol", "UDP"]])
def test_query_flags_need_to(app: Path, flag: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "--manifests", app, "--from", "shop/front", *flag)
    assert code == 2 and "--to" in err


# ------------------------------------------------------------------------------ expectations


def _queries(tmp_path: Path, queries: list[dict[str, Any]]) -> Path:
    path = tmp_path / "q.yaml"
    path.write_text(yaml.safe_dump(queries))
    return path


def test_expectations_that_hold_exit_0(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = _queries(tmp_path, [{"from": "shop/front", "to": "shop/web:5000", "expect": "allowed"},
                            {"from": "shop/front", "to": "198.51.100.1:443", "expect": "denied"}])
    code, out, _ = _run(capsys, "--manifests", app, "--queries", q)
    assert code == 0
    assert out.count("PASS") == 2 and "expectations: 2 passed, 0 failed" in out


def test_a_failed_expectation_exits_1_and_says_which(app: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    q = _queries(tmp_path, [{"from": "shop/front", "to": "shop/web:5000", "expect": "allowed"},
                            {"from": "shop/front", "to": "203.0.113.9:443", "expect": "denied"}])
    code, out, _ = _run(capsys, "--manifests", app, "--queries", q, "--format", "json")
    data = json.loads(out)
    assert code == 1
    assert data["expectations"] == {"total": 2, "passed": 1, "failed": 1}
    assert [a["passed"] for a in data["answers"]] == [True, False]
    code, out, _ = _run(capsys, "--manifests", app, "--queries", q)
    assert "  FAIL query 1: shop/front -> 203.0.113.9: expected denied, answer allowed" in out


def test_query_without_expect_keeps_its_meaning(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = _queries(tmp_path, [{"from": "shop/front", "to": "shop/web:5000", "expect": "allowed"},
                            {"from": "shop/front", "to": "198.51.100.1:443"}])
    code, out, _ = _run(capsys, "--manifests", app, "--queries", q)
    assert code == 1  # denied, and no expectation says that is fine
    assert "expectations: 1 passed, 0 failed" in out


def test_bad_expect_is_exit_2(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    q = _queries(tmp_path, [{"from": "shop/front", "to": "shop/web:5000", "expect": "yes"}])
    code, _, err = _run(capsys, "--manifests", app, "--queries", q)
    assert code == 2 and "[0].expect: expected allowed or denied" in err


def test_single_query_expect_flag(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys, "--manifests", app, "--from", "shop/front", "--to", "198.51.100.1:443",
                "--expect", "denied")[0] == 0
    assert _run(capsys, "--manifests", app, "--from", "shop/front", "--to", "shop/web:5000",
                "--expect", "denied")[0] == 1


# ------------------------------------------------------------------------------ hostNetwork


@pytest.mark.parametrize(("flag", "says"), [
    ("--no-host-network-selected", "no policy's pod or namespace selector selects it"),
    ("--host-network-selected", "the CNI lets NetworkPolicy pod and namespace selectors select it"),
])
def test_host_network_pod_is_explained_in_the_chain(tmp_path: Path, flag: str, says: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    agent = deployment("shop", "agent", {"app": "agent"})
    agent["spec"]["template"]["spec"]["hostNetwork"] = True
    path = _write(tmp_path / "m.yaml", [*APP, agent])
    code, out, _ = _run(capsys, "--manifests", path, "--from", "shop/agent", "--to", "198.51.100.1:443", flag)
    assert code == 0
    assert f"  hostNetwork: source shop/agent runs with hostNetwork{':' if 'no-' in flag else ';'}" in out
    assert says in out


# ------------------------------------------------------------------------------ as a user runs it


def test_run_as_a_user_would(app: Path, tmp_path: Path) -> None:
    """``python -m sovereign reach`` in a fresh process, from the repository (README)."""
    result = run_cli("reach", "--manifests", app, "--from", "shop/front", "--to", "shop/web:5000",
                     "--expect", "allowed", cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert "targetPort http = 8080" in result.stdout and "PASS" in result.stdout


def _carve_out(tmp_path: Path, expires: str) -> Path:
    config = tmp_path / f"policy-{expires}.json"
    config.write_text(json.dumps({"unjudged-object": {"exemptions": [{
        "kind": "Widget", "apiGroup": "example.com", "namespace": "shop", "name": "a",
        "reason": "vendor widget, reviewed: sends nothing", "approver": "platform-security", "expires": expires}]}}))
    return config


@pytest.mark.parametrize(("expires", "accepted"), [("2027-03-31", True), ("2026-11-30", False)])
def test_a_carve_out_of_the_check_is_honoured_by_reach(expires: str, accepted: bool, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The organisation's carve-out (an exemption of unjudged-object, the check's format) accepts an object reach
    cannot read, while active; expired, it accepts nothing and the error says so. Objects it does not cover are
    still refused."""
    widget = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "a", "namespace": "shop"},
              "spec": {"url": "http://198.51.100.7"}}
    path = _write(tmp_path / "m.yaml", [*APP, widget])
    args = ("--manifests", path, "--from", "shop/front", "--to", "shop/web:5000", "--at", "2026-12-01",
            "--policy-pack-config", _carve_out(tmp_path, expires), "--format", "json")
    code, out, err = _run(capsys, *args)
    if accepted:
        assert code == 0, err
        (note,) = [n for n in json.loads(out)["notRead"] if "Widget" in str(n)]
        assert "carved out by exemption #0 of unjudged-object (approved by platform-security" in str(note)
    else:
        assert code == 2 and "Widget shop/a" in err and "expired on 2026-11-30" in err
    other = _write(tmp_path / "o.yaml", [*APP, {**widget, "metadata": {"name": "b", "namespace": "shop"}}])
    code, _, err = _run(capsys, "--manifests", other, "--from", "shop/front", "--to", "shop/web:5000", "--at",
                        "2026-12-01", "--policy-pack-config", _carve_out(tmp_path, "2027-03-31"))
    assert code == 2 and "Widget shop/b" in err
