"""Fleet generator for the benchmarks: N stacks x M namespaces x K workloads, as stack files and as the plain
Kubernetes manifests a team would write by hand instead.

Every catalog value (jurisdictions, providers, regions, zones, networks, domains, registries, data classes,
accelerators, CSI provisioners) is read from ``sovereign.catalog.default_catalog()``; nothing is copied here.
Stacks cycle over the catalog's jurisdictions in sorted order (cn, eu, hk, us). The output is deterministic
for a given shape and evaluation time.

Usage::

    python bench/fleet.py --stacks 4 --namespaces 5 --workloads 10 --out /tmp/fleet
    # -> /tmp/fleet/root/{Pulumi.yaml, infra@, policies@, examples@, stacks/{Pulumi.fleet-*.yaml, stack.schema.json@}}
    #    /tmp/fleet/manifests/<stack>/*.yaml

``root/`` is a project root for ``SOVEREIGN_ROOT`` (``sovereign render/check --all`` then sees only the
fleet).
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from sovereign.catalog import Catalog, DataClass, ExportMode, Jurisdiction, Provider, default_catalog
from sovereign.core import labels
from sovereign.core.clock import evaluation_time
from sovereign.core.pulumi_config_env import MAX_ENV_STRING_BYTES, env_string_bytes
from sovereign.stackconfig.expand import expand_shared

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONFIG_NS = "sovereign-clusters"
KUBERNETES_VERSION = "1.34"
STACK_PREFIX = "fleet"
PURPOSES = ("ingest", "labelling", "training", "registry", "analytics")
HTTP_PORT = 8080
HTTPS_PORT = 443
MAX_REGIONS = 2
MAX_ZONES = 6
MAX_TRANSFERS = 3
OBJECTS_API = "objects-api"
WORKLOAD_RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "1", "memory": "2Gi"},
    "limits": {"cpu": "2", "memory": "4Gi"},
}
"""Every fleet workload's resources, declared once under ``workloadDefaults``."""
CGNAT = ipaddress.ip_network("100.64.0.0/10")
"""Cluster-internal space for pod/service networks (checked against every catalog network)."""
ULA = ipaddress.ip_network("fd00::/8")

# The CNIs a fleet mixes; the connectivity proof takes these parameters explicitly (stack schema `cni`).
CNI_VARIANTS: tuple[dict[str, Any], ...] = (
    {
        "name": "calico",
        "enforces": ["NetworkPolicy", "AdminNetworkPolicy"],
        "ipBlockMatchesPodIps": True,
        "endPort": True,
        "sctp": True,
        "hostNetworkSelected": False,
    },
    {
        "name": "cilium",
        "enforces": ["NetworkPolicy", "Cilium"],
        "ipBlockMatchesPodIps": False,
        "endPort": True,
        "sctp": False,
        "hostNetworkSelected": False,
    },
)


@dataclass(frozen=True)
class FleetShape:
    stacks: int
    namespaces: int
    """Tenant namespaces per stack."""
    workloads: int
    """Workloads per namespace."""

    @property
    def workloads_per_stack(self) -> int:
        return self.namespaces * self.workloads


# ------------------------------------------------------------------------------------------- catalog picks


def _zoned_regions(catalog: Catalog, jur: Jurisdiction, provider: Provider) -> list[str]:
    return [r for r in jur.regions_for(provider.id) if (reg := provider.region(r)) and reg.zones]


def _providers_with_zones(catalog: Catalog, jur: Jurisdiction) -> list[Provider]:
    found = []
    for pid in sorted(jur.regions):
        prov = catalog.provider(pid)
        if prov is not None and _zoned_regions(catalog, jur, prov):
            found.append(prov)
    if not found:
        raise ValueError(f"catalog jurisdiction {jur.id} has no provider region with zones")
    return found


def _host_for(pattern: str, label: str) -> str:
    """A concrete host name matching a catalog domain/registry pattern (``*.x`` -> ``label.x``)."""
    return f"{label}.{pattern[2:]}" if pattern.startswith("*.") else pattern


def _registry(jur: Jurisdiction) -> str:
    exact = [r for r in jur.registries if not r.startswith("*.")]
    return exact[0] if exact else _host_for(jur.registries[0], "123456789012")


def _ipv4_networks(jur: Jurisdiction) -> list[ipaddress.IPv4Network]:
    return [n for n in jur.networks if isinstance(n, ipaddress.IPv4Network)]


def _subnet(jur: Jurisdiction, index: int) -> str:
    """The ``index``-th /24 inside the jurisdiction's catalog IPv4 networks."""
    nets = _ipv4_networks(jur)
    if not nets:
        raise ValueError(f"catalog jurisdiction {jur.id} has no IPv4 network")
    net = nets[index % len(nets)]
    subnets = list(net.subnets(new_prefix=max(24, net.prefixlen)))
    return str(subnets[(index // len(nets) + 1) % len(subnets)])


def _cluster_networks(catalog: Catalog) -> tuple[list[str], list[str]]:
    """Pod and service networks (v4 + v6) that overlap no catalog network of any jurisdiction."""
    taken = [n for j in catalog.jurisdictions.values() for n in j.networks]

    def free(space: ipaddress.IPv4Network | ipaddress.IPv6Network, prefix: int, n: int) -> list[str]:
        out: list[str] = []
        for candidate in space.subnets(new_prefix=prefix):
            if not any(t.version == candidate.version and t.overlaps(candidate) for t in taken):
                out.append(str(candidate))
                if len(out) == n:
                    return out
        raise ValueError(f"no free /{prefix} in {space}")

    v4 = free(CGNAT, 16, 2)
    v6 = free(ULA, 56, 2)
    return [v4[0], v6[0]], [v4[1], str(ipaddress.ip_network(v6[1]).subnets(new_prefix=108).__next__())]


# -------------------------------------------------------------------------------------------- stack model


def _role(index: int) -> str:
    return PURPOSES[index % len(PURPOSES)]


def _tenant_classes(jur: Jurisdiction, index: int) -> list[str]:
    """Two of the jurisdiction's data classes (a sliding window), so tenants hold different mixes."""
    ids = sorted(jur.data_classes)
    picked = {ids[index % len(ids)], ids[(index + 1) % len(ids)]}
    return sorted(picked)


def _kind(k: int) -> str:
    if k % 10 == 7:
        return "Job"
    if k % 10 == 9:
        return "CronJob"
    if k % 5 == 3:
        return "StatefulSet"
    return "Deployment"


def _exportable(jur: Jurisdiction, catalog: Catalog) -> list[tuple[DataClass, Jurisdiction]]:
    """(data class, destination) pairs the catalog lets leave with an approval, one destination per class."""
    pairs = []
    for dc_id in sorted(jur.data_classes):
        dc = jur.data_classes[dc_id]
        if dc.export is ExportMode.NEVER:
            continue
        for dest_id in sorted(catalog.jurisdictions):
            dest = catalog.jurisdictions[dest_id]
            if dest_id != jur.id and dc.may_leave_to(dest_id, approved=True) and _ipv4_networks(dest):
                pairs.append((dc, dest))
                break
    return pairs


def stack_name(index: int, jurisdiction: str) -> str:
    return f"{STACK_PREFIX}-{jurisdiction}-{index:03d}"


def stack_config(
    index: int, shape: FleetShape, catalog: Catalog, *, at: datetime | None = None
) -> tuple[str, dict[str, Any]]:
    """The ``config:`` mapping of fleet stack ``index`` (name, prefixed keys)."""
    jur_ids = sorted(catalog.jurisdictions)
    jur = catalog.jurisdictions[jur_ids[index % len(jur_ids)]]
    name = stack_name(index, jur.id)
    providers = _providers_with_zones(catalog, jur)
    provider = providers[(index // len(jur_ids)) % len(providers)]
    regions = _zoned_regions(catalog, jur, provider)[:MAX_REGIONS]
    zones = [z for r in regions for z in provider.regions[r].zones][:MAX_ZONES]
    regions = [r for r in regions if any(z in provider.regions[r].zones for z in zones)]
    pods, services = _cluster_networks(catalog)
    registry = _registry(jur)
    accelerators = jur.accelerators.allowed_products()
    regulated = sorted(d for d, dc in jur.data_classes.items() if dc.regulated)
    unregulated = sorted(d for d, dc in jur.data_classes.items() if not dc.regulated)
    domain = _host_for(jur.domains[0], "objects")
    # Shared egress destinations, declared once and named by each workload: inline, 200 workloads would not fit
    # in the 128 KiB PULUMI_CONFIG the Pulumi CLI hands the program (sovereign.core.pulumi_config_env).
    destinations: dict[str, dict[str, Any]] = {
        OBJECTS_API: {"domains": [domain], "ports": [{"port": HTTPS_PORT}]},
    }

    tenants: list[dict[str, Any]] = []
    workloads: list[dict[str, Any]] = []
    by_ref: dict[str, dict[str, Any]] = {}
    for m in range(shape.namespaces):
        ns = f"s{index:03d}-t{m:02d}-{_role(m)}"  # unique across stacks
        classes = _tenant_classes(jur, m)
        gpu_jobs = sum(1 for k in range(shape.workloads) if _kind(k) == "Job") if accelerators else 0
        quota: dict[str, Any] = {
            "cpu": str(8 * shape.workloads),
            "memory": f"{32 * shape.workloads}Gi",
            "pods": 10 * shape.workloads,
            "storage": f"{shape.workloads}Ti",
        }
        if gpu_jobs:
            quota["gpu"] = 8 * gpu_jobs
        tenant = {
            "namespace": ns,
            "description": f"Fleet tenant {m} ({_role(m)}): holds {', '.join(classes)}.",
            "dataClasses": classes,
            "quota": quota,
        }
        tenants.append(tenant)
        for k in range(shape.workloads):
            kind = _kind(k)
            wname = f"w{k:03d}-{_role(m + k)}"
            w: dict[str, Any] = {
                "name": wname,
                "namespace": ns,
                "kind": kind,
                "image": f"{registry}/fleet/{_role(m + k)}:1.{k}.0",
                "reads": classes[:1],
                "writes": classes[-1:],
                "egress": [_object_store(destinations, _subnet(jur, m + k)), OBJECTS_API],
            }
            if kind in ("Deployment", "StatefulSet"):
                w["replicas"] = 1 + k % 3
                w["ports"] = [{"name": "http", "port": HTTP_PORT}]
            if kind == "CronJob":
                w["schedule"] = f"*/{5 + k % 25} * * * *"
            if kind in ("Job", "CronJob"):
                w["command"] = ["run", f"--shard={k}"]
            if kind == "Job" and accelerators:
                w["accelerator"] = {"product": accelerators[k % len(accelerators)], "count": 8}
            handles = set(w["reads"]) | set(w["writes"])
            tier = "regulated" if handles & set(regulated) or not unregulated else "scratch"
            if kind == "StatefulSet" or (kind == "Job" and accelerators):
                w["volumes"] = [{"name": "data", "tier": tier, "size": "100Gi", "mountPath": "/data"}]
            workloads.append(w)
            by_ref[f"{ns}/{wname}"] = w

    # East-west traffic: each workload calls the nearest earlier server in its namespace; the first workloads
    # of a namespace call the last server declared before them (in the previous namespace).
    last_server: str | None = None
    last_in_ns: dict[str, str] = {}
    for ref, w in by_ref.items():
        target = last_in_ns.get(w["namespace"], last_server)
        if target is not None:
            w["egress"].append({"name": "upstream", "workload": target, "ports": [{"port": HTTP_PORT}]})
            by_ref[target].setdefault("ingressFrom", []).append(ref)
        if "ports" in w:
            last_server = last_in_ns[w["namespace"]] = ref
    refs = list(by_ref)

    storage = [
        {
            "name": "regulated",
            "description": "Encrypted SSD for regulated data; volumes outlive their claims.",
            "dataClasses": sorted(jur.data_classes),
            "parameters": {"type": "ssd"},
            "reclaimPolicy": "Retain",
        }
    ]
    if unregulated:
        storage.append(
            {
                "name": "scratch",
                "description": "Throw-away space for unregulated data.",
                "dataClasses": unregulated,
                "parameters": {"type": "standard"},
            }
        )
    backups = [
        {
            "name": "primary",
            "bucket": f"{name}-backups",
            "region": regions[0],
            "dataClasses": sorted(jur.data_classes),
            "default": True,
        }
    ]

    tenant_classes = {t["namespace"]: t["dataClasses"] for t in tenants}
    transfers = []
    when = (at or evaluation_time()).replace(hour=0, minute=0, second=0, microsecond=0)
    for t, (dc, dest) in enumerate(_exportable(jur, catalog)[:MAX_TRANSFERS]):
        # Senders: workloads of a tenant holding the class that no other workload calls. A workload others can
        # reach would relay their data across the border too, which the connectivity proof rightly reports.
        sources = [
            r for r in refs if dc.id in tenant_classes[by_ref[r]["namespace"]] and not by_ref[r].get("ingressFrom")
        ]
        if not sources:
            continue
        transfers.append(
            {
                "id": f"{dc.id}-to-{dest.id}",
                "approvalReference": f"{(dc.regulator or 'DPA').upper()}-FLEET-{index:03d}-{t}",
                "regulator": dc.regulator or "data-protection-authority",
                "scope": f"{dc.id} from {', '.join(sources[:2])} to {dest.id}",
                "note": "synthetic fleet approval",
                "dataClasses": [dc.id],
                "sourceWorkloads": sources[:2],
                "destination": {
                    "jurisdiction": dest.id,
                    "cidrs": [_subnet(dest, 40 + t)],
                    "ports": [{"port": HTTPS_PORT, "protocol": "TCP"}],
                },
                "validFrom": _iso(when - timedelta(days=30)),
                "validUntil": _iso(when + timedelta(days=335)),
            }
        )

    config: dict[str, Any] = {
        f"{CONFIG_NS}:jurisdiction": jur.id,
        f"{CONFIG_NS}:cluster": {
            "name": name,
            "provider": provider.id,
            "regions": regions,
            "zones": zones,
            "podCidrs": pods,
            "serviceCidrs": services,
            "kubernetesVersion": KUBERNETES_VERSION,
            "cni": CNI_VARIANTS[index % len(CNI_VARIANTS)],
        },
        f"{CONFIG_NS}:tenants": tenants,
        f"{CONFIG_NS}:destinations": dict(sorted(destinations.items())),
        f"{CONFIG_NS}:workloadDefaults": {"resources": WORKLOAD_RESOURCES},
        f"{CONFIG_NS}:workloads": workloads,
        f"{CONFIG_NS}:storage": storage,
        f"{CONFIG_NS}:backups": backups,
    }
    if transfers:
        config[f"{CONFIG_NS}:transfers"] = transfers
    return name, config


def _object_store(destinations: dict[str, dict[str, Any]], subnet: str) -> str:
    """The name of the object-store destination in ``subnet`` (one per /24), declared on first use."""
    name = "object-store-" + str(ipaddress.ip_network(subnet).network_address).replace(".", "-")
    destinations.setdefault(name, {"cidrs": [subnet], "ports": [{"port": HTTPS_PORT}]})
    return name


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------------- plain manifests


def _meta(name: str, namespace: str | None, stack: str, jur: str, extra: dict[str, str] | None = None) -> dict:
    meta: dict[str, Any] = {
        "name": name,
        "labels": {labels.STACK: stack, labels.JURISDICTION: jur, **(extra or {})},
    }
    if namespace:
        meta["namespace"] = namespace
    return meta


def plain_manifests(name: str, config: dict[str, Any], catalog: Catalog) -> list[dict[str, Any]]:
    """The objects a team without this project writes by hand for the same stack (what Checkov is run on).

    Named destinations and workload defaults are written out first, as the stack loader does."""
    c = expand_shared({k.split(":", 1)[1]: v for k, v in config.items()}, name).values
    jur_id: str = c["jurisdiction"]
    cluster = c["cluster"]
    provider = catalog.providers[cluster["provider"]]
    objects: list[dict[str, Any]] = []
    for tenant in c["tenants"]:
        ns = tenant["namespace"]
        ns_labels = {labels.GOVERNED: "true", labels.PSA_ENFORCE: "restricted"}
        ns_labels.update({labels.data_class_label(d): "true" for d in tenant["dataClasses"]})
        objects.append({"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(ns, None, name, jur_id, ns_labels)})
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta("default-deny", ns, name, jur_id),
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
            }
        )
        objects.append(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": _meta("allow-dns", ns, name, jur_id),
                "spec": {
                    "podSelector": {},
                    "policyTypes": ["Egress"],
                    "egress": [
                        {
                            "to": [
                                {
                                    "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: "kube-system"}},
                                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                                }
                            ],
                            "ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}],
                        }
                    ],
                },
            }
        )
    for w in c["workloads"]:
        objects.extend(_workload_objects(w, name, jur_id, cluster))
    for t in c.get("transfers", []):
        objects.extend(_transfer_policies(t, name, jur_id))
    for tier in c["storage"]:
        objects.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": _meta(tier["name"], None, name, jur_id),
                "provisioner": provider.csi_provisioner,
                "parameters": {**tier.get("parameters", {}), "encrypted": "true"},
                "reclaimPolicy": tier.get("reclaimPolicy", "Delete"),
                "volumeBindingMode": "WaitForFirstConsumer",
                "allowedTopologies": [
                    {"matchLabelExpressions": [{"key": provider.zone_topology_key, "values": cluster["zones"]}]}
                ],
            }
        )
    for b in c["backups"]:
        objects.append(
            {
                "apiVersion": "velero.io/v1",
                "kind": "BackupStorageLocation",
                "metadata": _meta(b["name"], "velero", name, jur_id),
                "spec": {
                    "provider": provider.object_storage_provider or provider.id,
                    "objectStorage": {"bucket": b["bucket"], "prefix": name},
                    "config": {"region": b["region"]},
                    "default": bool(b.get("default", False)),
                },
            }
        )
    return objects


def _transfer_policies(t: dict[str, Any], stack: str, jur: str) -> Iterator[dict[str, Any]]:
    """An approved cross-border flow as a hand-written egress allow, annotated with its approval."""
    dest = t["destination"]
    annotations = {
        labels.TRANSFER_ID: t["id"],
        labels.TRANSFER_APPROVAL: t["approvalReference"],
        labels.TRANSFER_DATA_CLASSES: ".".join(t["dataClasses"]),
        labels.TRANSFER_DESTINATION: dest["jurisdiction"],
        labels.TRANSFER_REGULATOR: t["regulator"],
        labels.TRANSFER_VALID_FROM: t["validFrom"],
        labels.TRANSFER_VALID_UNTIL: t["validUntil"],
    }
    for ref in t["sourceWorkloads"]:
        ns, wname = ref.split("/")
        meta = _meta(f"transfer-{t['id']}-{wname}", ns, stack, jur, {labels.TRANSFER_ID: t["id"]})
        meta["annotations"] = annotations
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta,
            "spec": {
                "podSelector": {"matchLabels": {labels.WORKLOAD: wname}},
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "to": [{"ipBlock": {"cidr": cidr}} for cidr in dest["cidrs"]],
                        "ports": [{"port": p["port"], "protocol": p.get("protocol", "TCP")} for p in dest["ports"]],
                    }
                ],
            },
        }


def _workload_objects(w: dict[str, Any], stack: str, jur: str, cluster: dict[str, Any]) -> Iterator[dict]:
    ns, wname, kind = w["namespace"], w["name"], w["kind"]
    select = {labels.WORKLOAD: wname}
    container: dict[str, Any] = {
        "name": wname,
        "image": w["image"],
        "imagePullPolicy": "IfNotPresent",
        "resources": w["resources"],
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }
    if w.get("command"):
        container["command"] = w["command"]
    if w.get("ports"):
        container["ports"] = [{"name": p["name"], "containerPort": p["port"], "protocol": "TCP"} for p in w["ports"]]
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "containers": [container],
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": labels.REGION, "operator": "In", "values": cluster["regions"]}]}
                    ]
                }
            }
        },
    }
    if w.get("accelerator"):
        acc = w["accelerator"]
        pod["nodeSelector"] = {labels.GPU_PRODUCT: acc["product"]}
        container["resources"] = {
            **w["resources"],
            "limits": {**w["resources"]["limits"], labels.GPU_RESOURCE: str(acc["count"])},
        }
    volumes = w.get("volumes", [])
    if volumes and kind != "StatefulSet":
        container["volumeMounts"] = [{"name": v["name"], "mountPath": v["mountPath"]} for v in volumes]
        pod["volumes"] = [
            {"name": v["name"], "persistentVolumeClaim": {"claimName": f"{wname}-{v['name']}"}} for v in volumes
        ]
        for v in volumes:
            yield {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta(f"{wname}-{v['name']}", ns, stack, jur, select),
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": v["tier"],
                    "resources": {"requests": {"storage": v["size"]}},
                },
            }
    template = {
        "metadata": {"labels": {labels.STACK: stack, labels.JURISDICTION: jur, **select}},
        "spec": pod,
    }
    meta = _meta(wname, ns, stack, jur, select)
    if kind in ("Deployment", "StatefulSet"):
        spec: dict[str, Any] = {
            "replicas": w.get("replicas", 1),
            "selector": {"matchLabels": select},
            "template": template,
        }
        if kind == "StatefulSet":
            spec["serviceName"] = wname
            container["volumeMounts"] = [{"name": v["name"], "mountPath": v["mountPath"]} for v in volumes]
            spec["volumeClaimTemplates"] = [
                {
                    "metadata": {"name": v["name"]},
                    "spec": {
                        "accessModes": ["ReadWriteOnce"],
                        "storageClassName": v["tier"],
                        "resources": {"requests": {"storage": v["size"]}},
                    },
                }
                for v in volumes
            ]
        yield {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}
    elif kind == "Job":
        pod["restartPolicy"] = "Never"
        yield {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": {"template": template}}
    else:
        pod["restartPolicy"] = "OnFailure"
        yield {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta,
            "spec": {"schedule": w["schedule"], "jobTemplate": {"spec": {"template": template}}},
        }
    if w.get("ports"):
        yield {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta,
            "spec": {
                "selector": select,
                "ports": [
                    {"name": p["name"], "port": p["port"], "targetPort": p["name"], "protocol": "TCP"}
                    for p in w["ports"]
                ],
            },
        }
    egress_rules = []
    for need in w.get("egress", []):
        ports = [{"port": p["port"], "protocol": p.get("protocol", "TCP")} for p in need["ports"]]
        if "workload" in need:
            tns, tname = need["workload"].split("/")
            peer = {
                "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: tns}},
                "podSelector": {"matchLabels": {labels.WORKLOAD: tname}},
            }
            egress_rules.append({"to": [peer], "ports": ports})
        elif "cidrs" in need:
            egress_rules.append({"to": [{"ipBlock": {"cidr": cidr}} for cidr in need["cidrs"]], "ports": ports})
        # A plain NetworkPolicy cannot name domains; hand-written setups leave them to a proxy.
    if egress_rules:
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(f"egress-{wname}", ns, stack, jur),
            "spec": {
                "podSelector": {"matchLabels": select},
                "policyTypes": ["Egress"],
                "egress": egress_rules,
            },
        }
    if w.get("ingressFrom"):
        peers = []
        for ref in w["ingressFrom"]:
            sns, sname = ref.split("/")
            peers.append(
                {
                    "namespaceSelector": {"matchLabels": {labels.METADATA_NAME: sns}},
                    "podSelector": {"matchLabels": {labels.WORKLOAD: sname}},
                }
            )
        yield {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(f"ingress-{wname}", ns, stack, jur),
            "spec": {
                "podSelector": {"matchLabels": select},
                "policyTypes": ["Ingress"],
                "ingress": [{"from": peers, "ports": [{"port": p["port"], "protocol": "TCP"} for p in w["ports"]]}],
            },
        }


# ------------------------------------------------------------------------------------------------ writing


def _dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, width=1000)


def manifest_file_name(obj: dict[str, Any]) -> str:
    api = obj["apiVersion"].replace("/", "_")
    ns = obj["metadata"].get("namespace", "default")
    return f"{api}-{obj['kind'].lower()}-{ns}-{obj['metadata']['name']}.yaml"


def make_project_root(root: Path) -> Path:
    """A project root whose ``stacks/`` holds only the fleet: Pulumi.yaml copied, infra/policies/examples symlinked
    (the fleet uses the example organisation's networks, registries and data classes)."""
    (root / "stacks").mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text((PROJECT_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    for link, target in (
        (root / "infra", PROJECT_ROOT / "infra"),
        (root / "policies", PROJECT_ROOT / "policies"),
        (root / "examples", PROJECT_ROOT / "examples"),  # the example organisation the fleet is generated from
        (root / "stacks" / "stack.schema.json", PROJECT_ROOT / "stacks" / "stack.schema.json"),
    ):
        if not link.is_symlink():
            link.symlink_to(target)
    return root


@dataclass(frozen=True)
class GeneratedFleet:
    root: Path
    """Project root for SOVEREIGN_ROOT."""
    manifests: Path
    """``manifests/<stack>/*.yaml``: the plain manifests."""
    stacks: tuple[str, ...]
    objects: int
    """Plain manifest objects written, all stacks."""
    workloads: int
    config_bytes: tuple[int, ...] = ()
    """Per stack: ``PULUMI_CONFIG`` as the Pulumi CLI would pass it (render and check refuse more than
    ``MAX_ENV_STRING_BYTES``, as ``pulumi up`` would fail)."""


def generate(
    out: Path,
    shape: FleetShape,
    *,
    catalog: Catalog | None = None,
    at: datetime | None = None,
    with_manifests: bool = True,
) -> GeneratedFleet:
    catalog = catalog or default_catalog()
    out = out.resolve()
    root = make_project_root(out / "root")
    manifests_dir = out / "manifests"
    names: list[str] = []
    sizes: list[int] = []
    objects = 0
    for i in range(shape.stacks):
        name, config = stack_config(i, shape, catalog, at=at)
        names.append(name)
        sizes.append(env_string_bytes(config))
        header = f"# Generated by bench/fleet.py: {shape.namespaces} namespaces x {shape.workloads} workloads.\n"
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(header + _dump({"config": config}), encoding="utf-8")
        if with_manifests:
            target = manifests_dir / name
            target.mkdir(parents=True, exist_ok=True)
            for obj in plain_manifests(name, config, catalog):
                (target / manifest_file_name(obj)).write_text(_dump(obj), encoding="utf-8")
                objects += 1
    workloads = shape.stacks * shape.workloads_per_stack
    return GeneratedFleet(root, manifests_dir, tuple(names), objects, workloads, tuple(sizes))


def plain_object_count(shape: FleetShape, catalog: Catalog | None = None) -> int:
    catalog = catalog or default_catalog()
    return sum(len(plain_manifests(*stack_config(i, shape, catalog), catalog)) for i in range(shape.stacks))


def shape_for_objects(target: int, *, stacks: int = 1, namespaces: int = 5) -> FleetShape:
    """The shape whose plain manifests come closest to ``target`` objects (for the 250/1,250/5,000 series);
    the count grows with the workloads per namespace, so bisect on that."""
    catalog = default_catalog()

    def count(k: int) -> int:
        return plain_object_count(FleetShape(stacks, namespaces, k), catalog)

    lo, hi = 1, 2
    while count(hi) < target:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if count(mid) < target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda k: abs(count(k) - target))
    return FleetShape(stacks, namespaces, best)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/fleet.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stacks", type=int, default=4)
    parser.add_argument("--namespaces", type=int, default=5)
    parser.add_argument("--workloads", type=int, default=10, help="workloads per namespace")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--no-manifests", action="store_true")
    args = parser.parse_args(argv)
    fleet = generate(
        args.out,
        FleetShape(args.stacks, args.namespaces, args.workloads),
        with_manifests=not args.no_manifests,
    )
    print(f"{len(fleet.stacks)} stacks, {fleet.workloads} workloads, {fleet.objects} plain objects")
    print(f"SOVEREIGN_ROOT={fleet.root}")
    print(f"manifests: {fleet.manifests}")
    largest = max(fleet.config_bytes, default=0)
    print(f"largest PULUMI_CONFIG: {largest} bytes (limit {MAX_ENV_STRING_BYTES})")
    if largest > MAX_ENV_STRING_BYTES:
        print(
            "warning: stacks over the limit cannot be run by the Pulumi CLI; render and check refuse them",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
