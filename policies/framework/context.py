"""What every rule needs to know: the jurisdiction, the cluster, the catalog, the evaluation time.

Sources, in the pack process as the CLI starts it (docs/pulumi-runtime.md §2):
* the stack's config, from ``pulumi.Config("sovereign-clusters")`` (the language host passes it in
  ``PULUMI_CONFIG``). A full stack config is validated with the stack loader; ``sovereign check --manifests``
  passes only ``jurisdiction`` (and optionally ``cluster``), which is tolerated. No jurisdiction: fail closed;
* the catalog: ``$SOVEREIGN_CATALOG`` (the CLI's ``--catalog``) or the project's public layer, merged with the
  organisation file ``$SOVEREIGN_ORGANISATION`` (the CLI's ``--organisation``), else the project's
  ``organisation.yaml``, else the example (sovereign.core.paths.organisation_file);
* the evaluation time: the policy's ``at`` config property, else ``sovereign.core.clock.evaluation_time()``;
* the Pulumi CLI's own facts of a full stack (backend, secrets provider: ``sovereign.stackconfig.pulumi_files``),
  from the project's ``Pulumi.yaml`` and ``Pulumi.<stack>.yaml`` and ``$PULUMI_BACKEND_URL``.

Everything is loaded lazily on first use and cached per process, so pack start-up stays fast.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovereign.core.errors import InputError
from sovereign.core.labels import CONFIG_NAMESPACE
from sovereign.core.paths import CATALOG_ENV, ORGANISATION_ENV

if TYPE_CHECKING:
    # Type names only: importing these packages pulls in their loaders (jsonschema, YAML), which the pack
    # must not pay for at start-up.
    from sovereign.catalog.model import Catalog, IPNetwork, Jurisdiction
    from sovereign.stackconfig.model import CniConfig, StackConfig, Transfer

PARTIAL_KEYS = frozenset({"jurisdiction", "cluster"})


class ContextError(Exception):
    """The pack cannot tell which jurisdiction / cluster it judges: every rule fails closed with this."""


@dataclass(frozen=True)
class ClusterView:
    """The cluster as far as the config tells (partial config: only what is given)."""

    provider: str | None = None
    providers: tuple[str, ...] = ()
    """Without a provider: the providers the input shows (``sovereign check --manifests``); they narrow which
    provider's region a region id can be."""
    regions: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    cidrs: tuple[IPNetwork, ...] = ()
    cni: CniConfig | None = None


@dataclass(frozen=True)
class StackView:
    stack: str
    jurisdiction: Jurisdiction
    catalog: Catalog
    cluster: ClusterView
    config: StackConfig | None = None
    """The full, validated stack config; None under partial config (``sovereign check --manifests``)."""

    @property
    def transfers(self) -> tuple[Transfer, ...]:
        return self.config.transfers if self.config else ()

    def allowed_regions(self) -> tuple[str, ...]:
        """Regions workloads may run in: the jurisdiction's regions for the cluster's provider (narrowed to the
        cluster's configured regions when given); without a provider, the jurisdiction's regions on any
        provider."""
        jur = self.jurisdiction
        if self.cluster.provider:
            regions = jur.regions_for(self.cluster.provider)
        else:
            regions = tuple(sorted({r for rs in jur.regions.values() for r in rs}))
        if self.cluster.regions:
            regions = tuple(r for r in regions if r in self.cluster.regions)
        return regions

    def region_verdict(self, region: str) -> tuple[bool | None, str]:
        """Whether pods or data placed in ``region`` stay in the jurisdiction: (True, ...) inside, (False, where it
        is) outside, (None, why) when the region id names places in different countries at different providers
        and the cluster's provider is not known (``eu-west-1`` is Ireland at aws, London at alibaba): the caller
        fails closed. A provider given in the config (or found in the input by ``sovereign check``) decides."""
        jur, catalog = self.jurisdiction, self.catalog
        if self.cluster.provider:
            if region in self.allowed_regions():
                return True, f"region {region} ({self.cluster.provider})"
            known = catalog.provider(self.cluster.provider)
            if known is not None and known.region(region) is not None:
                other = catalog.jurisdiction_of_region(known.id, region)
                return False, f"region {region} ({known.id}, {other.id if other else known.regions[region].country})"
            elsewhere = sorted(f"{p.id}: {p.regions[region].country}" for p in catalog.providers.values()
                               if p.region(region) is not None)
            return False, (f"region {region} (not a region of {self.cluster.provider}"
                           f"{'; ' + ', '.join(elsewhere) if elsewhere else ''})")
        holders = sorted((p for p in catalog.providers.values() if p.region(region) is not None
                          and (not self.cluster.providers or p.id in self.cluster.providers)), key=lambda p: p.id)
        if not holders:
            return False, f"region {region} (no provider of the catalog has it)"
        inside = {p.id: region in jur.regions_for(p.id) for p in holders}
        narrowed = not self.cluster.regions or region in self.cluster.regions
        if all(inside.values()):
            return (narrowed, f"region {region}" if narrowed else f"region {region} (not a region of this cluster)")
        if not any(inside.values()):
            first = holders[0]
            other = catalog.jurisdiction_of_region(first.id, region)
            country = other.id if other else first.regions[region].country
            return False, f"region {region} ({first.id}, {country})"
        places = "; ".join(f"{p.id}: {p.regions[region].name} ({p.regions[region].country}, "
                           f"{'in' if inside[p.id] else 'not in'} {jur.id})" for p in holders)
        return None, (f"region {region} is ambiguous ({places}) and the cluster's provider is not known: set "
                      f"cluster.provider in the stack config (or `sovereign check --provider`), or include objects "
                      f"that show the provider (a StorageClass provisioner)")

    def allowed_zones(self) -> tuple[str, ...]:
        if self.cluster.provider:
            zones = self.catalog.zones_for(self.jurisdiction.id, self.cluster.provider)
        else:
            zones = tuple(
                sorted({z for p in self.jurisdiction.regions for z in self.catalog.zones_for(self.jurisdiction.id, p)})
            )
        if self.cluster.zones:
            zones = tuple(z for z in zones if z in self.cluster.zones)
        return zones


@dataclass(frozen=True)
class RuleContext:
    """One rule's view: the stack plus that rule's policy config."""

    stack: StackView
    config: Mapping[str, Any] = field(default_factory=dict)
    now: datetime | None = None
    """The evaluation time the caller fixed (``sovereign check``); None: ``$SOVEREIGN_AT``, else now."""

    @property
    def jurisdiction(self) -> Jurisdiction:
        return self.stack.jurisdiction

    @property
    def catalog(self) -> Catalog:
        return self.stack.catalog

    @property
    def at(self) -> datetime:
        from sovereign.core.clock import evaluation_time, parse_instant

        raw = self.config.get("at")
        if isinstance(raw, str) and raw:
            return parse_instant(raw, source="policy config", key_path=("at",))
        return self.now if self.now is not None else evaluation_time()

    def excluded_namespaces(self) -> frozenset[str]:
        """The rule's configured ``excludedNamespaces``: an explicit choice of the organisation. No namespace is
        excluded by default, ``kube-system`` included (docs/policies.md, "System namespaces")."""
        extra = self.config.get("excludedNamespaces")
        names = [x for x in extra if isinstance(x, str)] if isinstance(extra, list | tuple) else []
        return frozenset(names)

    def governed(self, namespace: str) -> bool:
        """Every namespace except the rule's configured exclusions (unset = ``default``)."""
        return (namespace or "default") not in self.excluded_namespaces()


# --------------------------------------------------------------------------------------------- loading
_override: Mapping[str, Any] | None = None
_override_stack: str | None = None
_cache: dict[tuple[Any, ...], StackView] = {}
_last: list[Any] = []
"""[key, view] of the latest lookup: the common case (same stack, call after call) costs one comparison."""


@contextlib.contextmanager
def stack_values_override(values: Mapping[str, Any], *, stack: str = "dev") -> Iterator[None]:
    """In-process tests: use these ``{"sovereign-clusters:<key>": value}`` instead of ``pulumi.Config``."""
    global _override, _override_stack
    previous = (_override, _override_stack)
    _override, _override_stack = dict(values), stack
    _cache.clear()
    _last.clear()
    try:
        yield
    finally:
        _override, _override_stack = previous
        _cache.clear()
        _last.clear()


def _config_values() -> dict[str, Any]:
    """Unprefixed key -> parsed value, for the keys the stack schema defines (None = not set): the override of
    the in-process tests, else the pack process's ``pulumi.Config``."""
    from sovereign.stackconfig.loader import config_keys

    keys = config_keys()
    if _override is not None:
        prefix = CONFIG_NAMESPACE + ":"
        raw = {k[len(prefix):]: v for k, v in _override.items() if k.startswith(prefix)}
        values: dict[str, Any] = {}
        for key in keys:
            value = raw.get(key)
            if isinstance(value, str) and key != "jurisdiction" and value[:1] in "[{":
                value = json.loads(value)
            values[key] = value
        return _credential_flag(values)
    import pulumi

    cfg = pulumi.Config(CONFIG_NAMESPACE)
    return config_values({key: cfg.get(key) for key in keys})


def config_values(raw: Mapping[str, str | None]) -> dict[str, Any]:
    """Stack config values as ``pulumi.Config.get_object`` reads them (JSON where the text is JSON, else the
    text), keyed without the namespace; ``kubeconfig`` is a credential: only whether it is set is kept."""
    from sovereign.stackconfig.loader import config_keys

    values: dict[str, Any] = {}
    for key in config_keys():
        text = raw.get(key)
        if text is None or key == "kubeconfig":
            values[key] = None if text is None else True
            continue
        try:
            values[key] = json.loads(text)
        except ValueError:  # not JSON: a plain string value
            values[key] = text
    return _credential_flag(values)


def config_from_environment_shape(config: Mapping[str, str]) -> dict[str, Any]:
    """``config_values`` of a ``PULUMI_CONFIG``-shaped mapping (``"sovereign-clusters:<key>"`` -> text), as the
    language host hands it to the pack process."""
    prefix = CONFIG_NAMESPACE + ":"
    return config_values({k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)})


def _credential_flag(values: dict[str, Any]) -> dict[str, Any]:
    if values.get("kubeconfig") not in (None, True, False):
        values["kubeconfig"] = True
    return values


def _catalog(path: Path | None) -> Catalog:
    from sovereign.catalog import default_catalog, load_catalog

    return load_catalog(path) if path else default_catalog()


def _partial_cluster(raw: Any, jur: Jurisdiction, catalog: Catalog) -> ClusterView:
    if raw is None:
        return ClusterView()
    if not isinstance(raw, Mapping):
        raise ContextError(f"config sovereign-clusters:cluster must be an object, found {type(raw).__name__}")
    from policies.framework.addresses import parse_network

    provider = raw.get("provider")
    if provider is not None and (not isinstance(provider, str) or catalog.provider(provider) is None):
        raise ContextError(f"config sovereign-clusters:cluster.provider {provider!r} is not a catalog provider")
    shown = tuple(str(p) for p in raw.get("providers") or ())
    unknown = [p for p in shown if catalog.provider(p) is None]
    if unknown:
        raise ContextError(f"config sovereign-clusters:cluster.providers names providers the catalog lacks: {unknown}")
    regions = tuple(str(r) for r in raw.get("regions") or ())
    zones = tuple(str(z) for z in raw.get("zones") or ())
    cidrs = []
    for key in ("podCidrs", "serviceCidrs"):
        for text in raw.get(key) or ():
            net = parse_network(str(text))
            if net is None:
                raise ContextError(f"config sovereign-clusters:cluster.{key} has an invalid CIDR {text!r}")
            cidrs.append(net)
    return ClusterView(provider=provider, providers=shown, regions=regions, zones=zones, cidrs=tuple(cidrs))


_environb: Any = getattr(os, "environb", None)
"""The process environment as bytes (POSIX): the same table as ``os.environ``, read without decoding."""


def _raw_env(name: str) -> bytes | str:
    if _environb is not None:
        return bytes(_environb.get(name.encode(), b""))
    return os.environ.get(name, "")


def load_stack_view() -> StackView:
    """The stack this pack process judges (cached); ``ContextError`` when it cannot be determined."""
    # Every rule call asks, so the key must be cheap: the variables' raw bytes are compared, never decoded (the
    # config is kilobytes); an override dict is identified by identity (entering or leaving one clears the cache).
    key = (id(_override) if _override is not None else None,
           (_override_stack or "") if _override is not None else _raw_env("PULUMI_STACK"),
           _raw_env("PULUMI_CONFIG"), _raw_env(CATALOG_ENV), _raw_env(ORGANISATION_ENV),
           _raw_env("PULUMI_BACKEND_URL"))
    if _last and _last[0] == key:
        return _last[1]
    cached = _cache.get(key)
    if cached is not None:
        _last[:] = [key, cached]
        return cached
    stack_name = (_override_stack or "") if _override is not None else os.environ.get("PULUMI_STACK", "")
    path = os.environ.get(CATALOG_ENV)
    view = stack_view(_config_values(), stack_name, Path(path) if path else None)
    _cache[key] = view
    _last[:] = [key, view]
    return view


def stack_view(values: Mapping[str, Any], stack_name: str, catalog_path: Path | None = None) -> StackView:
    """The stack view of these config values (``config_values``): ``ContextError`` when the jurisdiction, the
    catalog or the stack config cannot be read."""
    jurisdiction_id = values.get("jurisdiction")
    if not isinstance(jurisdiction_id, str) or not jurisdiction_id:
        raise ContextError(
            "the jurisdiction is unknown: config sovereign-clusters:jurisdiction is not set for stack "
            f"{stack_name or '(unnamed)'}; residency cannot be judged, so nothing is accepted"
        )
    try:
        catalog = _catalog(catalog_path)
    except InputError as exc:
        raise ContextError(f"the catalog cannot be loaded: {exc.message}") from None
    jur = catalog.jurisdiction(jurisdiction_id)
    if jur is None:
        raise ContextError(f"jurisdiction {jurisdiction_id!r} (config sovereign-clusters:jurisdiction) is not in "
                           f"the catalog (known: {', '.join(sorted(catalog.jurisdictions))})")
    set_keys = {k for k, v in values.items() if v is not None}
    if set_keys <= PARTIAL_KEYS:
        return StackView(stack_name, jur, catalog, _partial_cluster(values.get("cluster"), jur, catalog))
    from sovereign.stackconfig.loader import parse_stack_config, with_pulumi_facts
    from sovereign.stackconfig.pulumi_files import facts_of_stack

    try:
        cfg = parse_stack_config(dict(values), stack=stack_name or "(pack)",
                                 source_file=f"stack config of {stack_name or '(pack)'}", catalog=catalog)
        # The backend and the secrets provider are kept where the Pulumi CLI keeps them, not in PULUMI_CONFIG:
        # read from the project's files for this stack (the pack's working directory is inside the project).
        cfg = with_pulumi_facts(cfg, facts_of_stack(stack_name))
    except InputError as exc:
        raise ContextError(f"the stack config is invalid: {exc.message}") from None
    cl = cfg.cluster
    cluster = ClusterView(provider=cl.provider, regions=cl.regions, zones=cl.zones,
                          cidrs=cl.pod_cidrs + cl.service_cidrs, cni=cl.cni)
    return StackView(stack_name, jur, catalog, cluster, cfg)
