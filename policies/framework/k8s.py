"""A small read-only view of one Kubernetes object as a policy sees it (type token + props)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from policies.framework.values import UnknownValueError, as_list, as_map, is_map, is_seq, text
from sovereign.kube_kinds import is_builtin_podless

WORKLOAD_KINDS = frozenset({"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob",
                            "ReplicationController"})
BUILTIN_WORKLOAD_GROUPS = ("", "apps", "batch")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")
TEMPLATE_PATH = "spec.template.spec"
JOB_TEMPLATE_PATH = "spec.jobTemplate.spec.template.spec"
GENERIC_POD_SPEC_PLACES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (TEMPLATE_PATH, ("template", "spec")),
    (JOB_TEMPLATE_PATH, ("jobTemplate", "spec", "template", "spec")),
    ("spec", ()),
)
"""Where any kind may carry a pod spec (RT-8); checked in this order, the first with ``containers`` wins."""
MAX_NESTING = 12
MAX_NODES = 20_000
"""Bounds of the search for pod templates nested deeper in an unknown kind's spec."""


@functools.lru_cache(maxsize=4096)
def split_type_token(token: str) -> tuple[str, str, str] | None:
    """``kubernetes:apps/v1:Deployment`` -> ("apps", "v1", "Deployment"); core group -> ""; others -> None.

    Memoised: every rule asks for every resource, and a stack has a few dozen types."""
    parts = token.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes" or "/" not in parts[1]:
        return None
    group, version = parts[1].rsplit("/", 1)
    return ("" if group == "core" else group), version, parts[2]


@dataclass(frozen=True)
class K8sObject:
    group: str
    version: str
    kind: str
    props: Mapping[str, Any]
    urn: str
    resource_name: str

    @classmethod
    def from_resource(cls, type_token: str, props: Mapping[str, Any], urn: str, name: str) -> K8sObject | None:
        parsed = split_type_token(type_token)
        if parsed is None:
            return None
        group, version, kind = parsed
        return cls(group, version, kind, props, urn, name)

    @property
    def metadata(self) -> Mapping[str, Any]:
        return as_map(self.props.get("metadata"))

    @property
    def name(self) -> str:
        return text(self.metadata.get("name")) or self.resource_name

    @property
    def namespace(self) -> str:
        """The object's namespace ("" when cluster-scoped or unset; unset namespaced objects land in the
        apply-time namespace, which the caller treats as ``default``)."""
        return text(self.metadata.get("namespace"))

    @property
    def spec(self) -> Mapping[str, Any]:
        return as_map(self.props.get("spec"))

    def labels(self) -> Mapping[str, Any]:
        return as_map(self.metadata.get("labels"))

    def annotations(self) -> Mapping[str, Any]:
        return as_map(self.metadata.get("annotations"))

    @property
    def ref(self) -> str:
        """``Kind ns/name`` for messages."""
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    # -- workloads ------------------------------------------------------------------------------------------
    @property
    def is_builtin_workload(self) -> bool:
        return self.kind in WORKLOAD_KINDS and self.group in BUILTIN_WORKLOAD_GROUPS

    @property
    def is_builtin_podless(self) -> bool:
        """A built-in kind that never makes pods: core kinds other than Pod and ReplicationController, and every
        kind of ``sovereign.kube_kinds.PODLESS_BUILTIN_GROUPS``."""
        return is_builtin_podless(self.group, self.kind)

    @property
    def is_workload(self) -> bool:
        """A built-in workload kind, or any object that carries a pod template (RT-8: an Argo Rollout, a
        Knative Service or an operator's custom kind runs pods as a Deployment does)."""
        return bool(self.pod_specs())

    def pod_specs(self) -> list[tuple[str, Mapping[str, Any]]]:
        """(path, pod spec) of every pod template the object carries: the one of a built-in kind or a usual
        place (see ``_pod_spec_location``), else every ``template.spec`` with ``containers`` nested deeper in
        ``spec`` (Kubeflow ``replicaSpecs.Worker.template``, Ray ``workerGroupSpecs[0].template``...)."""
        if self.is_builtin_podless:
            return []
        location = self._pod_spec_location()
        if location is not None:
            return [location]
        return list(_nested_pod_specs(self.spec, "spec", 0, [0]))

    def _pod_spec_location(self) -> tuple[str, Mapping[str, Any]] | None:
        """(path, pod spec) of the pods this object makes, or None when it makes none we can see.

        Built-in kinds keep their documented places. Any other kind counts when a pod spec with ``containers``
        sits at ``spec.template.spec`` (Deployment shape), ``spec.jobTemplate.spec.template.spec`` (CronJob
        shape) or ``spec`` itself (Pod shape): the pod template is the same type whatever the owner, so the
        rules read it the same way. Reading goes through the SDK proxy, so an unknown value on the way fails
        the rule closed.
        """
        if self.is_builtin_workload:
            if self.kind == "Pod":
                return "spec", self.spec
            if self.kind == "CronJob":
                return JOB_TEMPLATE_PATH, _dig(self.spec, "jobTemplate", "spec", "template", "spec")
            return TEMPLATE_PATH, _dig(self.spec, "template", "spec")
        for path, keys in GENERIC_POD_SPEC_PLACES:
            spec = _dig(self.spec, *keys)
            if spec.get("containers") is not None:
                return path, spec
        return None

    def pod_spec(self) -> Mapping[str, Any] | None:
        """The (first) pod spec of a workload (CronJob: ``spec.jobTemplate.spec.template.spec``)."""
        specs = self.pod_specs()
        return specs[0][1] if specs else None

    def pod_spec_path(self) -> str:
        specs = self.pod_specs()
        return specs[0][0] if specs else TEMPLATE_PATH


def _nested_pod_specs(value: Any, path: str, depth: int, seen: list[int]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Pod specs under ``template.spec`` anywhere below ``value`` (depth and node count bounded).

    Mock/preview note: a subtree whose value is unknown at preview is skipped here (the walk reads values that
    no rule needs, such as a CRD's unrelated settings, and failing closed on those would block every preview of
    an object with an output in its spec); pod templates at the usual places are read strictly.
    """
    if depth > MAX_NESTING or seen[0] > MAX_NODES:
        return
    seen[0] += 1
    if is_map(value):
        for key in list(value):
            try:
                item = value[key]
                spec = as_map(as_map(item).get("spec")) if key == "template" else {}
                has_containers = spec.get("containers") is not None
            except UnknownValueError:
                continue
            if has_containers:
                yield f"{path}.template.spec", spec
            else:
                yield from _nested_pod_specs(item, f"{path}.{key}", depth + 1, seen)
    elif is_seq(value):
        for i in range(len(value)):
            try:
                item = value[i]
            except UnknownValueError:
                continue
            yield from _nested_pod_specs(item, f"{path}[{i}]", depth + 1, seen)


def _dig(value: Mapping[str, Any], *keys: str) -> Mapping[str, Any]:
    for key in keys:
        value = as_map(value.get(key))
    return value


def containers(pod_spec: Mapping[str, Any]) -> Iterator[tuple[str, int, Mapping[str, Any]]]:
    """(list name, index, container) over init, regular and ephemeral containers."""
    for list_name in CONTAINER_LISTS:
        for i, c in enumerate(as_list(pod_spec.get(list_name))):
            yield list_name, i, as_map(c)


def required_node_terms(pod_spec: Mapping[str, Any]) -> list[Mapping[str, Any]] | None:
    """``requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`` (ORed), or None when absent."""
    node_aff = as_map(as_map(pod_spec.get("affinity")).get("nodeAffinity"))
    required = node_aff.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return None
    terms = as_list(as_map(required).get("nodeSelectorTerms"))
    return [as_map(t) for t in terms]


def term_values(term: Mapping[str, Any], key: str) -> list[tuple[str, list[str]]]:
    """(operator, values) of every matchExpression on ``key`` in one node selector term."""
    out = []
    for expr in as_list(term.get("matchExpressions")):
        e = as_map(expr)
        if text(e.get("key")) == key:
            out.append((text(e.get("operator")), [text(v) for v in as_list(e.get("values"))]))
    return out


# -- containers outside pod templates (RT-17) ----------------------------------------------------------------
MULTUS_NETWORKS = "k8s.v1.cni.cncf.io/networks"
"""Multus: the pod annotation that attaches secondary networks (RT-18)."""
HOST_NAMESPACE_KEYS = ("hostNetwork", "hostPID", "hostIPC")
POD_SPEC_PATCH = "podSpecPatch"
_STRICT_KEYS = frozenset({"image", *HOST_NAMESPACE_KEYS, POD_SPEC_PATCH, MULTUS_NETWORKS, "hostPath"})
"""Keys whose values the loose walk reads through the proxy strictly: unknown at preview fails closed."""


@dataclass
class LooseWorkload:
    """What a kind without a pod template carries that the pod rules judge (Argo Workflow
    ``spec.templates[].container``, Tekton ``spec.steps[]``, ``spec.podTemplate.hostNetwork``...).

    Found by shape, not by kind: every mapping with a string ``image`` is a container; host namespace flags,
    ``hostPath``, ``podSpecPatch`` and the Multus annotation count wherever they sit under ``spec``.
    """

    containers: list[tuple[str, Mapping[str, Any]]]
    host_flags: list[tuple[str, str]]
    """(path of the mapping, key) of every ``hostNetwork``/``hostPID``/``hostIPC: true``."""
    host_paths: list[tuple[str, str]]
    """(path, host path) of every ``hostPath`` mapping."""
    spec_patches: list[str]
    """Paths of non-empty ``podSpecPatch`` values (a patch of the pod spec the pack cannot analyse)."""
    networks: list[tuple[str, str]]
    """(path, value) of every non-empty Multus networks annotation."""

    def __bool__(self) -> bool:
        return bool(self.containers or self.host_flags or self.host_paths or self.spec_patches or self.networks)


def loose_workload(obj: K8sObject) -> LooseWorkload | None:
    """Container-like content of a non-core kind that has no pod template we can find, else None.

    Core kinds are judged by their own rules; kinds with pod templates through ``pod_specs``; built-in kinds that
    never make pods (``sovereign.kube_kinds.PODLESS_BUILTIN_GROUPS``) carry no such content, since the API server
    drops the fields their schema does not define.
    """
    if obj.group in ("", "core") or obj.is_builtin_workload or obj.is_builtin_podless or obj.pod_specs():
        return None
    found = LooseWorkload([], [], [], [], [])
    _walk_loose(obj.spec, "spec", 0, [0], found)
    return found if found else None


def _walk_loose(value: Any, path: str, depth: int, seen: list[int], found: LooseWorkload) -> None:
    """Depth- and size-bounded walk. Mock/preview note: an unknown subtree is skipped (as in
    ``_nested_pod_specs``); the keys in ``_STRICT_KEYS`` are read strictly and fail the rule closed."""
    if depth > MAX_NESTING or seen[0] > MAX_NODES:
        return
    seen[0] += 1
    if is_map(value):
        if isinstance(value.get("image"), str):
            found.containers.append((path, value))
            return
        for key in list(value):
            if key in _STRICT_KEYS:
                item = value[key]
                if key in HOST_NAMESPACE_KEYS and item is True:
                    found.host_flags.append((path, key))
                elif key == POD_SPEC_PATCH and item not in (None, "", {}):
                    found.spec_patches.append(f"{path}.{key}")
                elif key == MULTUS_NETWORKS and text(item).strip():
                    found.networks.append((f"{path}['{key}']", text(item)))
                elif key == "hostPath" and item is not None:
                    found.host_paths.append((f"{path}.{key}", text(as_map(item).get("path"))))
                continue
            try:
                item = value[key]
            except UnknownValueError:
                continue
            _walk_loose(item, f"{path}.{key}", depth + 1, seen, found)
    elif is_seq(value):
        for i in range(len(value)):
            try:
                item = value[i]
            except UnknownValueError:
                continue
            _walk_loose(item, f"{path}[{i}]", depth + 1, seen, found)


# -- pod template metadata (RT-18) ---------------------------------------------------------------------------
_PATH_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def pod_template_metadata(obj: K8sObject, path: str) -> Mapping[str, Any]:
    """The metadata of the pod template whose spec is at ``path`` (``spec`` itself: the object's own)."""
    if path == "spec" or not path.endswith(".spec"):
        return obj.metadata
    value: Any = obj.props
    for key, index in _PATH_TOKEN.findall(path.removesuffix(".spec")):
        if key:
            value = as_map(value).get(key)
        else:
            # index directly: as_list would read (and fail closed on) unknown siblings off the path
            value = value[int(index)] if is_seq(value) and int(index) < len(value) else None
    return as_map(as_map(value).get("metadata"))


def multus_networks(value: str) -> list[str]:
    """Network names of a Multus annotation: ``a, ns/b@eth1`` or a JSON list of ``{"name", "namespace"}``."""
    stripped = value.strip()
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except ValueError:
            return [stripped]
        names = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                ns = f"{item['namespace']}/" if isinstance(item.get("namespace"), str) else ""
                names.append(f"{ns}{item.get('name', '?')}")
        return names or [stripped]
    return [n.strip() for n in stripped.split(",") if n.strip()]
