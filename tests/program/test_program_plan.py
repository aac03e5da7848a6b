"""The plan's own checks (defence in depth behind the loader) and its decisions, without a Pulumi runtime.
Bad variants are built from the example stacks with dataclasses.replace, so they bypass the loader on purpose:
the program must refuse them even if a loader gap let them through."""

from __future__ import annotations

import dataclasses
import ipaddress
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from infra import egress, transfers
from infra.cluster import egress_args, transfers_args
from infra.plan import AdminTier, build_plan, choose_admin_tier
from infra.policy_syntax import CILIUM_NAMESPACE_LABEL, anp_ports, cilium_ports, cnp_protocols, np_ports
from sovereign.catalog import default_catalog
from sovereign.core import labels
from sovereign.core.errors import InputError
from sovereign.stackconfig.loader import load_stack
from sovereign.stackconfig.model import (
    EgressNeed,
    PolicyApi,
    PortSpec,
    Protocol,
    StackConfig,
    Transfer,
    TransferDestination,
)

AT = datetime(2026, 11, 25, tzinfo=UTC)


def _replace_workload(config: StackConfig, ref: str, **changes: object) -> StackConfig:
    workloads = tuple(dataclasses.replace(w, **changes) if w.ref == ref else w for w in config.workloads)  # type: ignore[arg-type]
    return dataclasses.replace(config, workloads=workloads)


def test_admin_tier_follows_what_the_cni_enforces() -> None:
    np_only = frozenset({PolicyApi.NETWORK_POLICY})
    assert choose_admin_tier(np_only) is AdminTier.NONE
    assert choose_admin_tier(np_only | {PolicyApi.ADMIN_NETWORK_POLICY}) is AdminTier.ADMIN_NETWORK_POLICY
    assert choose_admin_tier(np_only | {PolicyApi.CLUSTER_NETWORK_POLICY}) is AdminTier.CLUSTER_NETWORK_POLICY
    both = np_only | {PolicyApi.ADMIN_NETWORK_POLICY, PolicyApi.CLUSTER_NETWORK_POLICY}
    assert choose_admin_tier(both) is AdminTier.CLUSTER_NETWORK_POLICY
    assert choose_admin_tier(np_only | {PolicyApi.CILIUM}) is AdminTier.CILIUM


def test_plan_of_cn_prod() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    plan = build_plan(config, catalog, AT)
    jur = catalog.jurisdiction("cn")
    assert jur is not None
    assert set(plan.regions) == set(config.cluster.regions) & set(jur.regions_for(config.cluster.provider))
    trainer = plan.placements["training/trainer"]
    assert trainer.gpu_products and set(trainer.gpu_products) <= set(jur.accelerators.allowed_products())
    assert plan.admin_tier is AdminTier.ADMIN_NETWORK_POLICY
    assert [t.id for t in plan.active_transfers] == [t.id for t in config.transfers]


def test_gpu_product_the_catalog_denies_is_refused() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    trainer = config.workload("training/trainer")
    assert trainer is not None and trainer.accelerator is not None
    denied = dataclasses.replace(trainer.accelerator, product="NVIDIA-H100-80GB-HBM3")
    bad = _replace_workload(config, "training/trainer", accelerator=denied)
    with pytest.raises(InputError) as err:
        build_plan(bad, catalog, AT)
    assert err.value.key_path[-2:] == ("accelerator", "product")
    assert "NVIDIA-H100-80GB-HBM3" in err.value.message


def test_regulated_tier_must_retain() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    storage = tuple(
        dataclasses.replace(t, reclaim_policy="Delete") if t.name == "regulated-ssd" else t for t in config.storage
    )
    with pytest.raises(InputError) as err:
        build_plan(dataclasses.replace(config, storage=storage), catalog, AT)
    assert err.value.key_path[-1] == "reclaimPolicy"


def test_encryption_cannot_be_switched_off() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    storage = tuple(dataclasses.replace(t, parameters=(("encrypted", "false"),)) for t in config.storage)
    with pytest.raises(InputError) as err:
        build_plan(dataclasses.replace(config, storage=storage), catalog, AT)
    assert err.value.key_path[-2:] == ("parameters", "encrypted")


def test_unknown_csi_provisioner_is_refused() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    provider = catalog.provider(config.cluster.provider)
    assert provider is not None
    odd = dataclasses.replace(provider, csi_provisioner="example.csi.invalid")
    providers = MappingProxyType({**catalog.providers, provider.id: odd})
    with pytest.raises(InputError, match="example.csi.invalid"):
        build_plan(config, dataclasses.replace(catalog, providers=providers), AT)


def test_egress_cidr_outside_the_jurisdiction_is_refused() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    abroad = EgressNeed("abroad", (ipaddress.ip_network("10.20.0.0/24"),), (), None, ())
    gateway = config.workload("fleet-ingest/ingest-gateway")
    assert gateway is not None
    bad = _replace_workload(config, gateway.ref, egress=(*gateway.egress, abroad))
    with pytest.raises(InputError) as err:
        build_plan(bad, catalog, AT)
    assert "cidrs" in err.value.key_path


def test_transfer_of_never_class_is_refused() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    (transfer,) = config.transfers
    bad = dataclasses.replace(transfer, data_classes=("raw-camera-video",))
    with pytest.raises(InputError) as err:
        build_plan(dataclasses.replace(config, transfers=(bad,)), catalog, AT)
    assert err.value.key_path[-2:] == ("dataClasses", 0)


def test_transfer_window_is_half_open() -> None:
    catalog = default_catalog()
    config = load_stack("cn-prod", catalog=catalog)
    (t,) = config.transfers
    assert [x.id for x in build_plan(config, catalog, t.valid_from).active_transfers] == [t.id]
    last = build_plan(config, catalog, t.valid_until - timedelta(seconds=1))
    assert [x.id for x in last.active_transfers] == [t.id]
    after = build_plan(config, catalog, t.valid_until)
    assert after.active_transfers == () and after.skipped_transfers[0].reason == "expired"
    before = build_plan(config, catalog, t.valid_from - timedelta(seconds=1))
    assert before.skipped_transfers[0].reason == "not yet valid"


def _selects(selector: dict[str, Any], pod: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels AND matchExpressions; NotIn matches absent keys)."""
    if any(pod.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for e in selector.get("matchExpressions", []):
        value = pod.get(e["key"])
        if e["operator"] == "In" and value not in e["values"]:
            return False
        if e["operator"] == "NotIn" and value in e["values"]:
            return False
    return True


def test_cilium_deny_policies_partition_pods_and_resist_label_copies() -> None:
    """Every pod is under exactly one estate-egress deny; only the real transfer source (its namespace on
    Cilium's own label) gets the one that excepts the transfer CIDRs, even if a pod elsewhere copies its
    workload label."""
    catalog = default_catalog()
    config = load_stack("eu-prod", catalog=catalog)
    studio = config.workload("labelling/label-studio")
    assert studio is not None
    twin = dataclasses.replace(studio, namespace="fleet-ingest", egress=(), ingress_from=())
    transfer = Transfer(
        id="frames-to-us",
        approval_reference="TEST-1",
        regulator="TEST",
        data_classes=("labelled-frames",),
        source_workloads=(studio.ref,),
        destination=TransferDestination("us", (ipaddress.ip_network("10.30.7.0/24"),), (), ()),
        valid_from=AT - timedelta(days=1),
        valid_until=AT + timedelta(days=1),
    )
    plan = build_plan(
        dataclasses.replace(config, workloads=(*config.workloads, twin), transfers=(transfer,)), catalog, AT
    )
    assert plan.admin_tier is AdminTier.CILIUM
    denies = [
        m
        for m in [*egress.admin_manifests(egress_args(plan)), *transfers.admin_manifests(transfers_args(plan))]
        if m["kind"] == "CiliumClusterwideNetworkPolicy"
    ]
    pods = [{CILIUM_NAMESPACE_LABEL: w.namespace, labels.WORKLOAD: w.name} for w in plan.config.workloads]
    pods += [{CILIUM_NAMESPACE_LABEL: ns} for ns in ("kube-system", "labelling", "fleet-ingest")]
    for pod in pods:
        selecting = [d["metadata"]["name"] for d in denies if _selects(d["spec"]["endpointSelector"], pod)]
        assert len(selecting) == 1, (pod, selecting)
        is_source = pod.get(CILIUM_NAMESPACE_LABEL) == "labelling" and pod.get(labels.WORKLOAD) == "label-studio"
        assert selecting[0].startswith("sovereign-transfer-source-") is is_source, pod
    (source,) = [d for d in denies if d["metadata"]["name"].startswith("sovereign-transfer-source-")]
    excepted = {c for rule in source["spec"]["egressDeny"] for s in rule["toCIDRSet"] for c in s.get("except", [])}
    assert "10.30.7.0/24" in excepted


def test_port_spellings_per_api() -> None:
    https = PortSpec(443, None, Protocol.TCP)
    span = PortSpec(8000, 8100, Protocol.UDP)
    every_sctp = PortSpec(None, None, Protocol.SCTP)
    assert np_ports((https, span, every_sctp)) == [
        {"protocol": "TCP", "port": 443},
        {"protocol": "UDP", "port": 8000, "endPort": 8100},
        {"protocol": "SCTP"},
    ]
    assert anp_ports((https, span, every_sctp)) == [
        {"portNumber": {"protocol": "TCP", "port": 443}},
        {"portRange": {"protocol": "UDP", "start": 8000, "end": 8100}},
        {"portRange": {"protocol": "SCTP", "start": 1, "end": 65535}},
    ]
    assert cnp_protocols((https, span)) == [
        {"tcp": {"destinationPort": {"number": 443}}},
        {"udp": {"destinationPort": {"range": {"start": 8000, "end": 8100}}}},
    ]
    assert cilium_ports((https, span, every_sctp)) == [
        {"port": "443", "protocol": "TCP"},
        {"port": "8000", "protocol": "UDP", "endPort": 8100},
        {"port": "0", "protocol": "SCTP"},
    ]
