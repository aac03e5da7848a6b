"""Images come only from registries the jurisdiction allows.

Pulling from a foreign registry makes every node depend on, and report to, a service abroad; pushing the
images there in the first place may itself export code or models. A short name such as ``nginx`` is pulled from
``docker.io`` (the implicit default registry), so it counts as docker.io here.

Images are read wherever the kind keeps them (the registry of kinds: every container list, operators' image
fields such as Prometheus ``spec.image`` or CloudNativePG ``spec.imageName``) and from image volumes
(``volumes[].image.reference``, an OCI image mounted as a volume). In a kind the registry does not know, every
mapping with a string ``image`` under ``spec`` is a container (``sovereign.kinds.shapes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject, PodShape
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text

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
    shapes = obj.pod_shapes()  # read before the context is needed
    loose = obj.loose() if not shapes else None  # containers outside pod templates (RT-17)
    if not (shapes or loose) or not ctx.governed(obj.namespace):
        return
    for shape in shapes:
        yield from _check_shape(ctx, obj, shape)
    if loose:
        for where in loose.spec_patches:
            yield _patch(obj, where)
        for where, c in loose.containers:
            yield from _check_image(ctx, obj, f"{where}.image", c.get("image"))


def _patch(obj: K8sObject, where: str) -> str:
    return (f"[fail-closed] {obj.ref} sets {where}: a patch of the pod spec (it may replace any image) that the "
            f"pack cannot analyse, so it is not accepted. Fix: set images in the containers' own fields")


def _check_shape(ctx: RuleContext, obj: K8sObject, shape: PodShape) -> Iterator[str]:
    for where, image in shape.images():
        if image is None and (shape.location.patches or shape.image_supplied_elsewhere(where)):
            continue  # the operator's own container, or a serving runtime's: its image is judged where it is set
        yield from _check_image(ctx, obj, where, image)
    volumes_path, volumes = shape.get("volumes")
    for i, volume in enumerate(as_list(volumes)):
        source = as_map(volume).get("image")
        if source is not None:
            yield from _check_image(ctx, obj, f"{volumes_path}[{i}].image.reference",
                                    as_map(source).get("reference"), what="mounts the image volume")
    patch_path, patch = shape.get("podSpecPatch")
    if patch not in (None, "", {}):
        yield _patch(obj, patch_path)


def _check_image(ctx: RuleContext, obj: K8sObject, where: str, value: Any, what: str = "pulls") -> Iterator[str]:
    jur = ctx.jurisdiction
    image = text(value)
    host = registry_of(image) if image else ""
    if not image:
        yield f"{obj.ref} {where} has no image: the node's default registry (or the operator's default) would decide"
    elif not _allowed(ctx, host):
        implicit = " (implicit default registry of a short name)" if host == DEFAULT_REGISTRY and \
            not image.startswith("docker.io/") else ""
        yield (f"{obj.ref} {what} {image} from {host}{implicit}, a registry not allowed in {jur.id} "
               f"({where.removesuffix('.image')}); allowed: {', '.join(jur.registries)}")


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
