"""Pure unit tests of the pack's helpers: image registries, hosts, CIDR arithmetic, object views, plain values."""

from __future__ import annotations

import ipaddress

import pytest

from policies.framework.addresses import host_of, outside, place_host, subtract
from policies.framework.k8s import K8sObject, split_type_token
from policies.framework.values import UnknownValueError, plain, readable, text
from policies.rules.image_registry.rule import registry_of
from sovereign.catalog import default_catalog

net = ipaddress.ip_network


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("nginx", "docker.io"),
        ("nginx:1.27", "docker.io"),
        ("library/busybox", "docker.io"),
        ("org/app@sha256:abc", "docker.io"),
        ("docker.io/library/nginx", "docker.io"),
        ("registry.automaker.cn/fleet/ingest:1.0", "registry.automaker.cn"),
        ("registry.automaker.cn:5000/x/y:1", "registry.automaker.cn"),
        ("localhost/x", "localhost"),
        ("localhost:5000/x", "localhost"),
        ("123.dkr.ecr.cn-north-1.amazonaws.com.cn/a/b:1", "123.dkr.ecr.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_registry_of(image: str, registry: str) -> None:
    assert registry_of(image) == registry


@pytest.mark.parametrize(
    ("endpoint", "host"),
    [
        ("https://Minio.Automaker.EU:9000/x", "minio.automaker.eu"),
        ("10.0.0.1:3260", "10.0.0.1"),
        ("[fd00::1]:80", "fd00::1"),
        ("fd00::1", "fd00::1"),
        ("nfs.automaker.cn", "nfs.automaker.cn"),
        ("files.automaker.eu/weights", "files.automaker.eu"),
    ],
)
def test_host_of(endpoint: str, host: str) -> None:
    assert host_of(endpoint) == host


def test_subtract_and_outside() -> None:
    open_blocks = subtract(net("10.0.0.0/8"), [net("10.20.0.0/16"), net("fd00::/8")])
    assert net("10.20.0.0/16") not in open_blocks
    assert sum(b.num_addresses for b in open_blocks) == 2**24 - 2**16
    assert outside([net("10.10.1.0/24")], [net("10.10.0.0/16")]) == []
    assert outside([net("10.10.0.0/15")], [net("10.10.0.0/16")]) == [net("10.11.0.0/16")]
    assert subtract(net("10.0.0.0/8"), [net("0.0.0.0/0")]) == []


def test_place_host_uses_the_catalog() -> None:
    catalog = default_catalog()
    cn = catalog.jurisdictions["cn"]
    assert place_host("10.10.3.4", cn, catalog) == (True, "cn network")
    assert place_host("10.20.3.4", cn, catalog) == (False, "jurisdiction eu")
    assert place_host("8.8.8.8", cn, catalog)[1] == "unattributed address space (no catalog network)"
    assert place_host("100.64.0.9", cn, catalog, [net("100.64.0.0/16")]) == (True, "cluster network")
    assert place_host("s3.cn-north-1.amazonaws.com.cn", cn, catalog)[0]
    assert place_host("db.fleet.svc.cluster.local", cn, catalog) == (True, "cluster-internal name")
    assert place_host("x.automaker.hk", cn, catalog) == (False, "jurisdiction hk")


def test_type_tokens_and_pod_specs() -> None:
    assert split_type_token("kubernetes:core/v1:Pod") == ("", "v1", "Pod")
    assert split_type_token("kubernetes:networking.k8s.io/v1:NetworkPolicy") == (
        "networking.k8s.io", "v1", "NetworkPolicy")
    assert split_type_token("pulumi:providers:kubernetes") is None
    cron = K8sObject.from_resource(
        "kubernetes:batch/v1:CronJob",
        readable({"metadata": {"name": "c", "namespace": "n"},
                 "spec": {"jobTemplate": {"spec": {"template": {"spec": {"hostNetwork": True}}}}}}),
        "urn", "n/c")
    assert cron is not None and cron.is_workload and cron.ref == "CronJob n/c"
    [shape] = cron.pod_shapes()
    assert shape.spec == {"hostNetwork": True} and shape.get("hostNetwork") == (
        "spec.jobTemplate.spec.template.spec.hostNetwork", True)
    assert shape.path == "spec.jobTemplate.spec.template.spec"
    crd = K8sObject.from_resource("kubernetes:velero.io/v1:BackupStorageLocation", readable({}), "u", "x")
    assert crd is not None and not crd.is_workload and crd.pod_shapes() == ()


def test_plain_names_unknowns_skips_keys_and_restores_ints() -> None:
    props = readable({"spec": {"ports": [{"port": 8443.0}], "env": "04da6b54-80e4-46f7-96ec-b56ff0331ba9"}})
    assert plain(props, skip=frozenset({"env"})) == {"spec": {"ports": [{"port": 8443}]}}
    with pytest.raises(UnknownValueError) as err:
        plain(props)
    assert err.value.message == "string value at .spec.env can't be known during preview"
    assert text(443.0) == "443" and text(True) == "" and text(None) == ""


def test_building_the_pack_imports_no_loader() -> None:
    """Start-up stays fast: building the policies must not import the catalog/stack loaders or the engine."""
    import subprocess
    import sys

    code = ("import sys; from policies.pack import build_policies; build_policies(); "
            "print(sorted(m for m in sys.modules if m.startswith(('sovereign.catalog', 'sovereign.stackconfig', "
            "'sovereign.connectivity', 'jsonschema'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


_SMUGGLED = {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "docker.io/x:1"}]}}}}


@pytest.mark.parametrize("token", [
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:core/v1:Service",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:policy/v1:PodDisruptionBudget",
])
def test_a_pod_template_inside_a_podless_builtin_kind_is_not_a_workload(token: str) -> None:
    """The API server drops fields a built-in type does not define, so no pod can come of it: the registry of kinds
    lists no pod location for these kinds."""
    obj = K8sObject.from_resource(token, readable(_SMUGGLED), "u", "x")
    assert obj is not None and obj.entry is not None and obj.pod_shapes() == () and not obj.is_workload


@pytest.mark.parametrize("token", [
    "kubernetes:argoproj.io/v1alpha1:Rollout",
    "kubernetes:gateway.example.com/v1:Gateway",
    "kubernetes:core/v1:ReplicationController",
])
def test_the_same_template_in_a_custom_kind_or_builtin_workload_is_found(token: str) -> None:
    obj = K8sObject.from_resource(token, readable(_SMUGGLED), "u", "x")
    assert obj is not None
    assert [shape.path for shape in obj.pod_shapes()] == ["spec.template.spec"]


_LOOSE = {"spec": {"steps": [{"name": "s", "image": "docker.io/x:1"}], "hostNetwork": True}}


@pytest.mark.parametrize("token", [
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:storage.k8s.io/v1:StorageClass",
    "kubernetes:rbac.authorization.k8s.io/v1:Role",
])
def test_loose_containers_in_a_podless_builtin_kind_are_not_searched(token: str) -> None:
    """Like a smuggled template: the API server drops the fields, so nothing of it runs."""
    obj = K8sObject.from_resource(token, readable(_LOOSE), "u", "x")
    assert obj is not None and obj.loose() is None


def test_loose_containers_in_a_custom_kind_are_found() -> None:
    obj = K8sObject.from_resource("kubernetes:ci.example.com/v1:Task", readable(_LOOSE), "u", "x")
    assert obj is not None
    found = obj.loose()
    assert found is not None and [path for path, _ in found.containers] == ["spec.steps[0]"]
    assert found.host_flags == [("spec", "hostNetwork")]


def test_the_companions_are_named_once_for_the_pack_and_the_check() -> None:
    from policies.framework.companions import COMPANIONS as PACK_COMPANIONS
    from sovereign.analyzer.model import COMPANIONS as NAMED

    assert PACK_COMPANIONS == NAMED
