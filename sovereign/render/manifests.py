"""Kubernetes objects of a recording, written one file per object as renderYamlToDirectory names them.

``1-manifest/<apiVersion, "/" -> "_">-<kind lowercased>-<namespace or "default">-<name>.yaml``; CRDs go to
``0-crd/`` (docs/pulumi-runtime.md §4). Differences from the provider: secrets are written as ``"[secret]"``
(the provider writes them in plain text), and files are produced at render time, where the provider writes
them only on ``up``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from sovereign.render import wire
from sovereign.render.k8s_check import is_kubernetes_object
from sovereign.render.registration import Registration

CRD_DIR = "0-crd"
MANIFEST_DIR = "1-manifest"
CRD_KIND = "CustomResourceDefinition"


@dataclass(frozen=True)
class Manifest:
    urn: str
    relative_path: str
    obj: dict[str, Any]
    """What is written: secret leaves replaced by ``"[secret]"`` (same shape)."""
    plain: dict[str, Any]
    """The object as the provider would validate it (secrets revealed); kept in memory only."""


class ManifestNameError(ValueError):
    """Two objects would be written to the same file, or an object has no usable name."""


def file_name(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    assert isinstance(meta, dict)
    name = meta.get("name")
    if not isinstance(name, str) or not name or name == wire.UNKNOWN:
        raise ManifestNameError(f"{obj.get('kind')} has no known metadata.name")
    namespace = meta.get("namespace") if isinstance(meta.get("namespace"), str) and meta.get("namespace") else "default"
    api_version = str(obj.get("apiVersion", "")).replace("/", "_")
    subdir = CRD_DIR if obj.get("kind") == CRD_KIND else MANIFEST_DIR
    return f"{subdir}/{api_version}-{str(obj.get('kind', '')).lower()}-{namespace}-{name}.yaml"


def is_manifest(reg: Registration) -> bool:
    """A Kubernetes object the program creates (not a read, a provider, a component or the Stack)."""
    return reg.op == "create" and is_kubernetes_object(reg.type, reg.custom, reg.inputs)


class ManifestCollector:
    """Manifests one registration at a time, as they are recorded; ``collect`` is the batch form."""

    def __init__(self) -> None:
        self._by_path: dict[str, Manifest] = {}

    def add(self, reg: Registration) -> Manifest | None:
        """The manifest of ``reg`` (None if it is not one); ``ManifestNameError`` on a clash or no name."""
        if not is_manifest(reg):
            return None
        obj = wire.redact_secret_leaves(reg.inputs)
        path = file_name(obj)
        if path in self._by_path:
            raise ManifestNameError(f"{reg.urn} and {self._by_path[path].urn} would both be written to {path}")
        manifest = Manifest(urn=reg.urn, relative_path=path, obj=obj, plain=wire.reveal_secrets(reg.inputs))
        self._by_path[path] = manifest
        return manifest

    def manifests(self) -> list[Manifest]:
        """Every manifest so far, sorted by file name."""
        return [self._by_path[p] for p in sorted(self._by_path)]


def collect(registrations: Iterable[Registration]) -> list[Manifest]:
    """Every Kubernetes object the program would create, sorted by file name."""
    collector = ManifestCollector()
    for reg in registrations:
        collector.add(reg)
    return collector.manifests()


_DumperBase: Any = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper


class _NoAliasDumper(_DumperBase):
    """libyaml's emitter where available (about 5x faster, the same bytes); never anchors/aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(obj: Any) -> str:
    """Deterministic YAML: sorted keys, block style, no aliases, unicode kept."""

    return yaml.dump(obj, Dumper=_NoAliasDumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=4096)
