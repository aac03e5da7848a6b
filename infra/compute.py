"""Compute: Deployments, StatefulSets, Jobs and CronJobs pinned to the jurisdiction's regions.

Every pod template carries required node affinity on ``topology.kubernetes.io/region`` (and, for GPU work,
``nvidia.com/gpu.product`` limited to the products the catalog allows), runs under its own ServiceAccount and
the ``restricted`` security context, and is labelled with the workload name the egress policies select on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from infra.k8s_objects import declare
from infra.meta import estate_labels, metadata
from infra.plan import Placement
from sovereign.core import labels
from sovereign.stackconfig.model import Workload, WorkloadKind

TMP_VOLUME = "tmp"
"""readOnlyRootFilesystem needs a writable scratch dir; an emptyDir (never hostPath) provides /tmp."""


@dataclass(frozen=True)
class ComputeArgs:
    stack: str
    jurisdiction: str
    workloads: tuple[Workload, ...]
    placements: Mapping[str, Placement]
    """By workload ref; computed (and validated) by infra.plan."""


def pod_labels(args: ComputeArgs, w: Workload) -> dict[str, str]:
    return {**estate_labels(args.jurisdiction, args.stack), labels.WORKLOAD: w.name}


def selector(w: Workload) -> dict[str, Any]:
    return {"matchLabels": {labels.WORKLOAD: w.name}}


def node_affinity(placement: Placement) -> dict[str, Any]:
    """One required term; its expressions are ANDed (a second term would be ORed and widen placement)."""
    expressions: list[dict[str, Any]] = [{"key": labels.REGION, "operator": "In", "values": list(placement.regions)}]
    if placement.gpu_products:
        expressions.append({"key": labels.GPU_PRODUCT, "operator": "In", "values": list(placement.gpu_products)})
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}
        }
    }


def container_security_context() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def resources(w: Workload) -> dict[str, Any]:
    requests = {"cpu": w.resources.cpu_request, "memory": w.resources.memory_request}
    limits = {"cpu": w.resources.cpu_limit, "memory": w.resources.memory_limit}
    if w.accelerator is not None:
        # Extended resources: request must equal limit.
        requests[labels.GPU_RESOURCE] = str(w.accelerator.count)
        limits[labels.GPU_RESOURCE] = str(w.accelerator.count)
    return {"limits": dict(sorted(limits.items())), "requests": dict(sorted(requests.items()))}


def claim_name(w: Workload, volume_name: str) -> str:
    """Standalone PVC name for non-StatefulSet workloads (StatefulSets get per-replica claim templates)."""
    return f"{w.name}-{volume_name}"


def pod_template(args: ComputeArgs, w: Workload) -> dict[str, Any]:
    placement = args.placements[w.ref]
    container: dict[str, Any] = {
        "name": w.name,
        "image": w.image,
        "imagePullPolicy": "IfNotPresent",
        "resources": resources(w),
        "securityContext": container_security_context(),
        "volumeMounts": [{"name": TMP_VOLUME, "mountPath": "/tmp"}]
        + [{"name": v.name, "mountPath": v.mount_path} for v in w.volumes],
    }
    if w.command:
        container["command"] = list(w.command)
    if w.ports:
        # containerPort only, never hostPort.
        container["ports"] = [{"name": p.name, "containerPort": p.port, "protocol": p.protocol.value} for p in w.ports]
    volumes: list[dict[str, Any]] = [{"name": TMP_VOLUME, "emptyDir": {}}]
    if w.kind is not WorkloadKind.STATEFUL_SET:
        volumes += [{"name": v.name, "persistentVolumeClaim": {"claimName": claim_name(w, v.name)}} for v in w.volumes]
    spec: dict[str, Any] = {
        "affinity": node_affinity(placement),
        "automountServiceAccountToken": w.automount_service_account_token,
        "containers": [container],
        "enableServiceLinks": False,
        "hostIPC": False,
        "hostNetwork": False,
        "hostPID": False,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "serviceAccountName": w.name,
        "volumes": volumes,
    }
    if placement.gpu_products:
        spec["tolerations"] = [{"key": labels.GPU_RESOURCE, "operator": "Exists", "effect": "NoSchedule"}]
    if w.kind in (WorkloadKind.JOB, WorkloadKind.CRON_JOB):
        spec["restartPolicy"] = "Never"
    return {"metadata": {"labels": dict(sorted(pod_labels(args, w).items()))}, "spec": spec}


def service_account_manifest(args: ComputeArgs, w: Workload) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(w.name, namespace=w.namespace, labels_=pod_labels(args, w)),
        "automountServiceAccountToken": w.automount_service_account_token,
    }


def service_manifest(args: ComputeArgs, w: Workload) -> dict[str, Any] | None:
    """ClusterIP Service for workloads with ports; headless Service governing every StatefulSet."""
    if not w.ports and w.kind is not WorkloadKind.STATEFUL_SET:
        return None
    spec: dict[str, Any] = {"selector": {labels.WORKLOAD: w.name}, "type": "ClusterIP"}
    if w.ports:
        spec["ports"] = [
            {"name": p.name, "port": p.port, "protocol": p.protocol.value, "targetPort": p.name} for p in w.ports
        ]
    if w.kind is WorkloadKind.STATEFUL_SET:
        spec["clusterIP"] = "None"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata(w.name, namespace=w.namespace, labels_=pod_labels(args, w)),
        "spec": spec,
    }


def _claim_spec(tier: str, size: str) -> dict[str, Any]:
    return {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": size}},
        "storageClassName": tier,
    }


def claim_manifests(args: ComputeArgs, w: Workload) -> list[dict[str, Any]]:
    if w.kind is WorkloadKind.STATEFUL_SET:
        return []
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": metadata(claim_name(w, v.name), namespace=w.namespace, labels_=pod_labels(args, w)),
            "spec": _claim_spec(v.tier, v.size),
        }
        for v in w.volumes
    ]


def workload_manifest(args: ComputeArgs, w: Workload) -> dict[str, Any]:
    meta = metadata(w.name, namespace=w.namespace, labels_=pod_labels(args, w))
    template = pod_template(args, w)
    if w.kind is WorkloadKind.DEPLOYMENT:
        return {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta,
            "spec": {"replicas": w.replicas, "selector": selector(w), "template": template},
        }
    if w.kind is WorkloadKind.STATEFUL_SET:
        claims = [
            {
                "metadata": {"name": v.name, "labels": dict(sorted(pod_labels(args, w).items()))},
                "spec": _claim_spec(v.tier, v.size),
            }
            for v in w.volumes
        ]
        spec: dict[str, Any] = {
            "replicas": w.replicas,
            "selector": selector(w),
            "serviceName": w.name,
            "template": template,
        }
        if claims:
            spec["volumeClaimTemplates"] = claims
        return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": meta, "spec": spec}
    if w.kind is WorkloadKind.JOB:
        # A real `pulumi up` would otherwise block until the (hours-long) training Job completes.
        job_meta = {**meta, "annotations": {labels.PULUMI_SKIP_AWAIT: "true"}}
        return {"apiVersion": "batch/v1", "kind": "Job", "metadata": job_meta, "spec": {"template": template}}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta,
        "spec": {
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": template}},
            "schedule": w.schedule,
        },
    }


def compute_manifests(args: ComputeArgs, w: Workload) -> list[dict[str, Any]]:
    """ServiceAccount, Service, claims, then the workload itself: the order they must exist in."""
    out = [service_account_manifest(args, w)]
    svc = service_manifest(args, w)
    if svc is not None:
        out.append(svc)
    out += claim_manifests(args, w)
    out.append(workload_manifest(args, w))
    return out


class Compute(pulumi.ComponentResource):
    def __init__(self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("sovereign-clusters:estate:Compute", name, None, opts)
        placements: dict[str, dict[str, list[str]]] = {}
        for w in sorted(args.workloads, key=lambda w: w.ref):
            previous: list[pulumi.Resource] = []
            for manifest in compute_manifests(args, w):
                res = declare(manifest, pulumi.ResourceOptions(parent=self, depends_on=previous))
                if manifest["kind"] in ("ServiceAccount", "PersistentVolumeClaim"):
                    previous = [*previous, res]
            p = args.placements[w.ref]
            placements[w.ref] = {"regions": list(p.regions), "gpuProducts": list(p.gpu_products)}
        self.placements = placements
        self.register_outputs({"placements": placements})
