"""Operators, secret stores and other resources send data only to destinations inside the jurisdiction.

Many kinds move data out of the pods on their own, through fields the network policies never see: an operator's
backups and WAL archive (CloudNativePG, Crunchy PGO), remote write of metrics (Prometheus), replication of a Kafka
cluster (MirrorMaker 2), model storage (KServe), checkpoints (Flink), deployment into another cluster (Argo CD),
and secret stores that hold or receive the cluster's secrets (external-secrets stores and pushes, the Secrets
Store CSI driver's provider classes). The registry of kinds lists, per kind, the fields that name where
(``destinations``, read by ``sovereign.kinds.paths``) and the references to other objects that hold the
destination; this rule places each destination through the catalog (``framework.destinations``). A destination
that cannot be placed (a bucket without an endpoint or region, a value held in a Secret, an unresolved reference)
is a violation, never a pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml

from policies.framework.context import RuleContext
from policies.framework.destinations import (
    OBJECT_STORE_SCHEMES,
    Place,
    is_object_store,
    place_endpoint,
    place_region,
    place_url,
    url_scheme,
)
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, Finding, StackRule
from policies.framework.values import as_list, as_map, text
from sovereign.kinds.paths import join, resolve
from sovereign.kinds.registry import Destination, Reference

ROLE = "data-destination"
SECRET_PROVIDER_CLASS = ("secrets-store.csi.x-k8s.io", "SecretProviderClass")


def _values(holder: Any, names: Sequence[str], literal: bool, base: str) -> list[tuple[str, str]]:
    out = []
    for name in names:
        if literal:
            if isinstance(holder, Mapping) and name in holder and holder[name] is not None:
                out.append((f"{base}['{name}']", text(holder[name])))
            continue
        for where, value in resolve(holder, name, base):
            items = as_list(value) if isinstance(value, list | tuple) else [value]
            out.extend((where, text(v)) for v in items if text(v).strip())
    return [(w, v.strip()) for w, v in out if v.strip()]


def _judge(ctx: RuleContext, obj: K8sObject, d: Destination, where: str, holder: Any) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    held = [(p, v) for p, v in _values(holder, d.held_in, d.literal_keys, where) if v not in d.local_values]
    for path, ref in held:
        yield (f"{obj.ref} sends {d.what} to a destination held in {ref} ({path}), which the checker cannot read: it "
               f"cannot be shown to stay in {jur}. Fix: name the destination in the object (endpoint and region), or "
               f"exempt it after review")
    urls = _values(holder, d.url, d.literal_keys, where)
    endpoints = _values(holder, d.endpoint, d.literal_keys, where) + _values(holder, d.host, d.literal_keys, where)
    urls = [(p, v) for p, v in urls if v not in d.local_values]
    for path, value in _values(holder, d.hosts, d.literal_keys, where):
        endpoints.extend((path, part.strip()) for part in value.split(",") if part.strip())
    regions = _values(holder, d.region, d.literal_keys, where)
    if not urls and "url" in d.defaults:
        urls.append((f"{where} (unset: the default {d.defaults['url']})", d.defaults["url"]))
    if not endpoints and "endpoint" in d.defaults:
        endpoints.append((f"{where} (unset: the default {d.defaults['endpoint']})", d.defaults["endpoint"]))
    if not regions and "region" in d.defaults:
        regions.append((f"{where} (unset: the default {d.defaults['region']})", d.defaults["region"]))
    if not (urls or endpoints or regions or held):
        if d.unset_means:
            yield (f"{obj.ref} sends {d.what} ({where}) without naming where: {d.unset_means}, so it cannot be shown "
                   f"to stay in {jur}")
        return
    for path, value in endpoints:
        yield from _report(obj, d, path, value, place_endpoint(ctx, value), jur)
    family = d.provider
    for path, value in urls:
        scheme = url_scheme(value)
        if is_object_store(value):
            family = family or OBJECT_STORE_SCHEMES[scheme]
            if endpoints or regions:
                continue  # placed by the endpoint or region beside it
        yield from _report(obj, d, path, value, place_url(ctx, value), jur)
    for path, value in regions:
        yield from _report(obj, d, path, value, place_region(ctx, value, family), jur)


def _report(obj: K8sObject, d: Destination, path: str, value: str, place: Place, jur: str) -> Iterator[str]:
    if place.inside is None:
        yield (f"{obj.ref} sends {d.what} to {value} ({path}), which cannot be placed: {place.where}; it cannot be "
               f"shown to stay in {jur}")
    elif not place.inside:
        yield f"{obj.ref} sends {d.what} to {value} ({path}), which lies in {place.where}, outside {jur}"


def _references(obj: K8sObject, refs: Sequence[Reference], index: Mapping[tuple[str, str, str], K8sObject],
                jur: str) -> Iterator[str]:
    for ref in refs:
        for where, value in resolve(obj.props, ref.at):
            if isinstance(value, Mapping):
                name_path = ref.name
                names = [text(v) for _w, v in resolve(value, name_path)]
                kinds = [text(v) for _w, v in resolve(value, ref.kind)] if ref.kind else []
            else:
                names, kinds = [text(value)], []
            kind = kinds[0] if kinds and kinds[0] else ref.kinds[0]
            for name in [n for n in names if n]:
                if kind not in ref.kinds:
                    yield (f"{obj.ref} {where} names a {kind}, which is not a kind the checker can resolve here "
                           f"({', '.join(ref.kinds)}): where {ref.what or 'the data'} goes cannot be shown to stay in "
                           f"{jur}")
                    continue
                target = index.get((kind, obj.namespace, name)) or index.get((kind, "", name))
                if target is None:
                    yield (f"{obj.ref} sends {ref.what or 'data'} through {kind} {name} ({where}), which is not among "
                           f"the checked objects: where it goes cannot be shown to stay in {jur}. Fix: check it "
                           f"together with the {kind}")


def _closed_maps(obj: K8sObject, paths: Sequence[str], destinations: Sequence[Destination],
                 jur: str) -> Iterator[str]:
    """Every key of a closed map (a secret store's ``spec.provider``) must be one a destination reads."""
    for path in paths:
        known = {d.at[len(path) + 1:].split(".", 1)[0] for d in destinations if d.at.startswith(path + ".")}
        for where, mapping in resolve(obj.props, path):
            for key in as_map(mapping):
                if key not in known:
                    yield (f"{obj.ref} {join(where, str(key))} names a destination kind the checker does not read, so "
                           f"where it sends or keeps data cannot be shown to stay in {jur}. Fix: use a provider the "
                           f"registry of kinds reads, or exempt it after review")


def _secret_provider_class(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """Secrets Store CSI: the provider's parameters (strings, some holding YAML) say where the secrets live."""
    jur = ctx.jurisdiction.id
    spec = obj.spec
    provider = text(spec.get("provider"))
    params = as_map(spec.get("parameters"))
    what = "secrets it mounts into pods"
    d = Destination(at="spec.parameters", what=what)
    if provider == "aws":
        for key in ("region", "failoverRegion"):
            value = text(params.get(key))
            if value:
                yield from _report(obj, d, f"spec.parameters.{key}", value, place_region(ctx, value, "aws"), jur)
    elif provider == "azure":
        cloud = text(params.get("cloudName")) or "AzurePublicCloud"
        yield (f"{obj.ref} reads {what} from Azure Key Vault {text(params.get('keyvaultName')) or '?'} "
               f"({cloud}): a vault's region is a property of the vault, not of this object, so it cannot be shown "
               f"to stay in {jur}. Fix: exempt it after checking the vault's region")
    elif provider == "gcp":
        try:
            secrets = yaml.safe_load(text(params.get("secrets")) or "[]")
        except yaml.YAMLError:
            secrets = None
        if not isinstance(secrets, list):
            yield (f"{obj.ref} spec.parameters.secrets cannot be read (not a YAML list): it cannot be shown to stay in "
                   f"{jur}")
            return
        for i, item in enumerate(secrets):
            name = text(as_map(item).get("resourceName"))
            parts = name.split("/")
            if "locations" in parts and parts.index("locations") + 1 < len(parts):
                region = parts[parts.index("locations") + 1]
                yield from _report(obj, d, f"spec.parameters.secrets[{i}].resourceName", name,
                                   place_region(ctx, region, "gcp"), jur)
            else:
                yield (f"{obj.ref} reads {what} from the global Google Secret Manager secret {name or '?'} "
                       f"(spec.parameters.secrets[{i}]): a global secret's replication policy decides where it lives, "
                       f"so it cannot be shown to stay in {jur}. Fix: use a regional secret "
                       f"(projects/<p>/locations/<region>/secrets/<s>)")
    elif provider == "vault":
        address = text(params.get("vaultAddress"))
        if address:
            yield from _report(obj, d, "spec.parameters.vaultAddress", address, place_endpoint(ctx, address), jur)
        else:
            yield (f"{obj.ref} reads {what} from the Vault server configured in the provider's own flags "
                   f"(spec.parameters.vaultAddress unset): it cannot be shown to stay in {jur}")
    else:
        yield (f"{obj.ref} uses the Secrets Store CSI provider {provider or '(none)'}, which the checker does not "
               f"read: where its secrets live cannot be shown to stay in {jur}")


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    index = {(o.kind, o.namespace, o.name): o for o in objects}
    jur = ctx.jurisdiction.id
    for obj in objects:
        entry = obj.entry
        if entry is None or ROLE not in entry.roles:
            continue
        if obj.namespace and not ctx.governed(obj.namespace):
            continue
        messages: list[str] = []
        if (obj.group, obj.kind) == SECRET_PROVIDER_CLASS:
            messages.extend(_secret_provider_class(ctx, obj))
        for d in entry.destinations:
            for where, holder in resolve(obj.props, d.at):
                messages.extend(_judge(ctx, obj, d, where, holder))
        messages.extend(_references(obj, entry.references, index, jur))
        messages.extend(_closed_maps(obj, entry.closed_maps, entry.destinations, jur))
        for message in messages:
            yield Finding(message, obj.urn)


RULE = StackRule(
    id="data-destination-in-jurisdiction",
    protects="Operators' data destinations (backups and WAL archives, remote write, replication, model storage, "
    "deployment targets) and external secret stores lie in the jurisdiction; a destination that cannot be placed "
    "fails closed.",
    remediation="point the destination at an endpoint or region inside the jurisdiction (or the cluster), name the "
    "endpoint and region beside a bucket URL, or exempt it after review",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
