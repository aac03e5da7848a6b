"""Kubernetes objects of a recording, written one file per object as renderYamlToDirectory names them.

``1-manifest/<apiVersion, "/" -> "_">-<kind lowercased>-<namespace or "default">-<name>.yaml``; CRDs go to
``0-crd/`` (pulumi-runtime.md §4). Differences from the provider: secrets are written as ``"[secret]"``
(the provider writes them in plain text), and files are produced at render time, where the provider writes
them only on ``up``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from sovereign.render import wire
from sovereign.render.k8s_check import is_kubernetes_object

if TYPE_CHECKING:  # the CLI parent imports this module for writing only; the recorder pulls in the Pulumi SDK
    from sovereign.render.recorder import Registration

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


def collect(registrations: Iterable[Registration]) -> list[Manifest]:
    """Every Kubernetes object the program would create, sorted by file name."""
    out: dict[str, Manifest] = {}
    for reg in registrations:
        if reg.op != "create" or not is_kubernetes_object(reg.type, reg.custom, reg.inputs):
            continue
        obj = wire.redact_secret_leaves(reg.inputs)
        path = file_name(obj)
        if path in out:
            raise ManifestNameError(f"{reg.urn} and {out[path].urn} would both be written to {path}")
        out[path] = Manifest(urn=reg.urn, relative_path=path, obj=obj, plain=wire.reveal_secrets(reg.inputs))
    return [out[p] for p in sorted(out)]


_DumperBase: Any = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper


class _NoAliasDumper(_DumperBase):
    """libyaml's emitter where available (about 5x faster, the same bytes); never anchors/aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump_yaml(obj: Any) -> str:
    """Deterministic YAML: sorted keys, block style, no aliases, unicode kept."""

    return yaml.dump(obj, Dumper=_NoAliasDumper, sort_keys=True, default_flow_style=False, allow_unicode=True,
                     width=4096)
