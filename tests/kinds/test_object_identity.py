"""Duplicate objects: one decision (sovereign/kinds/object_identity.py) shared by check, reach and diff; the last
definition counts, as ``kubectl apply`` of the whole input leaves it, and every earlier one is reported."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sovereign.kinds.object_identity import DEFAULT_NAMESPACE, ObjectKey, last_applied, object_key
from sovereign.kinds.registry import default_registry

REPO = Path(__file__).resolve().parents[2]


def obj(kind: str, name: str, namespace: str | None = None, api: str = "v1", **extra: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    return {"apiVersion": api, "kind": kind, "metadata": meta, **extra}


def test_identity_is_the_api_servers() -> None:
    reg = default_registry()
    assert object_key(obj("ConfigMap", "c"), reg) == ObjectKey("", "ConfigMap", DEFAULT_NAMESPACE, "c")
    assert object_key(obj("Deployment", "w", "a", "apps/v1"), reg) == object_key(
        obj("Deployment", "w", "a", "apps/v1beta1"), reg)  # the version does not matter
    assert object_key(obj("Namespace", "a", "ignored"), reg) == ObjectKey("", "Namespace", "", "a")
    assert object_key(obj("ClusterRole", "r", "x", "rbac.authorization.k8s.io/v1"), reg).namespace == ""  # type: ignore[union-attr]
    assert object_key(obj("Role", "r", None, "rbac.authorization.k8s.io/v1"), reg).namespace == "default"  # type: ignore[union-attr]
    assert object_key({"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "p-"}}, reg) is None


def test_an_input_crd_gives_the_scope_of_a_kind_the_registry_does_not_know() -> None:
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
           "metadata": {"name": "widgets.example.com"},
           "spec": {"group": "example.com", "scope": "Cluster", "names": {"kind": "Widget"}}}
    a, b = obj("Widget", "w", "x", "example.com/v1"), obj("Widget", "w", "y", "example.com/v1")
    assert last_applied([a, b], ["a", "b"]).kept == (0, 1)  # unknown: namespaced
    assert last_applied([crd, a, b], ["crd", "a", "b"]).kept == (0, 2)  # the CRD says cluster-scoped


def test_the_last_definition_counts_and_every_earlier_one_is_reported() -> None:
    objects = [obj("ConfigMap", "c", "default"), obj("Secret", "c"), obj("ConfigMap", "c"),
               obj("ConfigMap", "c", "other"), obj("ConfigMap", "c", "default")]
    applied = last_applied(objects, [f"m.yaml:{i + 1}" for i in range(5)])
    assert applied.kept == (1, 3, 4)
    assert [(d.superseded_at, d.last_at) for d in applied.duplicates] == [("m.yaml:1", "m.yaml:5"),
                                                                          ("m.yaml:3", "m.yaml:5")]
    assert applied.duplicates[0].message().startswith(
        "ConfigMap default/c is defined more than once: m.yaml:1 and m.yaml:5. kubectl apply of the whole input "
        "ends with the last definition, so m.yaml:5 is the one judged")


@given(st.lists(st.tuples(st.sampled_from(["ConfigMap", "Namespace", "Service"]), st.sampled_from(["a", "b"]),
                          st.sampled_from([None, "default", "x"])), max_size=12))
def test_nothing_is_dropped_silently(specs: list[tuple[str, str, str | None]]) -> None:
    objects = [obj(kind, name, ns) for kind, name, ns in specs]
    applied = last_applied(objects, [str(i) for i in range(len(objects))])
    superseded = {d.superseded for d in applied.duplicates}
    assert sorted([*applied.kept, *superseded]) == list(range(len(objects)))  # kept or reported, never both
    reg = default_registry()
    kept_keys = [object_key(objects[i], reg) for i in applied.kept]
    assert len(set(kept_keys)) == len(kept_keys)  # one definition of each object counts
    for d in applied.duplicates:
        assert d.last > d.superseded and d.last in applied.kept


# ------------------------------------------------------------------------------------ the commands agree

NAMESPACE = ("apiVersion: v1\nkind: Namespace\n"
             "metadata: {name: shop, labels: {sovereign-clusters.dev/jurisdiction: eu}}\n")
POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress, namespace: shop}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: EGRESS
"""


def _write(tmp_path: Path) -> Path:
    d = tmp_path / "m"
    d.mkdir()
    (d / "a.yaml").write_text(NAMESPACE + "---\n" + POLICY.replace("EGRESS", "[{to: [{ipBlock: {cidr: 0.0.0.0/0}}]}]"))
    (d / "b.yaml").write_text(POLICY.replace("EGRESS", "[]") + "---\napiVersion: apps/v1\nkind: Deployment\n"
                              "metadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n"
                              "  template:\n    metadata: {labels: {app: web}}\n"
                              "    spec: {containers: [{name: a, image: registry.example.eu/web:1}]}\n")
    return d


def _sovereign(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "sovereign", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, timeout=600, check=False)


def test_check_reports_each_duplicate_in_every_format(tmp_path: Path) -> None:
    d = _write(tmp_path)
    for fmt in ("text", "json", "sarif", "junit", "markdown"):
        result = _sovereign("check", "--manifests", d, "--format", fmt)
        assert result.returncode in (1, 2), result.stderr
        assert "invalid-input" in result.stdout, fmt
        assert f"{d}/a.yaml:5" in result.stdout and f"{d}/b.yaml:1" in result.stdout, (fmt, result.stdout[-3000:])
    report = json.loads(_sovereign("check", "--manifests", d, "--format", "json").stdout)
    found = [v for v in report["violations"] if v["policy"] == "invalid-input"]
    assert len(found) == 1 and found[0]["resource"]["name"] == "egress"
    assert found[0]["source"]["line"] == 1 and found[0]["source"]["file"].endswith("b.yaml")
    # the last policy (deny all egress) is the one judged: no open-world egress finding
    assert not [v for v in report["violations"] if v["policy"] == "egress-not-open-world"]


def test_reach_uses_the_last_and_says_so(tmp_path: Path) -> None:
    d = _write(tmp_path)
    text = _sovereign("reach", "--manifests", d, "--from", "shop/web", "--to", "8.8.8.8:443")
    assert text.returncode == 1, text.stderr  # the last policy denies all egress
    assert "note: NetworkPolicy.networking.k8s.io shop/egress is defined more than once" in text.stdout
    data = json.loads(_sovereign("reach", "--manifests", d, "--from", "shop/web", "--to", "8.8.8.8:443",
                                 "--format", "json").stdout)
    notes = data["notes"] if isinstance(data, dict) else data[0]["notes"]
    assert any("defined more than once" in n and "b.yaml, document at line 1" in n for n in notes)
