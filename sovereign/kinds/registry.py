"""The registry of Kubernetes kinds (``sovereign/kinds/registry/*.yaml``) as a typed, read-only model.

One registry answers, for the policy pack, the connectivity engine, the manifest reader and the render: is this
kind known; what does it do (roles); which rules judge it; where are its pod specs and data destinations; or why is
it inert, or why can a known kind not be judged. The data files say why each entry is what it is; this module only
loads and indexes them, and refuses a malformed registry (``RegistryError`` naming file and entry), since a wrong
registry would silently open the closed world.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sovereign.kinds.paths import PathError, parse
from sovereign.kinds.tokens import CORE_GROUPS

REGISTRY_DIR = Path(__file__).resolve().parent / "registry"
ROLES_FILE = "roles.yaml"


class RegistryError(ValueError):
    """The registry of kinds is malformed (a defect of this repository, never of the user's input)."""


@dataclass(frozen=True)
class PodLocation:
    """Where a kind describes (one kind of) pod it makes; see the header of ``registry/roles.yaml``."""

    at: str
    spec: str = "spec"
    metadata: str = "metadata"
    containers: tuple[str, ...] | None = None
    """Paths (relative to the spec) of container mappings; None: the PodSpec's own container lists."""
    images: tuple[str, ...] = ()
    fields: Mapping[str, str] = field(default_factory=dict)
    fallback: str | None = None
    runs: bool = True
    patches: bool = False
    """The containers are patches the operator merges into its own (an image may be left out: the operator's)."""
    placement: bool = True
    """False: only images are described (an image catalog), not where pods run: the placement rules skip it."""
    images_elsewhere: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    """The API versions of the kind this location applies to (empty: every version the kind lists)."""
    """Container paths (within ``containers``) whose image, when left out, another object supplies and is judged
    where it is set (KServe's model container takes the image of the ServingRuntime that serves the format)."""


@dataclass(frozen=True)
class Destination:
    """A field group naming where an operator sends or stores data (``data-destination`` role)."""

    at: str
    what: str
    url: tuple[str, ...] = ()
    endpoint: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    host: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    """Comma-separated ``host:port`` lists (Kafka bootstrap servers)."""
    held_in: tuple[str, ...] = ()
    """References to a Secret or ConfigMap holding the destination (it cannot be read from the object)."""
    literal_keys: bool = False
    """The names above are single keys of the ``at`` mapping (configuration maps whose keys contain dots)."""
    provider: str | None = None
    """The catalog provider a bare region belongs to, when the field implies one."""
    defaults: Mapping[str, str] = field(default_factory=dict)
    """What the operator uses when a field is unset: ``url``/``endpoint``/``host``/``region`` -> value."""
    unset_means: str = ""
    """Why a destination whose fields are all unset cannot be placed (e.g. Google picks the replication)."""
    local_values: tuple[str, ...] = ()
    """Values that name the cluster itself (Argo CD's ``in-cluster``): never a destination abroad."""


@dataclass(frozen=True)
class Reference:
    """A reference to another object that holds the destination: it must be among the checked objects."""

    at: str
    """Path to the reference (a mapping with the name, or the name itself)."""
    kinds: tuple[str, ...]
    """Kinds it may name (the first is the default)."""
    name: str = "name"
    kind: str = ""
    """Relative path of the field naming the kind ("": the kind is always the first of ``kinds``)."""
    what: str = ""


@dataclass(frozen=True)
class KindEntry:
    group: str
    kind: str
    versions: tuple[str, ...]
    roles: tuple[str, ...] = ()
    inert: str | None = None
    unjudged: str | None = None
    pods: tuple[PodLocation, ...] = ()
    destinations: tuple[Destination, ...] = ()
    unjudged_when: tuple[tuple[str, str], ...] = ()
    """(path, reason): an object that sets the path is unjudged (its content comes from elsewhere)."""
    references: tuple[Reference, ...] = ()
    closed_maps: tuple[str, ...] = ()
    """Paths of mappings whose every key must be one the destinations read (e.g. a secret store's ``spec.provider``):
    another key is a destination the checker does not know how to place."""
    cluster_scoped: bool = False
    """The kind's objects live outside any namespace (the API's scope ``Cluster``); else ``Namespaced``."""
    source: str = ""
    file: str = ""

    @property
    def api_versions(self) -> tuple[str, ...]:
        return tuple(f"{self.group}/{v}" if self.group else v for v in self.versions)


@dataclass(frozen=True)
class Role:
    id: str
    description: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class PulumiType:
    """A non-Kubernetes resource type of a Pulumi program: matched by exact type or prefix."""

    type: str
    prefix: bool
    inert: str | None = None
    unjudged: str | None = None


@dataclass(frozen=True, eq=False)
class Registry:
    roles: Mapping[str, Role]
    kinds: Mapping[tuple[str, str], KindEntry]
    unknown_kind_rules: tuple[str, ...]
    pulumi_types: tuple[PulumiType, ...]
    _rules: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)

    def entry(self, group: str, kind: str) -> KindEntry | None:
        return self.kinds.get(("" if group in CORE_GROUPS else group, kind))

    def rules_of(self, entry: KindEntry | None) -> tuple[str, ...]:
        """The rules that judge objects of ``entry`` (None: a kind the registry does not know)."""
        if entry is None:
            return self.unknown_kind_rules
        return tuple(sorted({r for role in entry.roles for r in self.roles[role].rules}))

    def rules_for(self, group: str, kind: str) -> frozenset[str]:
        """``rules_of`` by kind, memoised: every rule asks for every resource."""
        key = (group, kind)
        found = self._rules.get(key)
        if found is None:
            found = self._rules[key] = frozenset(self.rules_of(self.entry(group, kind)))
        return found

    def has_role(self, group: str, kind: str, role: str) -> bool:
        entry = self.entry(group, kind)
        return entry is not None and role in entry.roles

    def kinds_with_role(self, role: str) -> list[KindEntry]:
        return sorted((e for e in self.kinds.values() if role in e.roles), key=lambda e: (e.group, e.kind))

    def pulumi_type(self, type_token: str) -> PulumiType | None:
        exact = [t for t in self.pulumi_types if not t.prefix and t.type == type_token]
        if exact:
            return exact[0]
        prefixed = [t for t in self.pulumi_types if t.prefix and type_token.startswith(t.type)]
        return max(prefixed, key=lambda t: len(t.type)) if prefixed else None

    def all_rule_ids(self) -> frozenset[str]:
        """Every rule the registry names (memoised)."""
        found = self._rules.get(("", "\0all"))
        if found is None:
            named = {r for role in self.roles.values() for r in role.rules}
            found = frozenset(named.union(self.unknown_kind_rules))
            self._rules[("", "\0all")] = found
        return found


# ------------------------------------------------------------------------------------------------ loading
def _fail(file: str, where: str, problem: str) -> RegistryError:
    return RegistryError(f"{file}: {where}: {problem}")


def _strings(file: str, where: str, value: Any, *, allow_empty: bool = True) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(file, where, "expected a list of strings")
    if not allow_empty and not value:
        raise _fail(file, where, "expected a non-empty list")
    return tuple(value)


def _path(file: str, where: str, value: Any) -> str:
    if not isinstance(value, str):
        raise _fail(file, where, "expected a path (string)")
    try:
        parse(value)
    except PathError as exc:
        raise _fail(file, where, str(exc)) from None
    return value


def _keys(file: str, where: str, raw: Mapping[str, Any], allowed: set[str], required: set[str]) -> None:
    unknown = sorted(set(raw) - allowed)
    missing = sorted(required - set(raw))
    if unknown or missing:
        raise _fail(file, where, f"unknown keys {unknown}, missing keys {missing}")


_POD_KEYS = {"at", "spec", "metadata", "containers", "images", "fields", "fallback", "runs", "patches", "placement",
             "imagesElsewhere", "versions"}


def _pod(file: str, where: str, raw: Any) -> PodLocation:
    if not isinstance(raw, dict):
        raise _fail(file, where, "expected a mapping")
    _keys(file, where, raw, _POD_KEYS, {"at"})
    fields = raw.get("fields") or {}
    if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
        raise _fail(file, f"{where}.fields", "expected a mapping of PodSpec field -> path")
    flags = {key: raw.get(key, default) for key, default in (("runs", True), ("patches", False), ("placement", True))}
    for key, value in flags.items():
        if not isinstance(value, bool):
            raise _fail(file, f"{where}.{key}", "expected true or false")
    containers = raw.get("containers")
    elsewhere = _strings(file, f"{where}.imagesElsewhere", raw.get("imagesElsewhere"))
    if elsewhere and not set(elsewhere) <= set(containers or ()):
        raise _fail(file, f"{where}.imagesElsewhere", "expected paths listed under containers")
    return PodLocation(
        at=_path(file, f"{where}.at", raw["at"]),
        spec=_path(file, f"{where}.spec", raw.get("spec", "spec")),
        metadata=_path(file, f"{where}.metadata", raw.get("metadata", "metadata")),
        containers=None if containers is None else tuple(
            _path(file, f"{where}.containers", c) for c in _strings(file, f"{where}.containers", containers)),
        images=tuple(_path(file, f"{where}.images", p) for p in _strings(file, f"{where}.images", raw.get("images"))),
        fields={k: _path(file, f"{where}.fields.{k}", v) for k, v in fields.items()},
        fallback=_path(file, f"{where}.fallback", raw["fallback"]) if raw.get("fallback") is not None else None,
        runs=flags["runs"],
        patches=flags["patches"],
        placement=flags["placement"],
        images_elsewhere=tuple(elsewhere),
        versions=_strings(file, f"{where}.versions", raw.get("versions")),
    )


_DESTINATION_KEYS = {"at", "what", "url", "endpoint", "region", "host", "hosts", "heldIn", "literalKeys", "provider",
                     "defaults", "unsetMeans", "localValues"}


def _destination(file: str, where: str, raw: Any) -> Destination:
    if not isinstance(raw, dict):
        raise _fail(file, where, "expected a mapping")
    _keys(file, where, raw, _DESTINATION_KEYS, {"at", "what"})
    literal = raw.get("literalKeys", False)
    if not isinstance(literal, bool):
        raise _fail(file, f"{where}.literalKeys", "expected true or false")

    def names(key: str) -> tuple[str, ...]:
        values = _strings(file, f"{where}.{key}", raw.get(key))
        return values if literal else tuple(_path(file, f"{where}.{key}", v) for v in values)

    out = Destination(
        at=_path(file, f"{where}.at", raw["at"]),
        what=str(raw["what"]),
        url=names("url"),
        endpoint=names("endpoint"),
        region=names("region"),
        host=names("host"),
        hosts=names("hosts"),
        held_in=names("heldIn"),
        literal_keys=literal,
        provider=str(raw["provider"]) if raw.get("provider") is not None else None,
        defaults=_defaults(file, f"{where}.defaults", raw.get("defaults")),
        unset_means=str(raw.get("unsetMeans") or ""),
        local_values=_strings(file, f"{where}.localValues", raw.get("localValues")),
    )
    if not (out.url or out.endpoint or out.region or out.host or out.hosts or out.held_in or out.defaults):
        raise _fail(file, where, "a destination names at least one of url, endpoint, region, host, hosts, heldIn, "
                                 "defaults")
    return out


def _defaults(file: str, where: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= {"url", "endpoint", "region", "host"} or not all(
            isinstance(v, str) for v in raw.values()):
        raise _fail(file, where, "expected a mapping of url/endpoint/region/host -> value")
    return dict(raw)


def _references(file: str, where: str, raw: Any) -> tuple[Reference, ...]:
    out = []
    for i, item in enumerate(raw or []):
        at = f"{where}.references[{i}]"
        if not isinstance(item, dict):
            raise _fail(file, at, "expected a mapping")
        _keys(file, at, item, {"at", "kinds", "name", "kind", "what"}, {"at", "kinds"})
        out.append(Reference(at=_path(file, f"{at}.at", item["at"]),
                             kinds=_strings(file, f"{at}.kinds", item["kinds"], allow_empty=False),
                             name=_path(file, f"{at}.name", item.get("name", "name")),
                             kind=_path(file, f"{at}.kind", item.get("kind", "")),
                             what=str(item.get("what") or "")))
    return tuple(out)


_KIND_KEYS = {"group", "kind", "kinds", "versions", "roles", "inert", "unjudged", "pods", "destinations", "source",
              "unjudgedWhen", "references", "closedMaps", "clusterScoped"}


def _unjudged_when(file: str, where: str, raw: Any) -> tuple[tuple[str, str], ...]:
    out = []
    for i, item in enumerate(raw or []):
        at = f"{where}.unjudgedWhen[{i}]"
        if not isinstance(item, dict):
            raise _fail(file, at, "expected a mapping with path and reason")
        _keys(file, at, item, {"path", "reason"}, {"path", "reason"})
        out.append((_path(file, f"{at}.path", item["path"]), str(item["reason"])))
    return tuple(out)


def _entries(file: str, index: int, raw: Any, roles: Mapping[str, Role]) -> list[KindEntry]:
    where = f"kinds[{index}]"
    if not isinstance(raw, dict):
        raise _fail(file, where, "expected a mapping")
    _keys(file, where, raw, _KIND_KEYS, {"group", "versions"})
    group = raw["group"]
    if not isinstance(group, str) or group == "core":
        raise _fail(file, f"{where}.group", "expected the API group as a string (\"\" for the core group)")
    if ("kind" in raw) == ("kinds" in raw):
        raise _fail(file, where, "give exactly one of kind, kinds")
    names = _strings(file, f"{where}.kinds", raw["kinds"], allow_empty=False) if "kinds" in raw else (raw["kind"],)
    if not all(isinstance(n, str) and n for n in names):
        raise _fail(file, f"{where}.kind", "expected a kind name")
    versions = _strings(file, f"{where}.versions", raw["versions"], allow_empty=False)
    entry_roles = _strings(file, f"{where}.roles", raw.get("roles"))
    for role in entry_roles:
        if role not in roles:
            raise _fail(file, f"{where}.roles", f"unknown role {role!r} (roles.yaml defines {sorted(roles)})")
    inert, unjudged = raw.get("inert"), raw.get("unjudged")
    verdicts = [bool(entry_roles), inert is not None, unjudged is not None]
    if sum(verdicts) != 1:
        raise _fail(file, where, "give exactly one of roles, inert (a one-line reason), unjudged (a reason)")
    for key, text in (("inert", inert), ("unjudged", unjudged)):
        if text is not None and (not isinstance(text, str) or not text.strip()):
            raise _fail(file, f"{where}.{key}", "expected a one-line reason")
    pods = tuple(_pod(file, f"{where}.pods[{i}]", p) for i, p in enumerate(raw.get("pods") or []))
    if pods and not ({"runs-pods", "pod-template"} & set(entry_roles)):
        raise _fail(file, f"{where}.pods", "pods are given only for kinds with role runs-pods or pod-template")
    for i, pod in enumerate(pods):
        if not set(pod.versions) <= set(versions):
            raise _fail(file, f"{where}.pods[{i}].versions", f"expected versions of the kind ({list(versions)})")
    destinations = tuple(_destination(file, f"{where}.destinations[{i}]", d)
                         for i, d in enumerate(raw.get("destinations") or []))
    if destinations and "data-destination" not in entry_roles:
        raise _fail(file, f"{where}.destinations", "destinations are given only for kinds with role data-destination")
    conditions = _unjudged_when(file, where, raw.get("unjudgedWhen"))
    if conditions and not entry_roles:
        raise _fail(file, f"{where}.unjudgedWhen", "only a judged kind (with roles) can become unjudged by a field")
    references = _references(file, where, raw.get("references"))
    if references and "data-destination" not in entry_roles:
        raise _fail(file, f"{where}.references", "references are given only for kinds with role data-destination")
    closed = tuple(_path(file, f"{where}.closedMaps", p) for p in _strings(file, f"{where}.closedMaps",
                                                                         raw.get("closedMaps")))
    if closed and "data-destination" not in entry_roles:
        raise _fail(file, f"{where}.closedMaps", "closedMaps are given only for kinds with role data-destination")
    cluster_scoped = _strings(file, f"{where}.clusterScoped", raw.get("clusterScoped"))
    if not set(cluster_scoped) <= set(names):
        raise _fail(file, f"{where}.clusterScoped", f"expected kinds of this entry ({list(names)})")
    return [KindEntry(group=group, kind=name, versions=versions, roles=entry_roles, inert=inert, unjudged=unjudged,
                      pods=pods, destinations=destinations, unjudged_when=conditions, references=references,
                      closed_maps=closed, cluster_scoped=name in cluster_scoped, source=str(raw.get("source") or ""),
                      file=file)
            for name in names]


def _roles(file: str, raw: Any) -> dict[str, Role]:
    if not isinstance(raw, dict) or not raw:
        raise _fail(file, "roles", "expected a mapping of role id -> {description, rules}")
    out = {}
    for role_id, body in raw.items():
        if not isinstance(body, dict):
            raise _fail(file, f"roles.{role_id}", "expected a mapping")
        _keys(file, f"roles.{role_id}", body, {"description", "rules"}, {"description", "rules"})
        out[str(role_id)] = Role(str(role_id), str(body["description"]),
                                 _strings(file, f"roles.{role_id}.rules", body["rules"], allow_empty=False))
    return out


def _pulumi_types(file: str, raw: Any) -> tuple[PulumiType, ...]:
    out = []
    for i, item in enumerate(raw or []):
        where = f"pulumiTypes[{i}]"
        if not isinstance(item, dict):
            raise _fail(file, where, "expected a mapping")
        _keys(file, where, item, {"type", "typePrefix", "inert", "unjudged"}, set())
        if ("type" in item) == ("typePrefix" in item) or ("inert" in item) == ("unjudged" in item):
            raise _fail(file, where, "give one of type, typePrefix and one of inert, unjudged")
        out.append(PulumiType(str(item.get("type") or item.get("typePrefix")), "typePrefix" in item,
                              item.get("inert"), item.get("unjudged")))
    return tuple(out)


def build_registry(documents: Sequence[tuple[str, Mapping[str, Any]]]) -> Registry:
    """The registry from ``(file name, parsed YAML)`` pairs; ``roles.yaml`` first. Duplicate kinds are refused."""
    (roles_file, head), *rest = documents
    if roles_file != ROLES_FILE:
        raise RegistryError(f"the registry starts with {ROLES_FILE}, not {roles_file}")
    _keys(roles_file, "(top level)", head, {"version", "roles", "unknownKinds", "pulumiTypes"},
          {"version", "roles", "unknownKinds"})
    roles = _roles(roles_file, head["roles"])
    unknown = head["unknownKinds"]
    if not isinstance(unknown, dict):
        raise _fail(roles_file, "unknownKinds", "expected a mapping with rules")
    kinds: dict[tuple[str, str], KindEntry] = {}
    for file, doc in rest:
        if not isinstance(doc, dict) or set(doc) != {"kinds"} or not isinstance(doc["kinds"], list):
            raise _fail(file, "(top level)", "expected a mapping with one key, kinds (a list)")
        for index, raw in enumerate(doc["kinds"]):
            for entry in _entries(file, index, raw, roles):
                key = (entry.group, entry.kind)
                if key in kinds:
                    raise _fail(file, f"kinds[{index}]", f"{entry.group or 'core'}/{entry.kind} is already listed in "
                                                         f"{kinds[key].file}")
                kinds[key] = entry
    return Registry(roles=roles, kinds=kinds,
                    unknown_kind_rules=_strings(roles_file, "unknownKinds.rules", unknown.get("rules")),
                    pulumi_types=_pulumi_types(roles_file, head.get("pulumiTypes")))


def registry_files(directory: Path = REGISTRY_DIR) -> list[Path]:
    """``roles.yaml`` first, then every other ``*.yaml`` in name order."""
    files = sorted(p for p in directory.glob("*.yaml") if p.name != ROLES_FILE)
    return [directory / ROLES_FILE, *files]


@functools.cache
def default_registry() -> Registry:
    """The shipped registry, once per process, kept between runs while its files and code are unchanged
    (sovereign/core/build_cache.py: reading and checking it costs a few dozen milliseconds)."""
    from sovereign.core.build_cache import built

    files = registry_files()
    return built("registry", files, lambda: _load_registry(files), code=("core", "kinds"))


def _load_registry(files: Sequence[Path]) -> Registry:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    documents = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            documents.append((path.name, yaml.load(handle, Loader=loader)))  # noqa: S506 - a safe loader
    return build_registry(documents)
