"""Validate rendered Kubernetes objects: built-in kinds against the OpenAPI schemas of the cluster's
Kubernetes version (``kubernetes-validate``, strict: unknown fields are errors), our custom resources
against the vendored CRD schemas in ``crd_schemas/``.

Why: mock mode has no provider ``Check()`` and no API server, so an invalid manifest would otherwise pass a
render silently and fail only at ``pulumi up`` (docs/pulumi-runtime.md §5.2).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
from kubernetes_validate import utils as kubernetes_validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

CRD_SCHEMA_DIR = Path(__file__).resolve().parent / "crd_schemas"
UNKNOWN_SCOPE = "Unknown"


@dataclass(frozen=True)
class SchemaProblem:
    """One validation failure of one object (the first per object for built-in kinds; all for CRDs)."""

    path: str
    """Where in the object, like ``spec.egress[0].to[1]``."""
    message: str


def _crd_file_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group}_{version}_{kind.lower()}.json"


@functools.cache
def crd_registry() -> Registry:
    resources = []
    for path in sorted(CRD_SCHEMA_DIR.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents, default_specification=DRAFT202012)))
    registry: Registry = Registry().with_resources(resources)
    return registry


@functools.cache
def crd_schema(api_version: str, kind: str) -> dict[str, Any] | None:
    path = CRD_SCHEMA_DIR / _crd_file_name(api_version, kind)
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def crd_scope(api_version: str, kind: str) -> str:
    """``Namespaced`` / ``Cluster`` for the custom resources we know, else ``Unknown``."""
    schema = crd_schema(api_version, kind)
    return str(schema.get("x-sovereign-scope", UNKNOWN_SCOPE)) if schema else UNKNOWN_SCOPE


def _json_path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(object)"


@functools.cache
def supported_versions() -> tuple[str, ...]:
    """``MAJOR.MINOR`` versions kubernetes-validate ships schemas for, oldest first."""
    seen: dict[str, None] = {}
    for version in kubernetes_validate.all_versions():
        seen.setdefault(kubernetes_validate.major_minor(version), None)
    return tuple(seen)


def validate_object(obj: dict[str, Any], kubernetes_version: str) -> list[SchemaProblem]:
    """Problems of one object; an unknown kind is itself a problem (nothing may go unvalidated)."""
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if not isinstance(api_version, str) or not isinstance(kind, str):
        return [SchemaProblem("(object)", "apiVersion and kind must be strings")]
    if crd_schema(api_version, kind) is not None:
        validator = _crd_validator(api_version, kind)
        errors = sorted(validator.iter_errors(obj), key=lambda e: (list(map(str, e.absolute_path)), e.message))
        return [SchemaProblem(_json_path(e.absolute_path), e.message) for e in errors]
    if kubernetes_validate.major_minor(kubernetes_version.removeprefix("v")) not in supported_versions():
        return [
            SchemaProblem(
                "(object)",
                f"Kubernetes {kubernetes_version} is not supported by kubernetes-validate "
                f"(available: {', '.join(supported_versions())})",
            )
        ]
    try:
        validator = _builtin_validator(
            kubernetes_validate.major_minor(kubernetes_version.removeprefix("v")), api_version, kind
        )
    except FileNotFoundError:
        return [
            SchemaProblem(
                "(object)",
                f"no schema for {api_version} {kind} in Kubernetes {kubernetes_version} "
                "or in sovereign/render/crd_schemas",
            )
        ]
    error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
    return [SchemaProblem(_json_path(error.absolute_path), error.message)] if error is not None else []


@functools.cache
def _schema_dir(major_minor: str) -> str:
    """kubernetes-validate's strict schema directory for a ``MAJOR.MINOR`` (its newest patch level)."""
    full = [v for v in kubernetes_validate.all_versions() if kubernetes_validate.major_minor(v) == major_minor]
    return f"kubernetes-json-schema/v{full[-1]}-local-strict"


@functools.cache
def _crd_validator(api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    schema = crd_schema(api_version, kind)
    assert schema is not None
    return jsonschema.Draft202012Validator(schema, registry=crd_registry())


@functools.cache
def builtin_schema(major_minor: str, api_version: str, kind: str) -> tuple[dict[str, Any], Registry]:
    """The schema ``kubernetes_validate.validate(strict=True)`` uses for a kind, and the registry holding the
    definitions it refers to (raises FileNotFoundError for a kind kubernetes-validate does not know)."""
    directory = _schema_dir(major_minor)
    api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    schema = kubernetes_validate.schema_contents(f"{directory}/{kind.lower()}-{api}.json", major_minor)
    return schema, _registry_with(major_minor, schema)


@functools.cache
def _builtin_validator(major_minor: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """The validator ``kubernetes_validate.validate(strict=True)`` builds, built once per kind (that function
    re-reads the 1.5 MB definitions file for every object)."""
    schema, registry = builtin_schema(major_minor, api_version, kind)
    return jsonschema.Draft202012Validator(schema, registry=registry)


@functools.cache
def _builtin_definitions(major_minor: str) -> Resource:
    return Resource.from_contents(
        kubernetes_validate.schema_contents(f"{_schema_dir(major_minor)}/_definitions.json", major_minor)
    )


def _registry_with(major_minor: str, schema: dict[str, Any]) -> Registry:
    registry: Registry = Resource.from_contents(schema) @ Registry()
    return _builtin_definitions(major_minor) @ registry
