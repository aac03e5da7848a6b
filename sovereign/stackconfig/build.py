"""Build the typed ``StackConfig`` from schema-valid values, applying the defaults.

The schema cannot see everything: host bits in a CIDR, impossible dates, an endPort below its port. Those are
collected while building, all of them, so a user fixes a file in one round.

Defaults: replicas 1; command []; resources.limits = requests; automountServiceAccountToken false; port protocol
TCP; reads/writes/ports/ingressFrom/ingress/egress/volumes []; no load balancer (a ``loadBalancer`` without
``scheme``: internal); an ingress source's ports: every port of the workload (empty); tenant quota gpu 0;
storage parameters {}; storage
reclaimPolicy None (the program derives it: Retain when any data class is regulated); backup prefix = stack
name; the first backup location is the default when none is marked; cluster dns kube-system /
{k8s-app: kube-dns}; renderDir ``../out/rendered/<stack>``. An expired transfer is NOT a load error: the
program skips it and the checks report it. Shared ``destinations`` and ``workloadDefaults`` were already written
into each workload by ``expand``, so this module only ever sees inline values.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sovereign.catalog.model import IPNetwork
from sovereign.core.clock import parse_instant
from sovereign.core.errors import InputError, InputErrors
from sovereign.stackconfig.model import (
    Accelerator,
    BackupLocation,
    ClusterConfig,
    CniConfig,
    ContainerPort,
    EgressNeed,
    IngressSource,
    LoadBalancerScheme,
    Operations,
    PolicyApi,
    PortSpec,
    Protocol,
    Quota,
    Resources,
    StackConfig,
    StorageTier,
    SystemImage,
    Tenant,
    Transfer,
    TransferDestination,
    VolumeClaim,
    Workload,
    WorkloadKind,
)
from sovereign.stackconfig.namespace import KUBECONFIG_KEY, KeyPath, key_path

DEFAULT_RENDER_DIR = "../out/rendered/{stack}"
"""renderYamlToDirectory target when neither kubeconfig nor renderDir is set (relative to infra/)."""


def build_stack_config(values: Mapping[str, Any], *, stack: str, source_file: str) -> StackConfig:
    """The typed model of unprefixed, schema-valid ``values``; raises InputErrors for what the schema missed."""
    builder = _Builder(values, stack=stack, source_file=source_file)
    stack_config = builder.build()
    if builder.errors or stack_config is None:
        raise InputErrors(builder.errors)
    return stack_config


def _quantity(value: str | int) -> str:
    """Kubernetes quantities stay text: YAML reads ``4`` as a number, ``4Gi`` as a string."""
    return str(value)


def _protocol(item: Mapping[str, Any]) -> Protocol:
    return Protocol(item.get("protocol", Protocol.TCP.value))


def _sorted_pairs(mapping: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """Label and parameter maps as sorted pairs: hashable, and equal whatever the file's key order."""
    return tuple(sorted(mapping.items()))


class _Builder:
    """Collects every error the schema cannot see while it builds, instead of stopping at the first."""

    def __init__(self, values: Mapping[str, Any], *, stack: str, source_file: str) -> None:
        self.values = values
        self.stack = stack
        self.file = source_file
        self.errors: list[InputError] = []

    def build(self) -> StackConfig | None:
        v = self.values
        cluster = self._cluster(v["cluster"])
        tenants = tuple(self._tenant(t) for t in v.get("tenants", []))
        workloads = tuple(self._workload(w, i) for i, w in enumerate(v.get("workloads", [])))
        storage = tuple(self._storage_tier(s) for s in v.get("storage", []))
        backups = self._backups(v.get("backups", []))
        built = (self._transfer(t, i) for i, t in enumerate(v.get("transfers", [])))
        transfers = tuple(t for t in built if t is not None)
        render_dir = v.get("renderDir") or DEFAULT_RENDER_DIR.format(stack=self.stack)
        operations = self._operations(v["operations"]) if "operations" in v else None
        if self.errors:
            return None
        return StackConfig(
            stack=self.stack,
            source_file=self.file,
            jurisdiction=v["jurisdiction"],
            cluster=cluster,
            tenants=tenants,
            workloads=workloads,
            storage=storage,
            backups=backups,
            transfers=transfers,
            kubeconfig_configured=KUBECONFIG_KEY in v,
            render_dir=render_dir,
            operations=operations,
        )

    # -- values the schema cannot fully check

    def _network(self, text: str, path: KeyPath) -> IPNetwork | None:
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            self.errors.append(
                InputError(
                    self.file,
                    path,
                    "an IPv4 or IPv6 network with host bits zero (e.g. 10.10.20.0/24)",
                    found_text=f"{text!r} ({exc})",
                )
            )
            return None

    def _networks(self, texts: Iterable[str], path: KeyPath) -> tuple[IPNetwork, ...]:
        nets = (self._network(t, (*path, i)) for i, t in enumerate(texts))
        return tuple(n for n in nets if n is not None)

    def _instant(self, text: str, path: KeyPath) -> datetime | None:
        try:
            return parse_instant(text, source=self.file, key_path=path)
        except InputError as exc:
            self.errors.append(exc)
            return None

    def _ports(self, items: Sequence[Mapping[str, Any]], path: KeyPath) -> tuple[PortSpec, ...]:
        specs = []
        for i, item in enumerate(items):
            port, end = item.get("port"), item.get("endPort")
            if port is not None and end is not None and end < port:
                self.errors.append(
                    InputError(self.file, (*path, i, "endPort"), f"an endPort of at least port {port}", end)
                )
            specs.append(PortSpec(port=port, end_port=end, protocol=_protocol(item)))
        return tuple(specs)

    # -- sections

    def _cluster(self, c: Mapping[str, Any]) -> ClusterConfig:
        cni = c["cni"]
        dns = c.get("dns", {})
        extra: dict[str, Any] = {}  # absent keys keep the model's defaults (kube-system / k8s-app: kube-dns)
        if "namespace" in dns:
            extra["dns_namespace"] = dns["namespace"]
        if "podLabels" in dns:
            extra["dns_pod_labels"] = _sorted_pairs(dns["podLabels"])
        return ClusterConfig(
            name=c["name"],
            provider=c["provider"],
            regions=tuple(c["regions"]),
            zones=tuple(c["zones"]),
            pod_cidrs=self._networks(c["podCidrs"], key_path("cluster", "podCidrs")),
            service_cidrs=self._networks(c["serviceCidrs"], key_path("cluster", "serviceCidrs")),
            kubernetes_version=c["kubernetesVersion"],
            cni=CniConfig(
                name=cni["name"],
                enforces=frozenset(PolicyApi(a) for a in cni["enforces"]),
                ipblock_matches_pod_ips=cni["ipBlockMatchesPodIps"],
                end_port=cni["endPort"],
                sctp=cni["sctp"],
                host_network_selected=cni["hostNetworkSelected"],
            ),
            **extra,
        )

    @staticmethod
    def _tenant(t: Mapping[str, Any]) -> Tenant:
        q = t["quota"]
        return Tenant(
            namespace=t["namespace"],
            description=t["description"],
            data_classes=tuple(t["dataClasses"]),
            quota=Quota(
                cpu=_quantity(q["cpu"]),
                memory=_quantity(q["memory"]),
                gpu=int(q.get("gpu", 0)),
                pods=int(q["pods"]),
                storage=_quantity(q["storage"]),
            ),
        )

    def _workload(self, w: Mapping[str, Any], index: int) -> Workload:
        path = key_path("workloads", index)
        requests = w["resources"]["requests"]
        limits = w["resources"].get("limits", requests)
        accel = w.get("accelerator")
        egress = tuple(
            EgressNeed(
                name=e["name"],
                cidrs=self._networks(e.get("cidrs", []), (*path, "egress", j, "cidrs")),
                domains=tuple(e.get("domains", [])),
                workload=e.get("workload"),
                ports=self._ports(e["ports"], (*path, "egress", j, "ports")),
            )
            for j, e in enumerate(w.get("egress", []))
        )
        ingress = tuple(
            IngressSource(
                name=s["name"],
                networks=tuple(s.get("networks", [])),
                cidrs=self._networks(s.get("cidrs", []), (*path, "ingress", j, "cidrs")),
                ports=self._ports(s.get("ports", []), (*path, "ingress", j, "ports")),
                description=s.get("description", ""),
            )
            for j, s in enumerate(w.get("ingress", []))
        )
        balancer = w.get("loadBalancer")
        return Workload(
            name=w["name"],
            namespace=w["namespace"],
            kind=WorkloadKind(w["kind"]),
            image=w["image"],
            replicas=int(w.get("replicas", 1)),
            schedule=w.get("schedule"),
            command=tuple(w.get("command", [])),
            resources=Resources(
                cpu_request=_quantity(requests["cpu"]),
                memory_request=_quantity(requests["memory"]),
                cpu_limit=_quantity(limits["cpu"]),
                memory_limit=_quantity(limits["memory"]),
            ),
            accelerator=Accelerator(product=accel["product"], count=int(accel["count"])) if accel else None,
            reads=tuple(w.get("reads", [])),
            writes=tuple(w.get("writes", [])),
            ports=tuple(
                ContainerPort(name=p["name"], port=int(p["port"]), protocol=_protocol(p)) for p in w.get("ports", [])
            ),
            ingress_from=tuple(w.get("ingressFrom", [])),
            egress=egress,
            volumes=tuple(
                VolumeClaim(
                    name=vol["name"], tier=vol["tier"], size=_quantity(vol["size"]), mount_path=vol["mountPath"]
                )
                for vol in w.get("volumes", [])
            ),
            automount_service_account_token=bool(w.get("automountServiceAccountToken", False)),
            ingress=ingress,
            load_balancer=None if balancer is None else LoadBalancerScheme(balancer.get("scheme", "internal")),
        )

    @staticmethod
    def _operations(o: Mapping[str, Any]) -> Operations:
        return Operations(
            state_backend=o.get("stateBackend"),
            package_index=o["packageIndex"],
            plugin_download_url=o["pluginDownloadUrl"],
            system_images=tuple(SystemImage(component=i["component"], image=i["image"]) for i in o["systemImages"]),
        )

    @staticmethod
    def _storage_tier(s: Mapping[str, Any]) -> StorageTier:
        return StorageTier(
            name=s["name"],
            description=s["description"],
            data_classes=tuple(s["dataClasses"]),
            parameters=_sorted_pairs(s.get("parameters", {})),
            reclaim_policy=s.get("reclaimPolicy"),
        )

    def _backups(self, items: Sequence[Mapping[str, Any]]) -> tuple[BackupLocation, ...]:
        any_default = any(b.get("default", False) for b in items)
        return tuple(
            BackupLocation(
                name=b["name"],
                bucket=b["bucket"],
                region=b["region"],
                prefix=b.get("prefix", self.stack),
                data_classes=tuple(b["dataClasses"]),
                default=bool(b.get("default", False)) or (not any_default and i == 0),
            )
            for i, b in enumerate(items)
        )

    def _transfer(self, t: Mapping[str, Any], index: int) -> Transfer | None:
        path = key_path("transfers", index)
        dest = t["destination"]
        valid_from = self._instant(t["validFrom"], (*path, "validFrom"))
        valid_until = self._instant(t["validUntil"], (*path, "validUntil"))
        destination = TransferDestination(
            jurisdiction=dest["jurisdiction"],
            cidrs=self._networks(dest.get("cidrs", []), (*path, "destination", "cidrs")),
            domains=tuple(dest.get("domains", [])),
            ports=self._ports(dest["ports"], (*path, "destination", "ports")),
        )
        if valid_from is None or valid_until is None:
            return None
        if valid_from >= valid_until:
            self.errors.append(
                InputError(
                    self.file, (*path, "validUntil"), f"a time after validFrom ({t['validFrom']})", t["validUntil"]
                )
            )
        return Transfer(
            id=t["id"],
            approval_reference=t["approvalReference"],
            regulator=t["regulator"],
            data_classes=tuple(t["dataClasses"]),
            source_workloads=tuple(t["sourceWorkloads"]),
            destination=destination,
            valid_from=valid_from,
            valid_until=valid_until,
            scope=t["scope"],
            note=t["note"],
        )
