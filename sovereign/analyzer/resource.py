"""Resources as the engine hands them to an analyzer: type token, URN, name and properties.

Until the render capture exists for a source, plain Kubernetes manifests are turned into resources the way
pulumi-kubernetes names them (``kubernetes:<group>/<version>:<Kind>``; the core group is ``core``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.kinds.tokens import type_token

PROJECT = "sovereign-clusters"


def urn_for(stack: str, type_: str, name: str, *, project: str = PROJECT) -> str:
    """Engine-form URN of a resource registered at the top level of the stack (no parent type chain)."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


@dataclass(frozen=True)
class AnalyzerResource:
    """One resource of a preview: what ``Analyze`` (inputs) and ``AnalyzeStack`` (outputs) receive."""

    type: str
    name: str
    urn: str
    props: Mapping[str, Any]
    parent: str = ""
    dependencies: Sequence[str] = ()
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)
    provider_urn: str = ""
    provider_type: str = ""
    provider_props: Mapping[str, Any] = field(default_factory=dict)
    plain: bool = False
    """The reader found no placeholder of an unknown value in ``props`` (False: not known, the pack looks)."""


def _manifest_name(manifest: Mapping[str, Any]) -> str:
    meta = manifest.get("metadata")
    if not isinstance(meta, Mapping):
        meta = {}
    name = meta.get("name")
    namespace = meta.get("namespace")
    base = str(name) if isinstance(name, str) and name else str(manifest.get("kind", "resource")).lower()
    return f"{namespace}/{base}" if isinstance(namespace, str) and namespace else base


def resource_from_manifest(
    manifest: Mapping[str, Any], *, stack: str, name: str | None = None, project: str = PROJECT, plain: bool = False
) -> AnalyzerResource:
    """A Kubernetes manifest dict as an analyzer resource; the name defaults to ``<namespace>/<name>``.

    Mock/offline difference: the engine would pass the inputs after the provider's Check() (autonamed
    ``metadata.name`` and default namespace); a manifest is taken as-is.
    """
    api_version = manifest.get("apiVersion")
    kind = manifest.get("kind")
    if not isinstance(api_version, str) or not api_version or not isinstance(kind, str) or not kind:
        raise ValueError("a Kubernetes manifest needs string apiVersion and kind")
    token = type_token(api_version, kind)
    res_name = name or _manifest_name(manifest)
    return AnalyzerResource(
        type=token, name=res_name, urn=urn_for(stack, token, res_name, project=project), props=manifest, plain=plain
    )
