"""Typed, immutable stack configuration: one jurisdiction's cluster, as declared in ``stacks/Pulumi.<stack>.yaml``.

Keys in the file are camelCase under the ``sovereign-clusters:`` namespace; fields here are snake_case.
The loader validates the file against ``stacks/stack.schema.json`` and the catalog before building these.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sovereign.catalog.model import IPNetwork


class PolicyApi(StrEnum):
    """Network policy APIs a CNI may enforce; the program and the connectivity proof follow this list."""

    NETWORK_POLICY = "NetworkPolicy"
    ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
    """policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy + BaselineAdminNetworkPolicy."""
    CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
    """policy.networking.k8s.io/v1alpha2 ClusterNetworkPolicy (tier Admin|Baseline)."""
    CILIUM = "Cilium"
    """cilium.io/v2 CiliumNetworkPolicy + CiliumClusterwideNetworkPolicy."""


class Protocol(StrEnum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


class WorkloadKind(StrEnum):
    DEPLOYMENT = "Deployment"
    STATEFUL_SET = "StatefulSet"
    JOB = "Job"
    CRON_JOB = "CronJob"


@dataclass(frozen=True)
class CniConfig:
    """What the cluster's CNI enforces and how; the connectivity proof takes these as explicit parameters."""

    name: str
    enforces: frozenset[PolicyApi]
    ipblock_matches_pod_ips: bool
    """Calico and the upstream e2e tests: yes; Cilium: no (CIDR rules skip Cilium-managed peers)."""
    end_port: bool
    sctp: bool
    host_network_selected: bool
    """Whether hostNetwork pods are selected by policies (most CNIs: no, they are node traffic)."""


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    provider: str
    regions: tuple[str, ...]
    zones: tuple[str, ...]
    pod_cidrs: tuple[IPNetwork, ...]
    service_cidrs: tuple[IPNetwork, ...]
    kubernetes_version: str
    """``MAJOR.MINOR``, used to pick the OpenAPI schemas manifests are validated against."""
    cni: CniConfig
    dns_namespace: str = "kube-system"
    dns_pod_labels: tuple[tuple[str, str], ...] = (("k8s-app", "kube-dns"),)


@dataclass(frozen=True)
class Quota:
    cpu: str
    memory: str
    gpu: int
    pods: int
    storage: str


@dataclass(frozen=True)
class Tenant:
    namespace: str
    description: str
    data_classes: tuple[str, ...]
    quota: Quota


@dataclass(frozen=True)
class PortSpec:
    port: int | None
    """None: every port of the protocol."""
    end_port: int | None
    protocol: Protocol


@dataclass(frozen=True)
class EgressNeed:
    """One in-jurisdiction destination a workload needs: catalog networks/domains or another workload."""

    name: str
    cidrs: tuple[IPNetwork, ...]
    domains: tuple[str, ...]
    workload: str | None
    """``namespace/name`` of an in-cluster workload, instead of cidrs/domains."""
    ports: tuple[PortSpec, ...]


@dataclass(frozen=True)
class IngressSource:
    """Who outside the cluster may connect to a workload (``ingress``): named networks of the catalog's organisation
    layer, and addresses no network of the stack's jurisdiction holds. Names are resolved against the catalog
    (``sovereign.stackconfig.ingress.source_networks``), so a network is never copied into a stack."""

    name: str
    networks: tuple[str, ...]
    """``<name>`` (the stack's jurisdiction) or ``<jurisdiction>:<name>``: ``named_networks`` of the catalog."""
    cidrs: tuple[IPNetwork, ...]
    ports: tuple[PortSpec, ...]
    """Of the workload's ports; empty: every port the workload declares."""
    description: str = ""


class LoadBalancerScheme(StrEnum):
    INTERNAL = "internal"
    """The provider's internal load balancer (the catalog's annotation), reached over the private network."""
    REGIONAL = "regional"
    """A load balancer of the cluster's region that is not internal; every source must lie in the jurisdiction."""


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str


@dataclass(frozen=True)
class Accelerator:
    product: str
    """``nvidia.com/gpu.product`` value; must be allowed in the jurisdiction by the catalog."""
    count: int


@dataclass(frozen=True)
class ContainerPort:
    name: str
    port: int
    protocol: Protocol


@dataclass(frozen=True)
class VolumeClaim:
    name: str
    tier: str
    size: str
    mount_path: str


@dataclass(frozen=True)
class Workload:
    name: str
    namespace: str
    kind: WorkloadKind
    image: str
    replicas: int
    schedule: str | None
    """Cron schedule, CronJob only."""
    command: tuple[str, ...]
    resources: Resources
    accelerator: Accelerator | None
    reads: tuple[str, ...]
    writes: tuple[str, ...]
    ports: tuple[ContainerPort, ...]
    ingress_from: tuple[str, ...]
    """``namespace/name`` workloads allowed to connect in (egress needs of others imply this too)."""
    egress: tuple[EgressNeed, ...]
    volumes: tuple[VolumeClaim, ...]
    automount_service_account_token: bool
    ingress: tuple[IngressSource, ...] = ()
    """Sources outside the cluster allowed to connect in; empty: none."""
    load_balancer: LoadBalancerScheme | None = None
    """A load balancer Service in front of the workload, open to the ``ingress`` sources; None: none."""

    @functools.cached_property
    def ref(self) -> str:
        """``namespace/name``; cached because the program compares every workload's ref with every other's."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class StorageTier:
    name: str
    description: str
    data_classes: tuple[str, ...]
    parameters: tuple[tuple[str, str], ...]
    """Extra provisioner parameters (disk type etc.); encryption is always added by the program."""
    reclaim_policy: str | None
    """None: derived, Retain when any data class is regulated, Delete otherwise."""


@dataclass(frozen=True)
class BackupLocation:
    name: str
    bucket: str
    region: str
    prefix: str
    data_classes: tuple[str, ...]
    default: bool


@dataclass(frozen=True)
class TransferDestination:
    jurisdiction: str
    cidrs: tuple[IPNetwork, ...]
    domains: tuple[str, ...]
    ports: tuple[PortSpec, ...]


class TransferState(StrEnum):
    """Where an evaluation time falls in a transfer's window ``[validFrom, validUntil)``."""

    PENDING = "pending"
    """Not yet valid: the evaluation time is before ``validFrom``."""
    ACTIVE = "active"
    EXPIRED = "expired"
    """The evaluation time is at or after ``validUntil`` (the window's end is exclusive)."""


@dataclass(frozen=True)
class Transfer:
    """An approved cross-border flow: that workload, those data classes, those destinations, that window."""

    id: str
    approval_reference: str
    regulator: str
    data_classes: tuple[str, ...]
    source_workloads: tuple[str, ...]
    """``namespace/name`` of the workloads allowed to send."""
    destination: TransferDestination
    valid_from: datetime
    valid_until: datetime
    scope: str = ""
    """What the regulator approved, in the approval's words (``scope``; required in stack files)."""
    note: str = ""
    """The approval's other regulatory facts (``note``; required in stack files). Both default to empty only for
    a transfer reconstructed from a rendered object's annotations, which carry neither."""

    def state(self, at: datetime) -> TransferState:
        """The one rule of a transfer's validity at a time, asked by the program, the pack and the diff alike."""
        if at < self.valid_from:
            return TransferState.PENDING
        if at >= self.valid_until:
            return TransferState.EXPIRED
        return TransferState.ACTIVE

    def is_active(self, at: datetime) -> bool:
        return self.state(at) is TransferState.ACTIVE

    def ends_within(self, at: datetime, window: timedelta) -> bool:
        """Active at ``at`` and ending no later than ``window`` after it: the expiry warning's one rule."""
        return self.is_active(at) and self.valid_until - at <= window


@dataclass(frozen=True)
class SystemImage:
    """An image the cluster needs that no workload of the stack declares: CNI, CSI, DNS, metrics, the backup agent.
    The provider or the platform team installs it, but the nodes still pull it: from abroad, a closed border stops
    the cluster, not only our workloads."""

    component: str
    """What it is for (``cni``, ``csi``, ``dns``, ``metrics``...): free text the findings repeat."""
    image: str


@dataclass(frozen=True)
class Operations:
    """Where the things ``pulumi up`` needs, beyond the cluster itself, come from (``sovereign-clusters:operations``):
    what the Pulumi CLI has no place for. The state backend is read from ``Pulumi.yaml``'s ``backend.url`` when the
    project fixes one; this project's stacks are in three jurisdictions, so each stack names its own here."""

    state_backend: str | None
    """The backend URL the stack's operators log in to (``pulumi login <url>`` / ``PULUMI_BACKEND_URL``); None: the
    stack does not name one (``Pulumi.yaml``'s ``backend.url`` may)."""
    package_index: str
    """The Python package index ``pulumi install`` / ``make venv`` install from (pip's ``--index-url``)."""
    plugin_download_url: str
    """Where the Pulumi CLI downloads resource plugins from (``PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES``)."""
    system_images: tuple[SystemImage, ...]


@dataclass(frozen=True)
class PulumiFacts:
    """What the Pulumi CLI itself keeps about where a stack is operated from, read where the CLI reads it
    (``sovereign.stackconfig.pulumi_files``): never repeated in ``sovereign-clusters:`` config."""

    backend_url: str | None
    """The backend the CLI would use, before the stack's own declaration: ``$PULUMI_BACKEND_URL``, else
    ``Pulumi.yaml``'s ``backend.url``; None when neither is set."""
    backend_source: str
    """Where ``backend_url`` was read (``PULUMI_BACKEND_URL``, ``Pulumi.yaml backend.url``), or why not."""
    secrets_provider: str | None
    """The stack file's ``secretsprovider:`` (``passphrase``, ``default``, ``awskms://...``); None: not set, the
    backend's default (passphrase on a DIY backend, the service's key on Pulumi Cloud)."""
    stack_file: str
    """The stack file read ('' when there is none: the facts are unknown and the rule fails closed)."""
    project_backend_url: str | None = None
    """``Pulumi.yaml``'s ``backend.url`` alone: a stack may not name another (one source of truth)."""


@dataclass(frozen=True)
class StackConfig:
    stack: str
    source_file: str
    jurisdiction: str
    cluster: ClusterConfig
    tenants: tuple[Tenant, ...]
    workloads: tuple[Workload, ...]
    storage: tuple[StorageTier, ...]
    backups: tuple[BackupLocation, ...]
    transfers: tuple[Transfer, ...]
    kubeconfig_configured: bool
    """A secret ``sovereign-clusters:kubeconfig`` is set: deploy to a cluster; otherwise render to a directory."""
    render_dir: str
    """renderYamlToDirectory target when no kubeconfig is configured (relative to infra/, as the provider sees it)."""
    operations: Operations | None = None
    """``sovereign-clusters:operations``; None: not declared (the operations rule reports it)."""
    pulumi: PulumiFacts | None = None
    """The Pulumi CLI's own facts (backend, secrets provider); None where nobody read them (the program)."""

    def workload(self, ref: str) -> Workload | None:
        for w in self.workloads:
            if w.ref == ref:
                return w
        return None

    def tenant(self, namespace: str) -> Tenant | None:
        for t in self.tenants:
            if t.namespace == namespace:
                return t
        return None

    def storage_tier(self, name: str) -> StorageTier | None:
        for s in self.storage:
            if s.name == name:
                return s
        return None
