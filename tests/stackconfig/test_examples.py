"""The three example stacks load, and carry exactly the values docs/example-estate.md agreed."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stackconfig_support import EXAMPLE_STACKS, catalog, example_values, parse

from sovereign.core import paths
from sovereign.stackconfig.loader import (
    DEFAULT_RENDER_DIR,
    config_keys,
    list_stacks,
    load_stack,
    load_stack_file,
    stack_schema,
)
from sovereign.stackconfig.model import PolicyApi, Protocol, WorkloadKind


def test_list_stacks_names_the_examples_sorted() -> None:
    names = list_stacks()
    assert names == sorted(names)
    assert set(EXAMPLE_STACKS) <= set(names)
    assert all(paths.stack_file(name).is_file() for name in names)


def test_config_keys_are_the_schema_keys_without_prefix() -> None:
    assert config_keys() == (
        "backups",
        "cluster",
        "destinations",
        "jurisdiction",
        "kubeconfig",
        "operations",
        "renderDir",
        "sources",
        "storage",
        "tenants",
        "transfers",
        "workloadDefaults",
        "workloads",
    )
    assert {f"sovereign-clusters:{k}" for k in config_keys()} == set(stack_schema()["properties"])


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_example_loads_from_file_and_from_values_identically(stack: str) -> None:
    from_file = load_stack(stack, catalog=catalog())
    assert from_file.stack == stack
    assert from_file.source_file == str(paths.stack_file(stack))
    from_values = parse(example_values(stack), stack=stack)
    # Same model apart from where it came from: the program path and the offline path agree.
    assert from_values.cluster == from_file.cluster
    assert from_values.workloads == from_file.workloads
    assert from_values.transfers == from_file.transfers
    assert from_values.tenants == from_file.tenants
    assert from_values.storage == from_file.storage
    assert from_values.backups == from_file.backups


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_examples_render_to_a_directory_without_kubeconfig(stack: str) -> None:
    config = load_stack(stack, catalog=catalog())
    assert config.kubeconfig_configured is False
    assert config.render_dir == DEFAULT_RENDER_DIR.format(stack=stack)


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_loading_is_deterministic(stack: str) -> None:
    assert load_stack(stack, catalog=catalog()) == load_stack(stack, catalog=catalog())


def test_cn_prod_matches_the_agreed_estate() -> None:
    cn = load_stack("cn-prod", catalog=catalog())
    assert cn.jurisdiction == "cn"
    assert cn.cluster.provider == "aws-cn"
    assert cn.cluster.regions == ("cn-north-1", "cn-northwest-1")
    assert cn.cluster.zones == (
        "cn-north-1a",
        "cn-north-1b",
        "cn-north-1d",
        "cn-northwest-1a",
        "cn-northwest-1b",
        "cn-northwest-1c",
    )
    assert cn.cluster.pod_cidrs == (
        ipaddress.ip_network("100.64.0.0/16"),
        ipaddress.ip_network("fd00:100::/56"),
    )
    assert cn.cluster.service_cidrs == (
        ipaddress.ip_network("100.65.0.0/16"),
        ipaddress.ip_network("fd00:101::/108"),
    )
    assert cn.cluster.kubernetes_version == "1.34"
    cni = cn.cluster.cni
    assert (cni.name, cni.enforces) == (
        "calico",
        frozenset({PolicyApi.NETWORK_POLICY, PolicyApi.ADMIN_NETWORK_POLICY}),
    )
    assert (cni.ipblock_matches_pod_ips, cni.end_port, cni.sctp, cni.host_network_selected) == (
        True,
        True,
        True,
        False,
    )
    assert {t.namespace: t.data_classes for t in cn.tenants} == {
        "fleet-ingest": ("raw-camera-video", "vehicle-trajectory"),
        "labelling": ("raw-camera-video", "labelled-frames"),
        "training": ("labelled-frames", "model-weights"),
        "model-registry": ("model-weights",),
    }
    kinds = {w.ref: w.kind for w in cn.workloads}
    assert kinds == {
        "fleet-ingest/ingest-gateway": WorkloadKind.DEPLOYMENT,
        "fleet-ingest/frame-extractor": WorkloadKind.CRON_JOB,
        "labelling/label-studio": WorkloadKind.DEPLOYMENT,
        "training/trainer": WorkloadKind.JOB,
        "model-registry/registry": WorkloadKind.STATEFUL_SET,
    }
    gateway = cn.workload("fleet-ingest/ingest-gateway")
    assert gateway is not None
    assert [(p.name, p.port, p.protocol) for p in gateway.ports] == [("https", 8443, Protocol.TCP)]
    assert [str(c) for e in gateway.egress for c in e.cidrs] == ["10.10.20.0/24"]
    assert [d for e in gateway.egress for d in e.domains] == ["s3.cn-north-1.amazonaws.com.cn"]
    trainer = cn.workload("training/trainer")
    assert trainer is not None and trainer.accelerator is not None
    assert (trainer.accelerator.product, trainer.accelerator.count) == ("NVIDIA-H20", 8)
    assert [(e.workload, e.ports[0].port) for e in trainer.egress if e.workload] == [("model-registry/registry", 8080)]
    registry = cn.workload("model-registry/registry")
    assert registry is not None
    assert [(p.name, p.port) for p in registry.ports] == [("http", 8080)]
    assert [v.tier for v in registry.volumes] == ["regulated-ssd"]
    assert all(w.image.startswith("registry.automaker.cn/") for w in cn.workloads)
    assert [s.name for s in cn.storage] == ["regulated-ssd", "scratch"]
    assert cn.storage_tier("regulated-ssd").reclaim_policy == "Retain"  # type: ignore[union-attr]
    assert [(b.name, b.bucket, b.region, b.default) for b in cn.backups] == [
        ("primary", "automaker-cn-prod-backups", "cn-north-1", True)
    ]
    (transfer,) = cn.transfers
    assert transfer.id == "weights-to-eu"
    assert (transfer.approval_reference, transfer.regulator) == ("CAC-SA-2026-0042", "CAC")
    assert transfer.data_classes == ("model-weights",)
    assert transfer.source_workloads == ("model-registry/registry",)
    assert transfer.destination.jurisdiction == "eu"
    assert transfer.destination.cidrs == (ipaddress.ip_network("10.20.5.0/24"),)
    assert [(p.port, p.protocol) for p in transfer.destination.ports] == [(443, Protocol.TCP)]
    assert transfer.valid_from == datetime(2026, 3, 1, tzinfo=UTC)
    assert transfer.valid_until == datetime(2027, 2, 28, tzinfo=UTC)


def test_eu_prod_matches_the_agreed_estate() -> None:
    eu = load_stack("eu-prod", catalog=catalog())
    assert (eu.jurisdiction, eu.cluster.provider, eu.cluster.regions) == (
        "eu",
        "aws",
        ("eu-central-1", "eu-west-1"),
    )
    cni = eu.cluster.cni
    assert (cni.name, cni.enforces, cni.ipblock_matches_pod_ips) == (
        "cilium",
        frozenset({PolicyApi.NETWORK_POLICY, PolicyApi.CILIUM}),
        False,
    )
    products = {w.accelerator.product for w in eu.workloads if w.accelerator}
    assert products == {"NVIDIA-H100-80GB-HBM3"}
    assert eu.transfers == ()
    # The cn transfer's destination is an eu network: what eu-prod receives lies in eu.
    eu_jur = catalog().jurisdiction("eu")
    assert eu_jur is not None
    assert eu_jur.owns_address(ipaddress.ip_network("10.20.5.0/24"))


def test_us_prod_matches_the_agreed_estate() -> None:
    us = load_stack("us-prod", catalog=catalog())
    assert (us.jurisdiction, us.cluster.provider, us.cluster.regions) == (
        "us",
        "gcp",
        ("us-central1", "us-east4"),
    )
    cni = us.cluster.cni
    assert (cni.name, cni.enforces) == (
        "calico",
        frozenset({PolicyApi.NETWORK_POLICY, PolicyApi.CLUSTER_NETWORK_POLICY}),
    )
    assert {w.accelerator.product for w in us.workloads if w.accelerator} == {"NVIDIA-H200"}
    assert us.cluster.dns_namespace == "kube-system"
    assert us.cluster.dns_pod_labels == (("k8s-app", "kube-dns"),)
    assert us.transfers == ()


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_every_example_value_is_defined_by_the_catalog(stack: str) -> None:
    """Beyond the loader: regions, zones, accelerators and registries all come from the catalog."""
    config = load_stack(stack, catalog=catalog())
    jur = catalog().jurisdiction(config.jurisdiction)
    assert jur is not None
    assert set(config.cluster.regions) <= set(jur.regions_for(config.cluster.provider))
    assert set(config.cluster.zones) <= set(catalog().zones_for(jur.id, config.cluster.provider))
    for workload in config.workloads:
        if workload.accelerator:
            assert jur.accelerators.is_allowed(workload.accelerator.product)
        assert jur.registry_allowed(workload.image.split("/", 1)[0])


def test_defaults_are_applied() -> None:
    cn = load_stack("cn-prod", catalog=catalog())
    extractor = cn.workload("fleet-ingest/frame-extractor")
    assert extractor is not None
    assert extractor.replicas == 1
    assert extractor.automount_service_account_token is False
    assert extractor.schedule == "*/15 * * * *"
    # limits default to the requests
    assert (extractor.resources.cpu_limit, extractor.resources.memory_limit) == ("4", "8Gi")
    assert extractor.ports == () and extractor.volumes == () and extractor.ingress_from == ()
    assert all(p.protocol is Protocol.TCP for e in extractor.egress for p in e.ports)
    scratch = cn.storage_tier("scratch")
    assert scratch is not None and scratch.reclaim_policy is None  # derived later by the program
    assert cn.tenant("labelling").quota.gpu == 0  # type: ignore[union-attr]
    assert cn.cluster.dns_namespace == "kube-system"
    eu = load_stack("eu-prod", catalog=catalog())
    # no prefix given: the stack name; only the first location is marked default
    assert [(b.prefix, b.default) for b in eu.backups] == [("eu-prod", True), ("eu-prod", False)]


def test_first_backup_becomes_default_when_none_is_marked() -> None:
    values = example_values("eu-prod")
    for backup in values["backups"]:
        backup.pop("default", None)
    config = parse(values, stack="eu-prod")
    assert [b.default for b in config.backups] == [True, False]


def test_load_stack_file_takes_the_stack_name_from_the_file_name(tmp_path: Path) -> None:
    target = tmp_path / "Pulumi.cn-staging.yaml"
    target.write_text(paths.stack_file("cn-prod").read_text(encoding="utf-8"), encoding="utf-8")
    config = load_stack_file(target, catalog=catalog())
    assert config.stack == "cn-staging"
    assert config.source_file == str(target)
    assert config.render_dir == "../out/rendered/cn-staging"
