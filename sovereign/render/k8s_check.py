"""The parts of the Kubernetes provider's ``Check()`` the offline render emulates: autonaming, and marking a
Secret's ``data``/``stringData`` secret.

Why only this: ``Analyze`` and ``preview.json`` see the *checked* inputs (docs/pulumi-runtime.md §2), and
policies key on ``metadata.name``; without it, half the objects would be nameless. A core/v1 Secret's ``data``
and ``stringData`` are marked secret because the provider marks them (pulumi-kubernetes provider.go Check), so
a real preview shows them as ``[secret]`` even when the program passed plain strings; marking them at capture
time means preview.json, the manifests and everything downstream never see the values. Everything else
``Check()`` does is NOT emulated, and differs from a real preview:

* the real suffix is random per URN (pulumi-kubernetes provider/pkg/metadata/naming.go); here it is the first
  8 hex digits of SHA-256(URN), so renders are byte-identical across runs;
* no default namespace is filled in (the manifest *file name* still says ``default``, as renderYamlToDirectory
  does), no managed-by label, no server-side dry run; schema validation is done separately
  (``sovereign.render.schemas``).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Any

from sovereign.kinds.verdict import is_whole_object_kind
from sovereign.render.wire import is_secret, reveal_secrets, secret

AUTONAMED_ANNOTATION = "pulumi.com/autonamed"
KUBERNETES_PACKAGE = "kubernetes"
SECRET_DATA_FIELDS = ("data", "stringData")
"""Fields of a core/v1 Secret whose values the provider treats as secret."""


def is_secret_object(obj: Any) -> bool:
    """A core/v1 Secret (by its own apiVersion/kind, so objects from yaml/CustomResource count too)."""
    return isinstance(obj, dict) and obj.get("apiVersion") == "v1" and obj.get("kind") == "Secret"


def mark_secret_data(inputs: dict[str, Any]) -> dict[str, Any]:
    """A Secret's ``data``/``stringData`` wrapped as secrets (whole values, as the provider wraps them)."""
    if not is_secret_object(inputs):
        return inputs
    marked = dict(inputs)
    for field in SECRET_DATA_FIELDS:
        value = marked.get(field)
        if value is not None and not is_secret(value):
            marked[field] = secret(reveal_secrets(value))
    return marked


def is_kubernetes_object(type_: str, custom: bool, inputs: dict[str, Any]) -> bool:
    """A custom resource of the kubernetes package carrying a whole object (not a Patch, List or Release)."""
    if not custom or not type_.startswith(KUBERNETES_PACKAGE + ":") or type_.startswith("pulumi:providers:"):
        return False
    if not is_whole_object_kind(type_.rsplit(":", 1)[-1]):
        return False
    return isinstance(inputs.get("apiVersion"), str) and isinstance(inputs.get("kind"), str)


def autoname_suffix(urn: str) -> str:
    return hashlib.sha256(urn.encode("utf-8")).hexdigest()[:8]


def check_inputs(type_: str, custom: bool, urn: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Inputs after the emulated ``Check()``: a Secret's data marked secret; ``metadata.name = <name>-<8 hex>``
    plus the autonamed annotation when the program gave no ``metadata.name`` (and no ``generateName``, which
    the provider keeps)."""
    if not is_kubernetes_object(type_, custom, inputs):
        return inputs
    inputs = mark_secret_data(inputs)
    metadata = inputs.get("metadata")
    if is_secret(metadata):
        return inputs  # cannot look inside without revealing it; the real provider would see it
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict) or metadata.get("name") or metadata.get("generateName"):
        return inputs
    checked = copy.deepcopy(inputs)
    new_meta = dict(metadata)
    new_meta["name"] = f"{name}-{autoname_suffix(urn)}"
    annotations = new_meta.get("annotations")
    annotations = dict(annotations) if isinstance(annotations, dict) else {}
    annotations[AUTONAMED_ANNOTATION] = "true"
    new_meta["annotations"] = annotations
    checked["metadata"] = new_meta
    return checked
