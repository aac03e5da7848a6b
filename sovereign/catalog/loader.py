"""Load, validate and freeze the jurisdiction catalog: the public layer (``policies/catalog/``) merged with the
organisation layer (one organisation file, docs/catalog.md).

Three stages, each reporting every problem it finds (not just the first) as an ``InputError`` naming the file,
the key path, what was expected and what was found:

1. strict YAML (``sovereign.core.yamlio``: duplicate keys, size, depth, aliases), read from regular files only: a FIFO,
   device, socket or directory where a file is expected (or a symlink to one) is reported, never read (a FIFO
   would block the load, ``/dev/zero`` never end it);
2. JSON Schema (``catalog.schema.json`` beside the data: shapes, ids, patterns, required ``as_of`` and
   ``source`` on every rule);
3. cross-file facts a schema cannot express: known providers and regions, each region inside exactly one
   jurisdiction whose countries include the region's country (this keeps Hong Kong out of mainland China),
   parseable dates and CIDRs, networks and domains that never overlap (across both layers), known destinations,
   unique products; the organisation file names only jurisdictions and legal data categories of the public layer,
   and narrows a category's export rule, never widens it.

Only a catalog that passes all three becomes the immutable ``Catalog`` model: one merged model, so the program,
the pack and the connectivity engine need not know there were two layers.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError
from referencing.exceptions import Unresolvable

from sovereign.catalog.files import (
    CATALOG_FILE,
    JURISDICTIONS_DIR,
    PROVIDERS_FILE,
    PUBLIC_ONLY,
    SCHEMA_FILE,
    jurisdiction_files,
)
from sovereign.catalog.model import (
    NO_ORGANISATION,
    AcceleratorPolicy,
    AcceleratorRule,
    Catalog,
    DataClass,
    Decision,
    ExportMode,
    IPNetwork,
    Jurisdiction,
    LegalBasis,
    NamedNetwork,
    Organisation,
    Provenance,
    Provider,
    Region,
)
from sovereign.core import paths
from sovereign.core.errors import InputError, InputErrors
from sovereign.core.schema_meta import check_schema
from sovereign.core.yamlio import AliasBudgetExceeded, parse_yaml_documents, read_text

KeyPath = tuple[str | int, ...]


# --- error collection -----------------------------------------------------------------------------


@dataclass
class _Problems:
    """Collects every problem of one load so users can fix them in one round."""

    items: list[InputError] = field(default_factory=list)

    def add(self, file: Path | str, key_path: Sequence[str | int], expected: str, found: object = None,
            *, found_text: str | None = None) -> None:
        self.items.append(InputError(file, key_path, expected, found, found_text=found_text))

    def extend(self, errors: Iterable[InputError]) -> None:
        self.items.extend(errors)

    def raise_if_any(self) -> None:
        if not self.items:
            return
        unique: dict[str, InputError] = {}
        for error in self.items:
            unique.setdefault(error.message, error)
        raise InputErrors(list(unique.values()))


# --- schema layer ---------------------------------------------------------------------------------


FILE_KINDS = ("catalog_file", "providers_file", "jurisdiction_file", "organisation_file")
"""The ``$defs`` of ``catalog.schema.json`` that each describe one kind of catalog file."""

Validators = Mapping[str, jsonschema.Draft202012Validator]


@functools.lru_cache(maxsize=8)
def _compile_schema(text: str) -> Validators:
    schema = json.loads(text)
    check_schema(schema, text)
    defs = schema.get("$defs") if isinstance(schema, dict) else None
    missing = [kind for kind in FILE_KINDS if not isinstance(defs, dict) or kind not in defs]
    if missing:
        raise jsonschema.SchemaError(f"$defs lacks {', '.join(missing)}")
    return MappingProxyType({
        kind: jsonschema.Draft202012Validator({**schema, "$ref": f"#/$defs/{kind}"}) for kind in FILE_KINDS
    })


def _load_schema(directory: Path) -> str:
    """The text of the schema beside the data (compiled and checked), so a catalog of another git revision is
    judged by its own schema."""
    path = directory / SCHEMA_FILE
    text = read_text(path)
    try:
        _compile_schema(text)
        return text
    except json.JSONDecodeError as exc:
        raise InputError(path, (), "valid JSON", found_text=f"{exc.msg} at line {exc.lineno}") from None
    except jsonschema.SchemaError as exc:
        raise InputError(path, tuple(exc.absolute_path), "a valid JSON Schema (draft 2020-12)",
                         found_text=exc.message) from None


_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "true or false",
    "null": "null",
    "integer": "an integer",
    "number": "a number",
}


def _type_word(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, Mapping):
        return "mapping"
    if isinstance(value, list):
        return "list"
    return type(value).__name__


def _found_text(value: object, limit: int = 80) -> str:
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{text} ({_type_word(value)})"


def _describe(error: ValidationError) -> tuple[KeyPath, str, str]:
    """Turn one jsonschema error into (key path, expected, found) in the words a catalog author uses."""
    path: KeyPath = tuple(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    description = str(schema.get("description", "")) if isinstance(schema, Mapping) else ""
    value = error.validator_value
    instance = error.instance
    if "propertyNames" in error.relative_schema_path:
        return path, f"keys that are {description or 'valid names'}", f"key {instance!r}"
    if error.validator == "required":
        # jsonschema reports one error per missing key and names it only in its message ("'x' is a ...").
        missing = [k for k in value if isinstance(instance, Mapping) and k not in instance]
        named = [k for k in missing if error.message.startswith(repr(k))]
        key = (named or missing or ["?"])[0]
        return (*path, key), f"required key {key!r}" + (f" ({description})" if description else ""), "nothing"
    if error.validator == "additionalProperties" and isinstance(instance, Mapping):
        allowed = sorted(schema.get("properties", {}))
        extras = sorted(repr(k) for k in instance if k not in allowed)
        return path, "only the keys " + ", ".join(allowed), "unexpected key(s) " + ", ".join(extras)
    if error.validator == "type":
        types = value if isinstance(value, list) else [value]
        expected = " or ".join(_TYPE_WORDS.get(str(t), str(t)) for t in types)
        if description and len(types) == 1 and types[0] not in ("object", "array"):
            expected = description
        found = _found_text(instance)
        if isinstance(instance, bool) and "string" in types:
            found += " - YAML reads yes/no/on/off/NO as booleans; quote the value"
        return path, expected, found
    if error.validator == "enum":
        return path, "one of " + ", ".join(repr(v) for v in value), _found_text(instance)
    if error.validator == "pattern":
        return path, f"{description or 'a string'} (pattern {value})", _found_text(instance)
    if error.validator == "uniqueItems":
        return path, "distinct items (no duplicates)", _found_text(instance)
    if error.validator in ("minItems", "minProperties"):
        expected = f"at least {value} item(s)" + (f": {description}" if description else "")
        return path, expected, _found_text(instance)
    if error.validator in ("minLength", "maxLength"):
        word = "at least" if error.validator == "minLength" else "at most"
        return path, f"a string of {word} {value} characters", _found_text(instance)
    return path, description or f"{error.validator} {value!r}", _found_text(instance)


class _BrokenSchema(Exception):
    """The schema compiled but cannot be applied (e.g. a ``$ref`` to a missing ``$defs`` entry)."""


Issue = tuple[KeyPath, str, str]
"""One problem inside a file, before the file name is attached: (key path, expected, found)."""


def _jsonable(value: Any, path: KeyPath, issues: list[Issue]) -> Any:
    """YAML yields dates and non-string keys JSON Schema cannot judge: map dates to ISO text, flag keys."""
    if isinstance(value, datetime):
        return value  # not a plain date: the schema reports it as "not a string"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                issues.append((path, "string keys", f"key {_found_text(key)} - quote it"))
                continue
            out[key] = _jsonable(item, (*path, key), issues)
        return out
    if isinstance(value, list):
        return [_jsonable(item, (*path, i), issues) for i, item in enumerate(value)]
    return value


@functools.lru_cache(maxsize=64)
def _check_text(schema_text: str, file_kind: str, text: str) -> tuple[Any, tuple[Issue, ...]]:
    """Parse one file's text strictly and check it against ``$defs/<file_kind>``: (document, issues).

    Cached by content, because parsing (pure-Python strict YAML) dominates a load, and most loads in one
    process (two revisions in a diff, tests that mutate one file) see mostly unchanged files. The returned
    document is shared between callers and must be treated as read-only.
    """
    try:
        docs = parse_yaml_documents(text, "<catalog file>")
    except AliasBudgetExceeded:
        raise  # the run's budget is spent, which says nothing about the text: never cached as its result
    except InputError as exc:
        return None, ((exc.key_path, exc.expected, exc.found),)
    if len(docs) != 1:  # same rule as sovereign.core.yamlio.load_yaml_file
        return None, (((), "exactly one YAML document", f"{len(docs)} documents"),)
    issues: list[Issue] = []
    doc = _jsonable(docs[0], (), issues)
    if issues:
        return None, tuple(issues)
    try:
        errors = sorted(_compile_schema(schema_text)[file_kind].iter_errors(doc),
                        key=lambda e: (list(map(str, e.absolute_path)), str(e.message)))
    except Unresolvable as exc:  # a broken schema, not a broken file: reported against the schema
        raise _BrokenSchema(f"an unresolvable $ref {exc.ref!r}") from None
    if errors:
        return None, tuple(_describe(error) for error in errors)
    return doc, ()


def _validated(schema: tuple[Path, str], file_kind: str, file: Path, problems: _Problems) -> Any | None:
    """Read one file and check it against ``$defs/<file_kind>``; None (with problems recorded) if it fails."""
    try:
        text = read_text(file)
    except InputError as exc:
        problems.add(exc.file, exc.key_path, exc.expected, found_text=exc.found)
        return None
    schema_path, schema_text = schema
    try:
        doc, issues = _check_text(schema_text, file_kind, text)
    except _BrokenSchema as exc:
        problems.add(schema_path, (), "a usable JSON Schema", found_text=str(exc))
        return None
    except AliasBudgetExceeded as exc:
        problems.add(file, exc.key_path, exc.expected, found_text=exc.found)
        return None
    for key_path, expected, found in issues:
        problems.add(file, key_path, expected, found_text=found)
    return doc


# --- value parsing --------------------------------------------------------------------------------


def _date(value: str, file: Path, path: KeyPath, problems: _Problems) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        problems.add(file, path, "a real calendar date YYYY-MM-DD", value)
        return date.min


def _provenance(doc: Mapping[str, Any], file: Path, path: KeyPath, problems: _Problems) -> Provenance:
    """Every rule carries as_of + source; the schema requires both, this re-checks in case it is relaxed."""
    if "as_of" not in doc or "source" not in doc:
        missing = "as_of" if "as_of" not in doc else "source"
        problems.add(file, (*path, missing), f"required key {missing!r} (every rule is dated and sourced)",
                     found_text="nothing")
        return Provenance(date.min, "")
    return Provenance(_date(doc["as_of"], file, (*path, "as_of"), problems), doc["source"])


def _network(text: str, file: Path, path: KeyPath, problems: _Problems) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        pass
    try:
        loose = ipaddress.ip_network(text, strict=False)
    except ValueError:
        problems.add(file, path, "a valid IPv4 or IPv6 CIDR network", text)
        return None
    problems.add(file, path, f"a network address without host bits set (did you mean {loose}?)", text)
    return None


def _domain_base(pattern: str) -> tuple[bool, str]:
    return (True, pattern[2:]) if pattern.startswith("*.") else (False, pattern)


def _domains_overlap(a: str, b: str) -> bool:
    """Whether some DNS name matches both patterns (``*.x`` = names below x; ``x`` = x itself)."""
    wild_a, base_a = _domain_base(a)
    wild_b, base_b = _domain_base(b)
    if not wild_a and not wild_b:
        return base_a == base_b
    if wild_a and wild_b:
        return base_a == base_b or base_a.endswith("." + base_b) or base_b.endswith("." + base_a)
    wild_base, exact = (base_a, base_b) if wild_a else (base_b, base_a)
    return exact.endswith("." + wild_base)


# --- model builds ---------------------------------------------------------------------------------


def _build_providers(doc: Mapping[str, Any], file: Path, problems: _Problems) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    for provider_id in sorted(doc["providers"]):
        spec = doc["providers"][provider_id]
        zone_owner: dict[str, str] = {}
        regions: dict[str, Region] = {}
        for region_id in sorted(spec["regions"]):
            entry = spec["regions"][region_id]
            zones = tuple(sorted(entry.get("zones", ())))
            for index, zone in enumerate(entry.get("zones", ())):
                zone_path = ("providers", provider_id, "regions", region_id, "zones", index)
                if not zone.startswith(region_id):
                    problems.add(file, zone_path, f"zones of region {region_id!r} named after it "
                                 f"(starting with {region_id!r})", zone)
                if zone in zone_owner:
                    problems.add(file, zone_path, f"each zone in one region only; {zone!r} is already in "
                                 f"region {zone_owner[zone]!r}", zone)
                zone_owner.setdefault(zone, region_id)
            regions[region_id] = Region(provider=provider_id, id=region_id, name=entry["name"],
                                        country=entry["country"], zones=zones)
        providers[provider_id] = Provider(
            id=provider_id,
            name=spec["name"],
            csi_provisioner=spec["csi_provisioner"],
            zone_topology_key=spec["zone_topology_key"],
            regions=MappingProxyType(regions),
            object_storage_provider=spec["object_storage_provider"],
            endpoint_patterns=tuple(spec.get("endpoint_patterns", ())),
            internal_load_balancer=tuple(sorted(spec.get("internal_load_balancer", {}).items())),
        )
    return providers


@dataclass(frozen=True)
class _JurisdictionDoc:
    file: Path
    doc: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.doc["id"])


def _check_ids(catalog_file: Path, catalog_doc: Mapping[str, Any], docs: Sequence[_JurisdictionDoc],
               problems: _Problems) -> None:
    """catalog.yaml lists each id once; each has exactly one file named after it; no file is extra."""
    listed: dict[str, int] = {}
    for index, jurisdiction_id in enumerate(catalog_doc["jurisdictions"]):
        if jurisdiction_id in listed:
            problems.add(catalog_file, ("jurisdictions", index),
                         f"each jurisdiction id once; {jurisdiction_id!r} is already at "
                         f"jurisdictions[{listed[jurisdiction_id]}]", jurisdiction_id)
        listed.setdefault(jurisdiction_id, index)
    seen: dict[str, Path] = {}
    for jur in docs:
        if jur.id != jur.file.stem:
            problems.add(jur.file, ("id",), f"the file name's id {jur.file.stem!r} (jurisdictions/<id>.yaml)",
                         jur.id)
        if jur.id in seen:
            problems.add(jur.file, ("id",), f"a jurisdiction id used by one file only; {jur.id!r} is also "
                         f"the id in {seen[jur.id]}", jur.id)
        seen.setdefault(jur.id, jur.file)
        if jur.id not in listed:
            problems.add(jur.file, ("id",), f"a jurisdiction id listed in {catalog_file} (known: "
                         f"{', '.join(sorted(listed))})", jur.id)
    for jurisdiction_id, index in listed.items():
        if jurisdiction_id not in seen:
            problems.add(catalog_file, ("jurisdictions", index),
                         f"an id with a file {JURISDICTIONS_DIR}/{jurisdiction_id}.yaml", jurisdiction_id,
                         found_text=f"{jurisdiction_id!r} without a file (unknown jurisdiction)")


def _check_regions(docs: Sequence[_JurisdictionDoc], providers: Mapping[str, Provider],
                   problems: _Problems) -> None:
    owner: dict[tuple[str, str], _JurisdictionDoc] = {}
    for jur in docs:
        countries = set(jur.doc["countries"])
        for provider_id, region_ids in sorted(jur.doc["regions"].items()):
            provider = providers.get(provider_id)
            if provider is None:
                problems.add(jur.file, ("regions", provider_id),
                             f"a provider of providers.yaml ({', '.join(sorted(providers))})",
                             found_text=f"unknown provider {provider_id!r}")
                continue
            for index, region_id in enumerate(region_ids):
                path: KeyPath = ("regions", provider_id, index)
                region = provider.region(region_id)
                if region is None:
                    problems.add(jur.file, path, f"a region of provider {provider_id!r} in providers.yaml",
                                 found_text=f"unknown region {region_id!r} for provider {provider_id!r}")
                    continue
                if region.country not in countries:
                    allowed = ", ".join(sorted(countries))
                    problems.add(jur.file, path, f"a region in one of the jurisdiction's countries {allowed}",
                                 found_text=f"{provider_id} {region_id} ({region.name}) is in country "
                                 f"{region.country}")
                first = owner.get((provider_id, region_id))
                if first is not None and first.id != jur.id:
                    problems.add(jur.file, path, "each region in one jurisdiction only",
                                 found_text=f"{provider_id} {region_id} claimed by both {first.id!r} "
                                 f"({first.file.name}) and {jur.id!r} ({jur.file.name})")
                owner.setdefault((provider_id, region_id), jur)


@dataclass(frozen=True)
class _Facts:
    """One jurisdiction's list of networks, domains or registries in one layer's file, at ``path`` there."""

    jurisdiction: str
    file: Path
    path: KeyPath
    items: Sequence[str]


def _where(facts: _Facts, index: int, mine: _Facts) -> str:
    """How an error names another fact: its jurisdiction, key path and (when not this file) file."""
    owner = "this jurisdiction's" if facts.jurisdiction == mine.jurisdiction else f"{facts.jurisdiction!r}"
    place = "" if facts.file == mine.file else f" in {facts.file}"
    return f"{owner} {'.'.join(map(str, facts.path))}[{index}]{place}"


def _check_networks(claims: Sequence[_Facts], problems: _Problems) -> dict[str, tuple[IPNetwork, ...]]:
    parsed: dict[str, list[IPNetwork]] = {}
    seen: list[tuple[IPNetwork, _Facts, int]] = []
    for facts in claims:
        nets = parsed.setdefault(facts.jurisdiction, [])
        for index, text in enumerate(facts.items):
            net = _network(text, facts.file, (*facts.path, index), problems)
            if net is None:
                continue
            for other, other_facts, other_index in seen:
                if other.version == net.version and other.overlaps(net):
                    problems.add(facts.file, (*facts.path, index),
                                 "networks that never overlap (each address belongs to one jurisdiction)",
                                 found_text=f"{facts.jurisdiction!r} {net} overlaps {other} of "
                                 f"{_where(other_facts, other_index, facts)}")
            seen.append((net, facts, index))
            nets.append(net)
    return {jid: tuple(sorted(nets, key=lambda n: (n.version, int(n.network_address), n.prefixlen)))
            for jid, nets in parsed.items()}


def _check_domains(claims: Sequence[_Facts], problems: _Problems) -> None:
    """Domains of different jurisdictions never overlap, in or across layers; within one jurisdiction the
    organisation may repeat a public domain (a public update that adds it then changes nothing)."""
    seen: list[tuple[str, _Facts, int]] = []
    for facts in claims:
        for index, pattern in enumerate(facts.items):
            for other, other_facts, other_index in seen:
                if other_facts.jurisdiction != facts.jurisdiction and _domains_overlap(pattern, other):
                    problems.add(facts.file, (*facts.path, index), "domains that belong to one jurisdiction only",
                                 found_text=f"{facts.jurisdiction!r} {pattern!r} overlaps {other!r} of "
                                 f"{_where(other_facts, other_index, facts)}")
            seen.append((pattern, facts, index))


def _build_data_categories(jur: _JurisdictionDoc, known: set[str], problems: _Problems) -> dict[str, DataClass]:
    """The public layer's legal data categories of one jurisdiction, with their export rules."""
    out: dict[str, DataClass] = {}
    for class_id in sorted(jur.doc["data_categories"]):
        spec = jur.doc["data_categories"][class_id]
        path: KeyPath = ("data_categories", class_id)
        export = ExportMode(spec["export"])
        destinations = tuple(spec["destinations"])
        for index, destination in enumerate(destinations):
            if destination not in known:
                problems.add(jur.file, (*path, "destinations", index),
                             f"a known jurisdiction id ({', '.join(sorted(known))})",
                             found_text=f"unknown jurisdiction {destination!r}")
            elif destination == jur.id:
                problems.add(jur.file, (*path, "destinations", index),
                             "another jurisdiction (staying inside is not an export)", destination)
        if export is ExportMode.NEVER and destinations:
            problems.add(jur.file, (*path, "destinations"), "no destinations for export 'never'",
                         list(destinations))
        out[class_id] = DataClass(
            id=class_id,
            description=spec["description"],
            regulated=spec["regulated"],
            export=export,
            destinations=destinations,
            regulator=spec["regulator"],
            provenance=_provenance(spec, jur.file, path, problems),
        )
    return out


def _build_accelerators(jur: _JurisdictionDoc, problems: _Problems) -> AcceleratorPolicy:
    spec = jur.doc["accelerators"]
    from sovereign.kinds.accelerators import vendor_ids

    vendors = vendor_ids()
    rules: list[AcceleratorRule] = []
    first_index: dict[tuple[str, str], int] = {}
    for index, rule in enumerate(spec["rules"]):
        path: KeyPath = ("accelerators", "rules", index)
        product, vendor = rule["product"], rule["vendor"]
        if vendor not in vendors:
            problems.add(jur.file, (*path, "vendor"), f"a vendor of the accelerator vocabulary "
                         f"({', '.join(sorted(vendors))})", vendor)
        key = (vendor, product.lower())
        if key in first_index:
            problems.add(jur.file, (*path, "product"), f"each product once per vendor; {product!r} is already at "
                         f"accelerators.rules[{first_index[key]}]", product)
        first_index.setdefault(key, index)
        rules.append(AcceleratorRule(product=product, decision=Decision(rule["decision"]),
                                     provenance=_provenance(rule, jur.file, path, problems),
                                     note=rule.get("note", ""), vendor=vendor))
    default = spec["default"]
    return AcceleratorPolicy(
        default=Decision(default["decision"]),
        default_provenance=_provenance(default, jur.file, ("accelerators", "default"), problems),
        rules=tuple(rules),  # order kept: globs are tried in the order written
    )


_STRICTNESS = {ExportMode.FREE: 0, ExportMode.APPROVED_TRANSFER: 1, ExportMode.NEVER: 2}


def _build_org_data_classes(org_file: Path, jurisdiction_id: str, spec: Mapping[str, Any],
                            categories: Mapping[str, DataClass], known: set[str],
                            problems: _Problems) -> dict[str, DataClass]:
    """The organisation's data classes of one jurisdiction, each with its legal category's rule, narrowed (fewer
    destinations, a stricter export mode) where the organisation says so; widening is an error."""
    out: dict[str, DataClass] = {}
    for class_id in sorted(spec):
        entry = spec[class_id]
        path: KeyPath = ("jurisdictions", jurisdiction_id, "data_classes", class_id)
        category = categories.get(entry["category"])
        if category is None:
            problems.add(org_file, (*path, "category"), f"a data category of {jurisdiction_id} in the public "
                         f"layer ({', '.join(sorted(categories)) or 'none'})",
                         found_text=f"unknown category {entry['category']!r}")
            continue
        export = ExportMode(entry.get("export", category.export.value))
        if _STRICTNESS[export] < _STRICTNESS[category.export]:
            problems.add(org_file, (*path, "export"), f"{category.export.value!r} or stricter (the category "
                         f"{category.id!r} allows no more; an organisation narrows a legal rule, never widens it)",
                         export.value)
        destinations = tuple(entry.get("destinations", category.destinations))
        for index, destination in enumerate(entry.get("destinations", ())):
            where: KeyPath = (*path, "destinations", index)
            if destination not in known:
                problems.add(org_file, where, f"a known jurisdiction id ({', '.join(sorted(known))})",
                             found_text=f"unknown jurisdiction {destination!r}")
            elif destination == jurisdiction_id:
                problems.add(org_file, where, "another jurisdiction (staying inside is not an export)", destination)
            elif category.destinations and destination not in category.destinations:
                problems.add(org_file, where, f"a destination the category {category.id!r} allows "
                             f"({', '.join(category.destinations)})", destination)
        if export is ExportMode.NEVER and entry.get("destinations"):  # a category's own are reported at the category
            problems.add(org_file, (*path, "destinations"), "no destinations for export 'never'", list(destinations))
        if export is ExportMode.NEVER:
            destinations = ()
        out[class_id] = DataClass(
            id=class_id,
            description=entry["description"],
            regulated=category.regulated,
            export=export,
            destinations=destinations,
            regulator=category.regulator,
            provenance=category.provenance,
            category=category.id,
        )
    return out


def _build_jurisdiction(jur: _JurisdictionDoc, org: _OrganisationDoc, networks: tuple[IPNetwork, ...],
                        known: set[str], problems: _Problems) -> Jurisdiction:
    doc = jur.doc
    mine = org.facts(jur.id)
    categories = _build_data_categories(jur, known, problems)
    legal = tuple(
        LegalBasis(law=entry["law"], provenance=_provenance(entry, jur.file, ("legal_basis", i), problems))
        for i, entry in enumerate(doc["legal_basis"])
    )
    regions = {provider: tuple(sorted(ids)) for provider, ids in sorted(doc["regions"].items())}
    return Jurisdiction(
        id=jur.id,
        name=doc["name"],
        countries=tuple(sorted(doc["countries"])),
        legal_basis=legal,
        regions=MappingProxyType(regions),
        networks=networks,
        domains=tuple(sorted({*doc.get("domains", ()), *mine.get("domains", ())})),
        data_classes=MappingProxyType(_build_org_data_classes(
            org.file, jur.id, mine.get("data_classes", {}), categories, known, problems)),
        accelerators=_build_accelerators(jur, problems),
        registries=tuple(sorted(mine.get("registries", ()))),
        provenance=_provenance(doc, jur.file, (), problems),
        data_categories=MappingProxyType(categories),
        named_networks=MappingProxyType(_build_named_networks(mine.get("named_networks", {}))),
    )


def _build_named_networks(spec: Mapping[str, Any]) -> dict[str, NamedNetwork]:
    """The organisation's named networks; their CIDRs were parsed and checked with every other network (their
    claims are part of ``networks``), so one that does not parse is already a problem and is left out here."""
    out: dict[str, NamedNetwork] = {}
    for name in sorted(spec):
        nets = []
        for text in spec[name]["networks"]:
            try:
                nets.append(ipaddress.ip_network(text, strict=True))
            except ValueError:
                continue
        out[name] = NamedNetwork(name=name, description=spec[name]["description"], networks=tuple(nets))
    return out


# --- the organisation layer -----------------------------------------------------------------------


@dataclass(frozen=True)
class _OrganisationDoc:
    file: Path
    doc: Mapping[str, Any]

    def facts(self, jurisdiction_id: str) -> Mapping[str, Any]:
        found = self.doc["jurisdictions"].get(jurisdiction_id)
        return found if isinstance(found, Mapping) else {}

    def identity(self) -> Organisation:
        example = self.doc.get("example")
        return Organisation(name=self.doc["name"], version=self.doc["version"], path=os.path.abspath(self.file),
                            example=example is not None,
                            example_stacks=tuple(example["stacks"]) if example is not None else ())


def _check_org_jurisdictions(org: _OrganisationDoc, known: set[str], problems: _Problems) -> None:
    """The organisation names jurisdictions by the public layer's ids; an unknown one is a mistake, never ignored."""
    for jurisdiction_id in sorted(org.doc["jurisdictions"]):
        if jurisdiction_id not in known:
            problems.add(org.file, ("jurisdictions", jurisdiction_id),
                         f"a jurisdiction id of the public layer ({', '.join(sorted(known))})",
                         found_text=f"unknown jurisdiction {jurisdiction_id!r}")


def _claims(kind: str, docs: Sequence[_JurisdictionDoc], org: _OrganisationDoc) -> list[_Facts]:
    """Every jurisdiction's ``kind`` (networks, domains) from both layers: the public layer's first."""
    public = [_Facts(j.id, j.file, (kind,), j.doc.get(kind, ())) for j in docs]
    known = {j.id for j in docs}
    own = [_Facts(jid, org.file, ("jurisdictions", jid, kind), org.facts(jid).get(kind, ()))
           for jid in sorted(org.doc["jurisdictions"]) if jid in known]
    if kind == "networks":  # a named network is part of the organisation's address space, checked alike
        own.extend(_Facts(jid, org.file, ("jurisdictions", jid, "named_networks", name, "networks"), spec["networks"])
                   for jid in sorted(org.doc["jurisdictions"]) if jid in known
                   for name, spec in sorted(org.facts(jid).get("named_networks", {}).items()))
    return [*public, *own]


# --- public API -----------------------------------------------------------------------------------


_NOT_A_DIRECTORY = ((stat.S_ISREG, "a regular file"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _nojurisdiction_files(folder: Path) -> str:
    """What stands where the jurisdiction files should be, for the error."""
    try:
        mode = os.stat(folder).st_mode
    except OSError:
        return "no jurisdiction files" if not folder.is_symlink() else "a broken symlink"
    what = next((name for test, name in _NOT_A_DIRECTORY if test(mode)), None)
    if what is None:  # a directory (without jurisdiction files), or a type of file not listed
        return "no jurisdiction files" if stat.S_ISDIR(mode) else f"a special file (mode {mode:o})"
    return f"a symlink to {what}" if folder.is_symlink() else what


def load_catalog(directory: Path | None = None, organisation: Path | None = None) -> Catalog:
    """Read, validate and freeze the public layer in ``directory`` (default: ``sovereign.core.paths.catalog_dir()``)
    merged with the organisation file ``organisation`` (default: ``sovereign.core.paths.organisation_file()``).

    Raises ``InputErrors`` (a subclass of ``InputError``) listing every problem found, each naming the file,
    the key path, what was expected and what was found.
    """
    root = Path(directory) if directory is not None else paths.catalog_dir()
    problems = _Problems()
    schema = (root / SCHEMA_FILE, _load_schema(root))

    catalog_file = root / CATALOG_FILE
    providers_file = root / PROVIDERS_FILE
    catalog_doc = _validated(schema, "catalog_file", catalog_file, problems)
    providers_doc = _validated(schema, "providers_file", providers_file, problems)
    jurisdiction_docs: list[_JurisdictionDoc] = []
    files = list(jurisdiction_files(root))
    if not files:
        problems.add(root / JURISDICTIONS_DIR, (), "a directory with one <id>.yaml file per jurisdiction",
                     found_text=_nojurisdiction_files(root / JURISDICTIONS_DIR))
    for file in files:
        doc = _validated(schema, "jurisdiction_file", file, problems)
        if doc is not None:
            jurisdiction_docs.append(_JurisdictionDoc(file, doc))
    org_file = Path(organisation) if organisation is not None else paths.organisation_file()
    if org_file == PUBLIC_ONLY:
        org_doc: Any = {"name": "", "version": "", "jurisdictions": {}}
    else:
        org_doc = _validated(schema, "organisation_file", org_file, problems)
    problems.raise_if_any()
    assert catalog_doc is not None and providers_doc is not None and org_doc is not None  # every file validated
    org = _OrganisationDoc(org_file, org_doc)

    jurisdiction_docs.sort(key=lambda j: (j.id, j.file.name))
    catalog_as_of = _date(catalog_doc["as_of"], catalog_file, ("as_of",), problems)
    _date(providers_doc["as_of"], providers_file, ("as_of",), problems)
    _check_ids(catalog_file, catalog_doc, jurisdiction_docs, problems)
    # A second file with an already-used id has been reported; checking it further would only add noise.
    firsts: dict[str, _JurisdictionDoc] = {}
    for jur in jurisdiction_docs:
        firsts.setdefault(jur.id, jur)
    jurisdiction_docs = list(firsts.values())
    providers = _build_providers(providers_doc, providers_file, problems)
    _check_regions(jurisdiction_docs, providers, problems)
    known = {j.id for j in jurisdiction_docs}
    _check_org_jurisdictions(org, known, problems)
    networks = _check_networks(_claims("networks", jurisdiction_docs, org), problems)
    _check_domains(_claims("domains", jurisdiction_docs, org), problems)
    jurisdictions: dict[str, Jurisdiction] = {}
    for jur in jurisdiction_docs:
        jurisdictions[jur.id] = _build_jurisdiction(jur, org, networks.get(jur.id, ()), known, problems)
    problems.raise_if_any()
    return Catalog(
        version=catalog_doc["version"],
        as_of=catalog_as_of,
        providers=MappingProxyType(providers),
        jurisdictions=MappingProxyType(jurisdictions),
        source_dir=str(root),
        organisation=org.identity() if org_file != PUBLIC_ONLY else NO_ORGANISATION,
    )
