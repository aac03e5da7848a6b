"""Load and validate a stack's configuration: ``stacks/Pulumi.<stack>.yaml`` -> ``StackConfig``.

Validation runs in three passes, each reporting every problem it finds (``InputErrors``) so a user fixes a
file in one round:

1. strict YAML (``sovereign.yamlio``: duplicate keys, size, depth);
2. the JSON schema ``stacks/stack.schema.json`` (shapes, names, patterns; additionalProperties false);
3. semantic checks against the jurisdiction catalog (regions, zones, networks, domains, data classes,
   accelerators, registries, transfers), which the schema cannot express.

The Pulumi program calls ``parse_stack_config`` with the values it reads from ``pulumi.Config`` under the
real CLI; offline tools call ``load_stack_file``/``load_stack``. Both end in the same validation, so the
program, the policy pack and the CLI accept exactly the same stacks.

Defaults applied here (documented in the schema too): replicas 1; command []; resources.limits = requests;
automountServiceAccountToken false; port protocol TCP; reads/writes/ports/ingressFrom/egress/volumes [];
tenant quota gpu 0; storage parameters {}; storage reclaimPolicy None (the program derives it: Retain when
any data class is regulated); backup prefix = stack name; the first backup location is the default when
none is marked; cluster dns kube-system / {k8s-app: kube-dns}; renderDir ``../out/rendered/<stack>``.
An expired transfer is NOT a load error: the program skips it and the checks report it.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from sovereign import paths
from sovereign.catalog.model import ExportMode, IPNetwork
from sovereign.clock import parse_instant
from sovereign.errors import InputError, InputErrors
from sovereign.stackconfig.model import (
    CONFIG_NAMESPACE,
    Accelerator,
    BackupLocation,
    ClusterConfig,
    CniConfig,
    ContainerPort,
    EgressNeed,
    PolicyApi,
    PortSpec,
    Protocol,
    Quota,
    Resources,
    StackConfig,
    StorageTier,
    Tenant,
    Transfer,
    TransferDestination,
    VolumeClaim,
    Workload,
    WorkloadKind,
)
from sovereign.yamlio import load_yaml_file

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog, Jurisdiction

PREFIX = f"{CONFIG_NAMESPACE}:"
DEFAULT_RENDER_DIR = "../out/rendered/{stack}"
"""renderYamlToDirectory target when neither kubeconfig nor renderDir is set (relative to infra/)."""

KUBECONFIG_KEY = "kubeconfig"
KUBECONFIG_EXPECTED = (
    "a secret set with `pulumi config set --secret sovereign-clusters:kubeconfig` (stored as "
    "{secure: <ciphertext>}); a plaintext kubeconfig is rejected because it is a credential"
)
SECRET_MARKER = "[secret]"
"""What ``parse_stack_config`` puts in place of a kubeconfig given as ``True`` (the value is never needed)."""

STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
"""Top-level keys Pulumi itself writes into a stack file."""

_STACK_FILE_NAME = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9][A-Za-z0-9_.-]*)\.yaml$")
_MAX_NORMALISE_DEPTH = 64

KeyPath = tuple[str | int, ...]


# --------------------------------------------------------------------------------------------------- schema


@functools.cache
def _schema_for(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


def stack_schema() -> dict[str, Any]:
    """The parsed ``stacks/stack.schema.json`` (checked once against the 2020-12 meta-schema)."""
    return _schema_for(str(paths.stack_schema_path()))


@functools.cache
def _validator_for(path: str) -> Draft202012Validator:
    return Draft202012Validator(_schema_for(path))


def config_keys() -> tuple[str, ...]:
    """Unprefixed top-level keys the schema defines, sorted: what the program reads from ``pulumi.Config``."""
    return tuple(sorted(k[len(PREFIX) :] for k in stack_schema()["properties"] if k.startswith(PREFIX)))


# ------------------------------------------------------------------------------------------- entry points


def list_stacks() -> list[str]:
    """Sorted names of the stacks that have a ``stacks/Pulumi.<stack>.yaml``."""
    directory = paths.stacks_dir()
    if not directory.is_dir():
        return []
    names = []
    for entry in directory.iterdir():
        match = _STACK_FILE_NAME.match(entry.name)
        if match and entry.is_file():
            names.append(match["stack"])
    return sorted(names)


def load_stack(stack: str, *, catalog: Catalog | None = None) -> StackConfig:
    """Load ``stacks/Pulumi.<stack>.yaml`` (``/`` in the name becomes ``-``, as the Pulumi CLI does)."""
    path = paths.stack_file(stack)
    if not path.is_file():
        known = ", ".join(list_stacks()) or "none"
        raise InputError(path, (), f"an existing stack file (known stacks: {known})", found_text="no such file")
    return load_stack_file(path, catalog=catalog)


def load_stack_file(path: Path, *, catalog: Catalog | None = None) -> StackConfig:
    """Read a whole ``Pulumi.<stack>.yaml``, take its ``config:`` mapping and validate it."""
    path = Path(path)
    match = _STACK_FILE_NAME.match(path.name)
    if match is None:
        raise InputError(path, (), "a stack file named Pulumi.<stack>.yaml", found_text=repr(path.name))
    document = load_yaml_file(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(path, (), "a mapping with a `config:` key", found_text=_type_name(document))
    unknown = sorted(str(k) for k in document if k not in STACK_FILE_KEYS)
    if unknown:
        raise InputErrors(
            [
                InputError(path, (key,), f"one of the stack file keys {', '.join(STACK_FILE_KEYS)}", found_text=key)
                for key in unknown
            ]
        )
    config = document.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InputError(path, ("config",), "a mapping of `namespace:key` to values", found_text=_type_name(config))
    return _validate(config, stack=match["stack"], source_file=str(path), catalog=catalog)


def parse_stack_config(
    values: Mapping[str, Any],
    *,
    stack: str,
    source_file: str,
    catalog: Catalog | None = None,
) -> StackConfig:
    """Validate config values given by key WITHOUT the ``sovereign-clusters:`` prefix.

    The Pulumi program builds ``values`` under the real CLI from ``pulumi.Config`` (one read per key of
    ``config_keys()``; for ``kubeconfig`` only whether the secret is set).
    A ``None`` value means "not set". ``kubeconfig`` may be given as ``True`` (a secret is set; the value
    is not needed here) or as the ``{"secure": ...}`` marker; ``False`` means not set. A plain string is a
    plaintext kubeconfig and is rejected. Keys that already contain ``:`` (other namespaces) pass through.
    """
    if not isinstance(values, Mapping):
        raise InputError(source_file, (), "a mapping of configuration keys", found_text=_type_name(values))
    config: dict[Any, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if key == KUBECONFIG_KEY and isinstance(value, bool):
            if not value:
                continue
            value = {"secure": SECRET_MARKER}
        full_key = key if isinstance(key, str) and ":" in key else f"{PREFIX}{key}"
        config[full_key] = value
    return _validate(config, stack=stack, source_file=source_file, catalog=catalog)


def _validate(config: dict[Any, Any], *, stack: str, source_file: str, catalog: Catalog | None) -> StackConfig:
    config = _json_compatible(config, source_file)
    schema_errors = schema_errors_of(config, source_file)
    if schema_errors:
        raise InputErrors(schema_errors)
    if catalog is None:
        from sovereign.catalog import default_catalog  # lazy: schema errors need no catalog

        catalog = default_catalog()
    values = {k[len(PREFIX) :]: v for k, v in config.items() if k.startswith(PREFIX)}
    builder = _Builder(values, stack=stack, source_file=source_file)
    stack_config = builder.build()
    if builder.errors or stack_config is None:
        raise InputErrors(builder.errors)
    semantic = _SemanticChecks(stack_config, catalog).run()
    if semantic:
        raise InputErrors(semantic)
    return stack_config


# ------------------------------------------------------------------------------- YAML/JSON normalisation


def _type_name(value: object) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        int: "a number",
        float: "a number",
    }
    if value is None:
        return "nothing (null)"
    return names.get(type(value), type(value).__name__)


def _json_compatible(config: dict[Any, Any], source_file: str) -> dict[Any, Any]:
    """Mapping keys must be strings; YAML timestamps/dates become ISO 8601 strings (what the CLI passes on).

    PyYAML turns an unquoted ``2026-03-01T00:00:00Z`` into a ``datetime``; the Pulumi CLI hands the program
    JSON text, so the program always sees strings. Normalising here keeps the two paths identical.
    """
    errors: list[InputError] = []

    def walk(value: Any, path: KeyPath) -> Any:
        if len(path) > _MAX_NORMALISE_DEPTH:
            errors.append(
                InputError(
                    source_file,
                    path[:3],
                    f"nesting of at most {_MAX_NORMALISE_DEPTH} levels",
                    found_text="deeper nesting",
                )
            )
            return None
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # YAML: no offset means UTC
            text = aware.isoformat()
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    errors.append(InputError(source_file, path, "string keys", found_text=f"the key {key!r}"))
                    continue
                out[key] = walk(item, (*path, key))
            return out
        if isinstance(value, list | tuple):
            return [walk(item, (*path, i)) for i, item in enumerate(value)]
        return value

    result = walk(config, ())
    if errors:
        raise InputErrors(errors)
    assert isinstance(result, dict)
    return result


# ----------------------------------------------------------------------------------- schema error texts


_TYPE_TEXT = {
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "null": "null",
}


def _noun_description(schema: Mapping[str, Any]) -> str | None:
    """Schema descriptions written as noun phrases ("a DNS-1123 label ...") double as error expectations."""
    text = schema.get("description")
    if isinstance(text, str) and (text.startswith("a ") or text.startswith("an ")):
        return text
    return None


def _found(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _secret_shape(value: object) -> str:
    """Describe a rejected kubeconfig without echoing it: it is a credential."""
    if isinstance(value, str):
        return f"a plaintext string of {len(value)} characters (not shown)"
    if isinstance(value, dict):
        return f"a mapping with keys {sorted(value)} (values not shown)"
    return f"{_type_name(value)} (not shown)"


def _path_sort_key(path: KeyPath) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


def schema_errors_of(config: Mapping[str, Any], source_file: str) -> list[InputError]:
    """Every schema violation of a prefixed ``config:`` mapping, as InputErrors in key-path order."""
    validator = _validator_for(str(paths.stack_schema_path()))
    found: dict[tuple[KeyPath, str], InputError] = {}
    for error in validator.iter_errors(config):
        for item in _translate(error, config, source_file):
            found.setdefault((item.key_path, item.expected), item)
    return [found[k] for k in sorted(found, key=lambda k: (_path_sort_key(k[0]), k[1]))]


def _translate(error: ValidationError, config: Mapping[str, Any], file: str) -> list[InputError]:
    path: KeyPath = tuple(error.absolute_path)
    if path and path[0] == PREFIX + KUBECONFIG_KEY:
        return [InputError(file, path[:1], KUBECONFIG_EXPECTED, found_text=_secret_shape(config[path[0]]))]
    schema: Mapping[str, Any] = error.schema if isinstance(error.schema, Mapping) else {}
    custom = schema.get("x-expected")
    validator = error.validator
    value = error.validator_value
    instance = error.instance

    if validator == "required":
        missing = [k for k in value if isinstance(instance, dict) and k not in instance]
        return [
            InputError(file, (*path, k), custom or "this key (it is required)", found_text="nothing (key missing)")
            for k in missing
        ]
    if validator == "additionalProperties" and isinstance(instance, dict):
        known = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extras = [k for k in instance if k not in known and not any(re.search(p, k) for p in patterns)]
        allowed = ", ".join(known) if known else "no keys"
        if patterns and path == ():
            allowed += ", or keys of other namespaces (`namespace:key`)"
        return [
            InputError(file, (*path, k), f"one of the keys {allowed}", found_text=f"unknown key {k!r}") for k in extras
        ]
    if validator == "dependentRequired" and isinstance(instance, dict):
        out: list[InputError] = []
        for key, needs in value.items():
            if key in instance:
                out.extend(
                    InputError(
                        file,
                        (*path, need),
                        f"`{need}` together with `{key}`",
                        found_text="nothing (key missing)",
                    )
                    for need in needs
                    if need not in instance
                )
        return out
    if "propertyNames" in error.relative_schema_path:
        key_expected = _noun_description(schema) or f"a key matching {schema.get('pattern', '')}"
        return [InputError(file, (*path, str(instance)), key_expected, found_text=f"the key {instance!r}")]

    expected: str
    found_text = _found(instance)
    if custom:
        expected = custom
    elif validator == "type":
        types = [value] if isinstance(value, str) else list(value)
        expected = " or ".join(_TYPE_TEXT.get(t, t) for t in types)
        described = _noun_description(schema)
        if described:
            expected += f" ({described})"
        found_text = f"{_type_name(instance)} {_found(instance)}"
    elif validator == "pattern":
        expected = _noun_description(schema) or f"a string matching {value}"
    elif validator == "enum":
        expected = "one of " + ", ".join(repr(v) for v in value)
    elif validator == "const":
        expected = repr(value)
    elif validator == "minItems":
        expected = f"at least {value} item{'s' if value != 1 else ''}"
        found_text = f"{len(instance)} items" if isinstance(instance, list) else found_text
    elif validator == "maxItems":
        expected = f"at most {value} item{'s' if value != 1 else ''}"
        if described := _noun_description(schema) or schema.get("description"):
            expected += f" ({described})"
        found_text = f"{len(instance)} items" if isinstance(instance, list) else found_text
    elif validator == "uniqueItems":
        expected = "no duplicate items"
        if isinstance(instance, list):
            dupes = [
                v for v, n in Counter(json.dumps(i, sort_keys=True, default=repr) for i in instance).items() if n > 1
            ]
            found_text = "duplicates " + ", ".join(dupes)
    elif validator == "minimum":
        expected = f"a number of at least {value}"
    elif validator == "maximum":
        expected = f"a number of at most {value}"
    elif validator == "minLength":
        expected = "a non-empty string" if value == 1 else f"at least {value} characters"
    elif validator == "maxLength":
        expected = _noun_description(schema) or f"at most {value} characters"
        found_text = f"{len(instance)} characters" if isinstance(instance, str) else found_text
    elif validator == "minProperties":
        expected = f"at least {value} entr{'ies' if value != 1 else 'y'}"
    else:
        expected = error.message
    return [InputError(file, path, expected, found_text=found_text)]


# ------------------------------------------------------------------------------------------ model build


def _quantity(value: str | int) -> str:
    return str(value)


def _protocol(item: Mapping[str, Any]) -> Protocol:
    return Protocol(item.get("protocol", Protocol.TCP.value))


def _key(name: str, *rest: str | int) -> KeyPath:
    return (PREFIX + name, *rest)


class _Builder:
    """Turns schema-valid values into the typed model; collects errors the schema cannot see (CIDR host
    bits, impossible dates)."""

    def __init__(self, values: Mapping[str, Any], *, stack: str, source_file: str) -> None:
        self.values = values
        self.stack = stack
        self.file = source_file
        self.errors: list[InputError] = []

    def _network(self, text: str, path: KeyPath) -> IPNetwork | None:
        try:
            return ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            self.errors.append(
                InputError(
                    self.file,
                    path,
                    "an IPv4 or IPv6 network with host bits zero (e.g. 10.10.20.0/24)",
                    found_text=f"{text!r} ({exc})",
                )
            )
            return None

    def _networks(self, texts: Iterable[str], path: KeyPath) -> tuple[IPNetwork, ...]:
        nets = (self._network(t, (*path, i)) for i, t in enumerate(texts))
        return tuple(n for n in nets if n is not None)

    def _instant(self, text: str, path: KeyPath) -> datetime | None:
        try:
            return parse_instant(text, source=self.file, key_path=path)
        except InputError as exc:
            self.errors.append(exc)
            return None

    def _ports(self, items: Sequence[Mapping[str, Any]], path: KeyPath) -> tuple[PortSpec, ...]:
        specs = []
        for i, item in enumerate(items):
            port, end = item.get("port"), item.get("endPort")
            if port is not None and end is not None and end < port:
                self.errors.append(
                    InputError(self.file, (*path, i, "endPort"), f"an endPort of at least port {port}", end)
                )
            specs.append(PortSpec(port=port, end_port=end, protocol=_protocol(item)))
        return tuple(specs)

    def build(self) -> StackConfig | None:
        v = self.values
        cluster = self._cluster(v["cluster"])
        tenants = tuple(self._tenant(t) for t in v.get("tenants", []))
        workloads = tuple(self._workload(w, i) for i, w in enumerate(v.get("workloads", [])))
        storage = tuple(
            StorageTier(
                name=s["name"],
                description=s["description"],
                data_classes=tuple(s["dataClasses"]),
                parameters=tuple(sorted(s.get("parameters", {}).items())),
                reclaim_policy=s.get("reclaimPolicy"),
            )
            for s in v.get("storage", [])
        )
        backups_raw = v.get("backups", [])
        any_default = any(b.get("default", False) for b in backups_raw)
        backups = tuple(
            BackupLocation(
                name=b["name"],
                bucket=b["bucket"],
                region=b["region"],
                prefix=b.get("prefix", self.stack),
                data_classes=tuple(b["dataClasses"]),
                default=bool(b.get("default", False)) or (not any_default and i == 0),
            )
            for i, b in enumerate(backups_raw)
        )
        built = (self._transfer(t, i) for i, t in enumerate(v.get("transfers", [])))
        transfers = tuple(t for t in built if t is not None)
        kubeconfig = KUBECONFIG_KEY in v
        render_dir = v.get("renderDir") or DEFAULT_RENDER_DIR.format(stack=self.stack)
        if self.errors:
            return None
        return StackConfig(
            stack=self.stack,
            source_file=self.file,
            jurisdiction=v["jurisdiction"],
            cluster=cluster,
            tenants=tenants,
            workloads=workloads,
            storage=storage,
            backups=backups,
            transfers=transfers,
            kubeconfig_configured=kubeconfig,
            render_dir=render_dir,
        )

    def _cluster(self, c: Mapping[str, Any]) -> ClusterConfig:
        cni = c["cni"]
        dns = c.get("dns", {})
        extra: dict[str, Any] = {}
        if "namespace" in dns:
            extra["dns_namespace"] = dns["namespace"]
        if "podLabels" in dns:
            extra["dns_pod_labels"] = tuple(sorted(dns["podLabels"].items()))
        return ClusterConfig(
            name=c["name"],
            provider=c["provider"],
            regions=tuple(c["regions"]),
            zones=tuple(c["zones"]),
            pod_cidrs=self._networks(c["podCidrs"], _key("cluster", "podCidrs")),
            service_cidrs=self._networks(c["serviceCidrs"], _key("cluster", "serviceCidrs")),
            kubernetes_version=c["kubernetesVersion"],
            cni=CniConfig(
                name=cni["name"],
                enforces=frozenset(PolicyApi(a) for a in cni["enforces"]),
                ipblock_matches_pod_ips=cni["ipBlockMatchesPodIps"],
                end_port=cni["endPort"],
                sctp=cni["sctp"],
                host_network_selected=cni["hostNetworkSelected"],
            ),
            **extra,
        )

    @staticmethod
    def _tenant(t: Mapping[str, Any]) -> Tenant:
        q = t["quota"]
        return Tenant(
            namespace=t["namespace"],
            description=t["description"],
            data_classes=tuple(t["dataClasses"]),
            quota=Quota(
                cpu=_quantity(q["cpu"]),
                memory=_quantity(q["memory"]),
                gpu=int(q.get("gpu", 0)),
                pods=int(q["pods"]),
                storage=_quantity(q["storage"]),
            ),
        )

    def _workload(self, w: Mapping[str, Any], index: int) -> Workload:
        path = _key("workloads", index)
        requests = w["resources"]["requests"]
        limits = w["resources"].get("limits", requests)
        accel = w.get("accelerator")
        egress = tuple(
            EgressNeed(
                name=e["name"],
                cidrs=self._networks(e.get("cidrs", []), (*path, "egress", j, "cidrs")),
                domains=tuple(e.get("domains", [])),
                workload=e.get("workload"),
                ports=self._ports(e["ports"], (*path, "egress", j, "ports")),
            )
            for j, e in enumerate(w.get("egress", []))
        )
        return Workload(
            name=w["name"],
            namespace=w["namespace"],
            kind=WorkloadKind(w["kind"]),
            image=w["image"],
            replicas=int(w.get("replicas", 1)),
            schedule=w.get("schedule"),
            command=tuple(w.get("command", [])),
            resources=Resources(
                cpu_request=_quantity(requests["cpu"]),
                memory_request=_quantity(requests["memory"]),
                cpu_limit=_quantity(limits["cpu"]),
                memory_limit=_quantity(limits["memory"]),
            ),
            accelerator=Accelerator(product=accel["product"], count=int(accel["count"])) if accel else None,
            reads=tuple(w.get("reads", [])),
            writes=tuple(w.get("writes", [])),
            ports=tuple(
                ContainerPort(name=p["name"], port=int(p["port"]), protocol=_protocol(p)) for p in w.get("ports", [])
            ),
            ingress_from=tuple(w.get("ingressFrom", [])),
            egress=egress,
            volumes=tuple(
                VolumeClaim(
                    name=vol["name"],
                    tier=vol["tier"],
                    size=_quantity(vol["size"]),
                    mount_path=vol["mountPath"],
                )
                for vol in w.get("volumes", [])
            ),
            automount_service_account_token=bool(w.get("automountServiceAccountToken", False)),
        )

    def _transfer(self, t: Mapping[str, Any], index: int) -> Transfer | None:
        path = _key("transfers", index)
        dest = t["destination"]
        valid_from = self._instant(t["validFrom"], (*path, "validFrom"))
        valid_until = self._instant(t["validUntil"], (*path, "validUntil"))
        destination = TransferDestination(
            jurisdiction=dest["jurisdiction"],
            cidrs=self._networks(dest.get("cidrs", []), (*path, "destination", "cidrs")),
            domains=tuple(dest.get("domains", [])),
            ports=self._ports(dest["ports"], (*path, "destination", "ports")),
        )
        if valid_from is None or valid_until is None:
            return None
        if valid_from >= valid_until:
            self.errors.append(
                InputError(
                    self.file,
                    (*path, "validUntil"),
                    f"a time after validFrom ({t['validFrom']})",
                    t["validUntil"],
                )
            )
        return Transfer(
            id=t["id"],
            approval_reference=t["approvalReference"],
            regulator=t["regulator"],
            data_classes=tuple(t["dataClasses"]),
            source_workloads=tuple(t["sourceWorkloads"]),
            destination=destination,
            valid_from=valid_from,
            valid_until=valid_until,
        )


# ------------------------------------------------------------------------------------- semantic checks


def _image_registry(image: str) -> str:
    """Registry host of an image reference (port stripped); the schema requires an explicit host."""
    host = image.split("/", 1)[0]
    return host.rsplit(":", 1)[0] if ":" in host else host


def _listing(items: Iterable[str]) -> str:
    text = ", ".join(items)
    return text or "none"


class _SemanticChecks:
    """Checks of a typed stack against the catalog; each problem is one InputError with its key path."""

    def __init__(self, config: StackConfig, catalog: Catalog) -> None:
        self.config = config
        self.catalog = catalog
        self.file = config.source_file
        self.errors: list[InputError] = []

    def error(self, path: KeyPath, expected: str, found: str) -> None:
        self.errors.append(InputError(self.file, path, expected, found_text=found))

    def run(self) -> list[InputError]:
        jur = self.catalog.jurisdiction(self.config.jurisdiction)
        if jur is None:
            self.error(
                _key("jurisdiction"),
                f"a jurisdiction of the catalog: {_listing(sorted(self.catalog.jurisdictions))}",
                repr(self.config.jurisdiction),
            )
        provider = self.config.cluster.provider
        if self.catalog.provider(provider) is None:
            self.error(
                _key("cluster", "provider"),
                f"a provider of the catalog: {_listing(sorted(self.catalog.providers))}",
                repr(provider),
            )
        if jur is None or self.errors:
            return self.errors  # everything below is relative to the jurisdiction and the provider
        self._cluster(jur)
        self._tenants(jur)
        self._storage(jur)
        self._workloads(jur)
        self._backups(jur)
        self._transfers(jur)
        return self.errors

    # -- helpers

    def _duplicates(self, names: Sequence[str], items: KeyPath, field: str, what: str) -> None:
        """Report every repeat of a name in the list at ``items``, at ``items[i].field``."""
        seen: dict[str, int] = {}
        for i, name in enumerate(names):
            if name in seen:
                self.error((*items, i, field), f"a unique {what}", f"{name!r}, already used at index {seen[name]}")
            else:
                seen[name] = i

    def _data_classes(self, jur: Jurisdiction, ids: Iterable[str], path: KeyPath) -> None:
        for i, dc in enumerate(ids):
            if jur.data_class(dc) is None:
                self.error((*path, i), f"a data class of {jur.id}: {_listing(jur.data_classes)}", repr(dc))

    def _region_in_jurisdiction(self, jur: Jurisdiction, region: str, path: KeyPath) -> None:
        provider = self.config.cluster.provider
        allowed = jur.regions_for(provider)
        if region in allowed:
            return
        expected = (
            f"a region of {jur.id} on provider {provider}: {', '.join(allowed)}"
            if allowed
            else f"a region of {jur.id} (the catalog lists none on provider {provider}; "
            f"{jur.id} has regions on {_listing(sorted(jur.regions))})"
        )
        owner = self.catalog.jurisdiction_of_region(provider, region)
        prov = self.catalog.provider(provider)
        known = prov.region(region) if prov else None
        if owner is not None:
            found = f"{region} belongs to {owner.id} ({owner.name}), not {jur.id}"
        elif known is not None:
            found = f"{region} is a region of {provider} in {known.country}, outside {jur.id}"
        else:
            found = f"{region!r}, not a region of provider {provider}"
        self.error(path, expected, found)

    def _owned_networks(self, jur: Jurisdiction, nets: Sequence[IPNetwork], path: KeyPath, why: str) -> None:
        for i, net in enumerate(nets):
            if jur.owns_address(net):
                continue
            owner = self.catalog.jurisdiction_of_address(net)
            where = f"a network of {owner.id}" if owner else f"outside the networks of {jur.id}"
            self.error(
                (*path, i),
                f"a network inside {jur.id}'s catalog networks ({_listing(str(n) for n in jur.networks)}); {why}",
                f"{net} ({where})",
            )

    def _owned_domains(self, jur: Jurisdiction, domains: Sequence[str], path: KeyPath, why: str) -> None:
        for i, name in enumerate(domains):
            if jur.owns_domain(name):
                continue
            owner = self.catalog.jurisdiction_of_domain(name)
            where = f"a domain of {owner.id}" if owner else f"not a domain of {jur.id}"
            self.error((*path, i), f"a domain of {jur.id} ({_listing(jur.domains)}); {why}", f"{name!r} ({where})")

    # -- sections

    def _cluster(self, jur: Jurisdiction) -> None:
        cluster = self.config.cluster
        provider = self.catalog.provider(cluster.provider)
        assert provider is not None
        for i, region in enumerate(cluster.regions):
            self._region_in_jurisdiction(jur, region, _key("cluster", "regions", i))
        cluster_zones = [z for r in cluster.regions if (reg := provider.region(r)) for z in reg.zones]
        for i, zone in enumerate(cluster.zones):
            zone_region = self.catalog.region_of_zone(cluster.provider, zone)
            if zone_region is not None and zone_region.id in cluster.regions:
                continue
            found = (
                f"{zone} is a zone of {zone_region.id}, not one of the cluster's regions"
                if zone_region
                else f"{zone!r}, not a zone of provider {cluster.provider}"
            )
            self.error(
                _key("cluster", "zones", i),
                f"a zone of the cluster's regions {_listing(cluster.regions)}: {_listing(cluster_zones)}",
                found,
            )
        for field, nets in (("podCidrs", cluster.pod_cidrs), ("serviceCidrs", cluster.service_cidrs)):
            versions = [n.version for n in nets]
            if len(set(versions)) != len(versions):
                self.error(
                    _key("cluster", field),
                    "at most one IPv4 and one IPv6 network",
                    ", ".join(str(n) for n in nets),
                )
            for i, net in enumerate(nets):
                for other in self.catalog.jurisdictions.values():
                    if other.id == jur.id:
                        continue
                    clash = [n for n in other.networks if n.version == net.version and n.overlaps(net)]
                    if clash:
                        self.error(
                            _key("cluster", field, i),
                            "a cluster network that overlaps no catalog network of another jurisdiction",
                            f"{net} overlaps {clash[0]}, a network of {other.id}",
                        )
        for i, pod in enumerate(cluster.pod_cidrs):
            for svc in cluster.service_cidrs:
                if pod.version == svc.version and pod.overlaps(svc):
                    self.error(
                        _key("cluster", "podCidrs", i),
                        "pod networks apart from the service networks",
                        f"{pod} overlaps service network {svc}",
                    )

    def _tenants(self, jur: Jurisdiction) -> None:
        tenants = self.config.tenants
        self._duplicates([t.namespace for t in tenants], _key("tenants"), "namespace", "tenant namespace")
        for i, tenant in enumerate(tenants):
            self._data_classes(jur, tenant.data_classes, _key("tenants", i, "dataClasses"))

    def _storage(self, jur: Jurisdiction) -> None:
        tiers = self.config.storage
        self._duplicates([s.name for s in tiers], _key("storage"), "name", "storage tier name")
        for i, tier in enumerate(tiers):
            self._data_classes(jur, tier.data_classes, _key("storage", i, "dataClasses"))

    def _workloads(self, jur: Jurisdiction) -> None:
        cfg = self.config
        refs = [w.ref for w in cfg.workloads]
        self._duplicates(refs, _key("workloads"), "name", "workload namespace/name")
        tenants = [t.namespace for t in cfg.tenants]
        tiers = [s.name for s in cfg.storage]
        for i, w in enumerate(cfg.workloads):
            path = _key("workloads", i)
            tenant = cfg.tenant(w.namespace)
            if tenant is None:
                self.error(
                    (*path, "namespace"),
                    f"a tenant namespace of this stack: {_listing(tenants)}",
                    repr(w.namespace),
                )
            for field, classes in (("reads", w.reads), ("writes", w.writes)):
                self._data_classes(jur, classes, (*path, field))
                if tenant is None:
                    continue
                for j, dc in enumerate(classes):
                    if jur.data_class(dc) is not None and dc not in tenant.data_classes:
                        self.error(
                            (*path, field, j),
                            f"a data class tenant {tenant.namespace} holds: {_listing(tenant.data_classes)}",
                            repr(dc),
                        )
            registry = _image_registry(w.image)
            if not jur.registry_allowed(registry):
                self.error(
                    (*path, "image"),
                    f"an image from a registry allowed in {jur.id}: {_listing(jur.registries)}",
                    f"{w.image!r} (registry {registry})",
                )
            if w.accelerator is not None:
                self._accelerator(jur, w.accelerator.product, (*path, "accelerator", "product"))
            self._duplicates([p.name for p in w.ports], (*path, "ports"), "name", "port name")
            self._duplicates(
                [f"{p.port}/{p.protocol.value}" for p in w.ports],
                (*path, "ports"),
                "port",
                "port and protocol",
            )
            self._duplicates([v.name for v in w.volumes], (*path, "volumes"), "name", "volume name")
            self._duplicates(
                [v.mount_path for v in w.volumes],
                (*path, "volumes"),
                "mountPath",
                "mount path",
            )
            for j, vol in enumerate(w.volumes):
                if vol.tier not in tiers:
                    self.error(
                        (*path, "volumes", j, "tier"),
                        f"a storage tier of this stack: {_listing(tiers)}",
                        repr(vol.tier),
                    )
            for j, ref in enumerate(w.ingress_from):
                if ref not in refs:
                    self.error((*path, "ingressFrom", j), f"a workload of this stack: {_listing(refs)}", repr(ref))
            self._duplicates([e.name for e in w.egress], (*path, "egress"), "name", "egress name")
            for j, need in enumerate(w.egress):
                self._egress(jur, need, (*path, "egress", j), refs)

    def _accelerator(self, jur: Jurisdiction, product: str, path: KeyPath) -> None:
        policy = jur.accelerators
        if policy.is_allowed(product):
            return
        rule = policy.rule_for(product)
        if rule is not None:
            found = (
                f"{product!r}, denied in {jur.id} by catalog rule {rule.product!r} "
                f"(as of {rule.provenance.as_of.isoformat()}, source: {rule.provenance.source})"
            )
        else:
            prov = policy.default_provenance
            found = (
                f"{product!r}, not listed for {jur.id}: default {policy.default.value} "
                f"(as of {prov.as_of.isoformat()}, source: {prov.source})"
            )
        self.error(path, f"an accelerator allowed in {jur.id}: {_listing(policy.allowed_products())}", found)

    def _egress(self, jur: Jurisdiction, need: EgressNeed, path: KeyPath, refs: Sequence[str]) -> None:
        why = "egress needs stay in the jurisdiction; cross-border flows go through " + PREFIX + "transfers"
        self._owned_networks(jur, need.cidrs, (*path, "cidrs"), why)
        self._owned_domains(jur, need.domains, (*path, "domains"), why)
        if need.workload is None:
            return
        target = self.config.workload(need.workload)
        if target is None:
            self.error((*path, "workload"), f"a workload of this stack: {_listing(refs)}", repr(need.workload))
            return
        exposed = {(p.port, p.protocol) for p in target.ports}
        for k, spec in enumerate(need.ports):
            if spec.port is None:
                continue
            last = spec.end_port or spec.port
            if not any(spec.port <= port <= last and proto is spec.protocol for port, proto in exposed):
                self.error(
                    (*path, "ports", k),
                    f"a port {need.workload} exposes: {_listing(f'{p}/{proto.value}' for p, proto in sorted(exposed))}",
                    f"{spec.port}{'-' + str(spec.end_port) if spec.end_port else ''}/{spec.protocol.value}",
                )

    def _backups(self, jur: Jurisdiction) -> None:
        backups = self.config.backups
        self._duplicates([b.name for b in backups], _key("backups"), "name", "backup location name")
        defaults = [i for i, b in enumerate(backups) if b.default]
        for i in defaults[1:]:
            self.error(
                _key("backups", i, "default"),
                "at most one default backup location",
                f"a second default (the first is {backups[defaults[0]].name!r})",
            )
        for i, backup in enumerate(backups):
            self._region_in_jurisdiction(jur, backup.region, _key("backups", i, "region"))
            self._data_classes(jur, backup.data_classes, _key("backups", i, "dataClasses"))

    def _transfers(self, jur: Jurisdiction) -> None:
        transfers = self.config.transfers
        refs = [w.ref for w in self.config.workloads]
        self._duplicates([t.id for t in transfers], _key("transfers"), "id", "transfer id")
        for i, transfer in enumerate(transfers):
            path = _key("transfers", i)
            for j, ref in enumerate(transfer.source_workloads):
                if ref not in refs:
                    self.error(
                        (*path, "sourceWorkloads", j),
                        f"a workload of this stack: {_listing(refs)}",
                        repr(ref),
                    )
            dest_id = transfer.destination.jurisdiction
            dest = self.catalog.jurisdiction(dest_id)
            others = sorted(j for j in self.catalog.jurisdictions if j != jur.id)
            if dest is None or dest.id == jur.id:
                found = repr(dest_id) + (" (the stack's own jurisdiction)" if dest_id == jur.id else "")
                self.error(
                    (*path, "destination", "jurisdiction"),
                    f"another jurisdiction of the catalog: {_listing(others)}",
                    found,
                )
            else:
                why = "a transfer's destination must lie in its destination jurisdiction"
                self._owned_networks(dest, transfer.destination.cidrs, (*path, "destination", "cidrs"), why)
                self._owned_domains(dest, transfer.destination.domains, (*path, "destination", "domains"), why)
            self._data_classes(jur, transfer.data_classes, (*path, "dataClasses"))
            forbidden: set[str] = set()
            for j, dc_id in enumerate(transfer.data_classes):
                dc = jur.data_class(dc_id)
                if dc is None or dest is None or dest.id == jur.id:
                    continue
                rule = f"(as of {dc.provenance.as_of.isoformat()}, source: {dc.provenance.source})"
                if not dc.may_leave_to(dest.id, approved=True):
                    forbidden.add(dc_id)
                    if dc.export is ExportMode.NEVER:
                        found = f"{dc_id!r}: export never, whatever is approved {rule}"
                    else:
                        found = f"{dc_id!r}: may go only to {_listing(dc.destinations)}, not {dest.id} {rule}"
                    self.error(
                        (*path, "dataClasses", j),
                        f"a data class of {jur.id} whose export rule allows {dest.id}",
                        found,
                    )
                elif (
                    dc.export is ExportMode.APPROVED_TRANSFER
                    and dc.regulator
                    and dc.regulator.casefold() != transfer.regulator.casefold()
                ):
                    self.error(
                        (*path, "regulator"),
                        f"the regulator that approves exports of {dc_id}: {dc.regulator} {rule}",
                        repr(transfer.regulator),
                    )
            self._held_by_sources(jur, transfer, path, skip=forbidden)

    def _held_by_sources(self, jur: Jurisdiction, transfer: Transfer, path: KeyPath, skip: set[str]) -> None:
        """A transfer names only data its senders' tenants hold; otherwise the approval misfits the flow."""
        tenants = [
            tenant
            for ref in transfer.source_workloads
            if (w := self.config.workload(ref)) and (tenant := self.config.tenant(w.namespace))
        ]
        if not tenants:
            return  # unknown sources or namespaces are reported on their own
        held = {dc for tenant in tenants for dc in tenant.data_classes}
        for j, dc_id in enumerate(transfer.data_classes):
            if jur.data_class(dc_id) is not None and dc_id not in held and dc_id not in skip:
                holders = "; ".join(f"{t.namespace}: {_listing(t.data_classes)}" for t in tenants)
                self.error(
                    (*path, "dataClasses", j),
                    f"a data class held by the tenant of a source workload ({holders})",
                    repr(dc_id),
                )
