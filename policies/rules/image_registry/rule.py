"""Images come only from registries the jurisdiction allows.

Pulling from a foreign registry makes every node depend on, and report to, a service abroad; pushing the
images there in the first place may itself export code or models. A short name such as ``nginx`` is pulled from
``docker.io`` (the implicit default registry), so it counts as docker.io here.

Containers outside pod templates (RT-17: Argo Workflow ``spec.templates[].container``/``script``/
``containerSet``, Tekton ``steps``/``sidecars``/``stepTemplate``) are found by shape: every mapping with a string
``image`` under the spec of a non-core kind without a pod template (``framework.k8s.loose_workload``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, containers, loose_workload
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, text

DEFAULT_REGISTRY = "docker.io"


def registry_of(image: str) -> str:
    """The registry host of an image reference, port stripped; short names resolve to docker.io."""
    first, sep, _rest = image.partition("/")
    if not sep:
        return DEFAULT_REGISTRY
    if "." in first or ":" in first or first == "localhost":
        host = first.rsplit(":", 1)[0] if first.count(":") == 1 else first
        return host.lower()
    return DEFAULT_REGISTRY


def _allowed(ctx: RuleContext, host: str) -> bool:
    if ctx.jurisdiction.registry_allowed(host):
        return True
    extra = [x for x in as_list(ctx.config.get("extraRegistries")) if isinstance(x, str)]
    return any(host == e.lower() or (e.startswith("*.") and host.endswith(e[1:].lower())) for e in extra)


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    specs = obj.pod_specs()  # any kind with a pod template (RT-8), read before the context is needed
    loose = loose_workload(obj) if not specs else None  # containers outside pod templates (RT-17)
    if not (specs or loose) or not ctx.governed(obj.namespace):
        return
    for path, spec in specs:
        for list_name, i, c in containers(spec):
            yield from _check_image(ctx, obj, f"{path}.{list_name}[{i}]", c)
    if loose:
        for where in loose.spec_patches:
            yield (f"[fail-closed] {obj.ref} sets {where}: a patch of the pod spec (it may replace any image) that "
                   f"the pack cannot analyse, so it is not accepted. Fix: set images in the containers' own fields")
        for where, c in loose.containers:
            yield from _check_image(ctx, obj, where, c)


def _check_image(ctx: RuleContext, obj: K8sObject, where: str, c: Mapping[str, Any]) -> Iterator[str]:
    jur = ctx.jurisdiction
    image = text(c.get("image"))
    host = registry_of(image) if image else ""
    if not image:
        yield f"{obj.ref} {where} has no image: the node's default registry would decide"
    elif not _allowed(ctx, host):
        implicit = " (implicit default registry of a short name)" if host == DEFAULT_REGISTRY and \
            not image.startswith("docker.io/") else ""
        yield (f"{obj.ref} pulls {image} from {host}{implicit}, a registry not allowed in {jur.id} "
               f"({where}); allowed: {', '.join(jur.registries)}")


RULE = ResourceRule(
    id="image-registry-allowed",
    protects="Container images are pulled only from registries allowed in the jurisdiction (docker.io is the "
    "implicit default of short names).",
    remediation="mirror the image into an allowed registry and reference it by its full registry host",
    severity="medium",
    check=check,
    config={
        "extraRegistries": {
            "type": "array",
            "items": {"type": "string"},
            "description": "Registry hosts allowed besides the catalog's (``*.`` prefix globs allowed).",
        },
        "excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA,
    },
)
