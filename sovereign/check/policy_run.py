"""Run the policy pack over a rendered stack or a set of plain manifests, through the analyzer protocol
(in this process or over gRPC to a pack process, see ``TRANSPORTS``).

The order is the CLI's (docs/pulumi-runtime.md §2): start the pack with ``PULUMI_CONFIG`` = the stack's config,
``ConfigureStack``, ``GetAnalyzerInfo``, ``Configure`` (``at`` for every policy whose config schema has it,
when ``--at`` is given), then per resource in registration order ``Remediate`` + ``Analyze`` with the
resource's provider, and finally one ``AnalyzeStack``.

Differences from ``pulumi preview --policy-pack``, all documented in docs/cli.md: props are the rendered
inputs (secrets arrive as ``"[secret]"``, not their plain value; a Secret's ``data``/``stringData`` values
too, also from plain manifests or a render made elsewhere, so no finding can quote them, and a finding that
still contains one of those values, e.g. because a container's env repeats it, shows ``"[secret]"``);
AnalyzeStack receives inputs as outputs (a preview of a create echoes them too); plain manifests have no
Check() (no autonaming, no default namespace).
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, Protocol

from sovereign.analyzer.model import EXEMPTION_COMPANIONS, UNKNOWN_PLACEHOLDERS, AnalyzerInfo, Diagnostic
from sovereign.analyzer.resource import AnalyzerResource, resource_from_manifest
from sovereign.analyzer.session import AnalyzerError
from sovereign.analyzer.transports import TRANSPORTS
from sovereign.check.direct_pack import direct_entry
from sovereign.check.field_lines import FieldLines
from sovereign.check.input_findings import invalid_input
from sovereign.check.inventory import build_inventory
from sovereign.check.model import PolicyDescription, StackResult, Violation, resource_ref
from sovereign.check.repository_paths import RepositoryPaths, repository_path, repository_root
from sovereign.check.rule_selection import EVERY_RULE, RuleSelection
from sovereign.check.stack_locations import StackLocator
from sovereign.core.clock import AT_ENV, evaluation_time
from sovereign.core.errors import InputError
from sovereign.core.exemptions import parse_suppressed
from sovereign.core.paths import CATALOG_ENV
from sovereign.core.pulumi_config_env import env_string_bytes, over_limit_message
from sovereign.core.secret_text import SECRET_TEXT
from sovereign.core.yamlio import load_yaml_file
from sovereign.kinds.object_identity import last_applied
from sovereign.process.forked_child import ForkedChild
from sovereign.process.gc_tuning import cycle_collection_paused
from sovereign.render.k8s_check import SECRET_DATA_FIELDS, is_secret_object
from sovereign.render.project import load_project
from sovereign.render.rendered import RenderedStack
from sovereign.render.wire import redact_secret_leaves, secret


@dataclass
class PackTarget:
    """One pack run: a stack's resources in registration order, its config, and where findings point."""

    stack: str
    project: str
    config: dict[str, str]
    resources: list[AnalyzerResource]
    source: str
    """File a reviewer edits for this stack (stack file, or the manifest file)."""
    locator: StackLocator | None = None
    """For a rendered stack: the declaration in its stack file behind each object."""
    locations: dict[str, tuple[str, int]] = field(default_factory=dict)
    """URN -> (file as shown, line of its document) when known exactly (manifests)."""
    origins: dict[str, str] = field(default_factory=dict)
    """URN -> the manifest's path as read (to find a named field's line: sovereign/check/field_lines.py)."""
    fields: FieldLines = field(default_factory=FieldLines)
    secret_values: frozenset[str] = frozenset()
    """Plain values taken out of Secrets (and their base64 decoding); never printed in a finding."""
    input_findings: tuple[Violation, ...] = ()
    """Problems of the input itself (``invalid-input``: duplicate objects), reported with the pack's findings."""

    def locate(self, res: AnalyzerResource | None, message: str = "") -> tuple[str, int]:
        """(file, line) of a finding: in a manifest, the line of the field its message names, else of its object's
        document; else its declaration in the stack file (sovereign/check/stack_locations.py); else line 1."""
        if res is not None and res.urn in self.locations:
            shown, line = self.locations[res.urn]
            origin = self.origins.get(res.urn)
            return shown, self.fields.line(origin, line, message) if origin else line
        if self.locator is None:
            return self.source, 1
        return self.source, self.locator.line(res.props if res is not None else None, message)


MIN_SCRUBBED_LENGTH = 4
"""Shorter secret values are not scrubbed from messages: replacing every "a" or "1" would garble them."""


def _leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [] if value is None or value == SECRET_TEXT else [str(value)]


def mask_secret_data(obj: Mapping[str, Any], found: set[str]) -> Mapping[str, Any]:
    """A core/v1 Secret with every ``data``/``stringData`` value ``"[secret]"`` (keys kept), as the provider's
    Check() would have marked them; the plain values (and base64-decoded ``data``) are added to ``found``."""
    if not is_secret_object(obj):
        return obj
    masked = dict(obj)
    for name in SECRET_DATA_FIELDS:
        if name not in masked:
            continue
        for leaf in _leaves(masked[name]):
            found.add(leaf)
            if name == "data":
                with contextlib.suppress(ValueError, UnicodeDecodeError):
                    found.add(base64.b64decode(leaf, validate=True).decode("utf-8"))
        masked[name] = redact_secret_leaves(secret(masked[name]))
    return masked


def scrub(message: str, secret_values: frozenset[str]) -> str:
    """``message`` with every known secret value (longest first) replaced by ``"[secret]"``."""
    for value in sorted(secret_values, key=lambda v: (-len(v), v)):
        if len(value) >= MIN_SCRUBBED_LENGTH and value in message:
            message = message.replace(value, SECRET_TEXT)
    return message


def resources_from_render(rendered: RenderedStack, found: set[str] | None = None) -> list[AnalyzerResource]:
    """Every step as the engine would hand it to the analyzer, in registration (step) order."""
    found = set() if found is None else found
    by_urn = {s.urn: s for s in rendered.steps}
    out: list[AnalyzerResource] = []
    for step in rendered.steps:
        provider = by_urn.get(step.provider_urn) if step.provider else None
        out.append(
            AnalyzerResource(
                type=step.type,
                name=step.name,
                urn=step.urn,
                props=mask_secret_data(step.inputs, found),
                parent=step.parent,
                dependencies=step.dependencies,
                property_dependencies=step.property_dependencies,
                provider_urn=provider.urn if provider else "",
                provider_type=provider.type if provider else "",
                provider_props=provider.inputs if provider else {},
            )
        )
    return out


def target_from_render(rendered: RenderedStack, root: Path) -> PackTarget:
    """The pack's config is the rendered config (``"[secret]"`` for secret values: only set/unset matters)."""
    project = load_project(root)
    stack_file = project.stack_file(rendered.stack)
    source = repository_path(str(stack_file), repository_root(project.root))
    text = stack_file.read_text(encoding="utf-8") if stack_file.is_file() else ""
    locator = StackLocator(text, source)
    found: set[str] = set()
    resources = resources_from_render(rendered, found)
    return PackTarget(
        stack=rendered.stack,
        project=rendered.project,
        config=dict(rendered.config),
        resources=resources,
        source=source,
        locator=locator,
        secret_values=frozenset(found),
    )


def target_from_manifests(
    stack: str, project: str, jurisdiction: str, documents: Sequence[tuple[str, int, Mapping[str, Any]]],
) -> PackTarget:
    """Plain manifests (Helm/kustomize output): ``(file, line, object)`` each; config = the jurisdiction.

    A value JSON cannot carry (a YAML date, binary, set, a non-string key, a number beyond a double; Kubernetes
    reads manifests as JSON and the CLI sends props as JSON) is bad input, reported with its file and key path.
    An object defined more than once counts by its last definition, as ``kubectl apply`` of the whole input
    leaves it (sovereign/kinds/object_identity.py); each earlier one is an ``invalid-input`` finding at the last.
    """
    resources: list[AnalyzerResource] = []
    locations: dict[str, tuple[str, int]] = {}
    origins: dict[str, str] = {}
    seen: dict[str, str] = {}
    found: set[str] = set()
    paths = RepositoryPaths()
    places = [f"{paths(file)}:{line}" for file, line, _obj in documents]
    applied = last_applied([obj for _file, _line, obj in documents], places)
    counted = set(applied.kept)
    findings = [invalid_input(stack, paths(documents[d.last][0]), documents[d.last][1], d.message(),
                              resource_ref("", documents[d.last][2])) for d in applied.duplicates]
    for index, (file, line, obj) in enumerate(documents):
        props, placeholders = _as_json(mask_secret_data(obj, found), file, line)
        if index not in counted:
            continue
        res = resource_from_manifest(props, stack=stack, project=project, plain=not placeholders)
        if res.urn in seen:  # no name to tell them apart (generateName only): kubectl apply refuses such objects
            findings.append(invalid_input(stack, paths(file), line, f"{resource_ref(res.urn, props).label()} at "
                                          f"{places[index]} has no metadata.name, like the one at {seen[res.urn]}: "
                                          "kubectl apply refuses an object without a name; only the first is judged",
                                          resource_ref(res.urn, props)))
            continue
        seen[res.urn] = places[index]
        resources.append(res)
        locations[res.urn] = (paths(file), line)
        origins[res.urn] = file
    return PackTarget(
        stack=stack,
        project=project,
        config={"sovereign-clusters:jurisdiction": jurisdiction},
        resources=resources,
        source=paths(documents[0][0]) if documents else "",
        locations=locations,
        origins=origins,
        secret_values=frozenset(found),
        input_findings=tuple(findings),
    )


def _as_json(props: Mapping[str, Any], file: str, line: int) -> tuple[Mapping[str, Any], bool]:
    """The props as JSON carries them (what Kubernetes and the CLI see): keys that are not strings become their JSON
    text (``true``, ``1``); the same object when nothing changes. And whether a value is one of the engine's
    placeholders for an unknown value (the pack then reads the props through its checking view). A value JSON
    cannot carry is bad input naming the object's file, line and the value's key path."""
    seen: list[bool] = [False]
    try:
        return _json_form(props, (), seen), seen[0]
    except _NotJson as exc:
        raise InputError(file, (f"document at line {line}", *exc.path),
                         "a JSON value (Kubernetes reads manifests as JSON: quote dates and other YAML-only values)",
                         found_text=exc.what[:200]) from None


class _NotJson(Exception):  # noqa: N818 - carries where and what up to _as_json
    def __init__(self, path: tuple[str | int, ...], what: str) -> None:
        super().__init__(what)
        self.path = path
        self.what = what


def _json_key(key: Any) -> str:
    return key if isinstance(key, str) else json.dumps(key)


def _json_form(value: Any, path: tuple[str | int, ...], placeholder: list[bool]) -> Any:
    """``value`` with keys as JSON writes them; ``_NotJson`` at the first non-JSON key or value, infinite or NaN
    number (JSON has none; Python's json module would write ``NaN``), or integer too large for a double (Pulumi
    passes numbers as doubles)."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not (key is None or isinstance(key, str | bool | int | float)):  # JSON turns those into strings
                raise _NotJson((*path, str(key)), f"the key {key!r} ({type(key).__name__})")
            name = _json_key(key)
            form = _json_form(item, (*path, name), placeholder)
            changed = changed or form is not item or name is not key
            out[name] = form
        return out if changed else value
    if isinstance(value, list):
        items = [_json_form(item, (*path, index), placeholder) for index, item in enumerate(value)]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    if isinstance(value, float) and value - value != 0.0:  # inf - inf and nan - nan are NaN
        raise _NotJson(path, f"the non-finite number {value!r} (JSON has no NaN or Infinity)")
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            raise _NotJson(path, f"an integer of {len(str(abs(value)))} digits, too large for a JSON number "
                                 f"(a double)") from None
    if isinstance(value, str):
        if value in UNKNOWN_PLACEHOLDERS:
            placeholder[0] = True
        return value
    if value is None or isinstance(value, bool | int | float):
        return value
    raise _NotJson(path, f"{type(value).__name__} {value!r}")


def _describe(info: AnalyzerInfo, effective: Mapping[str, Mapping[str, Any]]) -> list[PolicyDescription]:
    """The pack's policies at the levels this run judged with (``disabled``: the rule did not run)."""
    return [
        PolicyDescription(
            name=p.name,
            description=p.description,
            enforcement=str((effective.get(p.name) or {}).get("enforcementLevel") or p.enforcement_level),
            severity=p.severity,
            remediation=p.remediation_steps,
            policy_type=p.policy_type,
        )
        for p in info.policies
    ]


def at_config(info: AnalyzerInfo, at: str | None) -> dict[str, dict[str, str]]:
    """``{"<policy>": {"at": AT}}`` for each policy whose config schema declares ``at``."""
    if not at:
        return {}
    return {p.name: {"at": at} for p in info.policies if "at" in p.config_schema}


def pack_config(info: AnalyzerInfo, user: Mapping[str, Any] | None, at: str | None,
                selection: RuleSelection = EVERY_RULE) -> dict[str, Any]:
    """The ``--policy-pack-config`` content (raw JSON shape) with the rules ``selection`` leaves out disabled, and
    ``at`` set, for ``--at``, in every policy whose schema takes it: the explicit flags win over a file's values."""
    merged = selection.apply(info, user or {})
    for name, extra in at_config(info, at).items():
        entry = merged.get(name)
        if isinstance(entry, str):
            merged[name] = {"enforcementLevel": entry, **extra}
        elif isinstance(entry, dict):
            entry.update(extra)
        else:
            merged[name] = dict(extra)
    return merged


class Pack(Protocol):
    """What a run asks of a pack, on either transport (``DirectPack`` or ``PolicyPackProcess``)."""

    def configure_stack(self, *, stack: str, project: str) -> None: ...
    def get_analyzer_info(self) -> AnalyzerInfo: ...
    def configure(self, policy_config: Mapping[str, Any] | None = None, *, source: str = ...) -> Any: ...
    def analyze(self, resource: AnalyzerResource) -> list[Diagnostic]: ...
    def analyze_stack(self, resources: Iterable[AnalyzerResource]) -> list[Diagnostic]: ...


@dataclass(frozen=True)
class PackRun:
    transport: str
    """The transport the pack ran on (``in-process`` asked for a pack without a direct entry point: ``grpc``)."""
    result: StackResult
    policies: tuple[PolicyDescription, ...]
    pack_name: str
    pack_version: str


def pack_version(pack_dir: Path, reported: str) -> str:
    """The CLI shows PulumiPolicy.yaml's ``version`` (Python packs always report 0.0.1; docs/pulumi-runtime.md §2)."""
    path = pack_dir / "PulumiPolicy.yaml"
    if path.is_file():
        data = load_yaml_file(path)
        if isinstance(data, dict) and isinstance(data.get("version"), str | int | float):
            return str(data["version"])
    return reported


def pack_environment(at: str | None, catalog: Path | None) -> dict[str, str]:
    """The variables the pack reads besides the language host's: ``--catalog`` and ``--at``."""
    env: dict[str, str] = {}
    if catalog is not None:
        env[CATALOG_ENV] = str(catalog.resolve())
    if at:
        env[AT_ENV] = at
    return env


class PreparedPack(NamedTuple):
    pack: Pack
    info: AnalyzerInfo
    transport: str
    """The transport it runs on (``in-process`` asked for a pack without a direct entry point: ``grpc``)."""
    effective: Mapping[str, Mapping[str, Any]]
    """Every policy's effective config, as the CLI reconciles it (``enforcementLevel``, ``properties``)."""


@contextlib.contextmanager
def prepared_pack(
    transport: str, pack_dir: Path, *, config: Mapping[str, Any], stack: str, project: str, catalog: Path | None,
    at: str | None, policy_config: Mapping[str, Any] | None = None, policy_config_source: str = "--policy-pack-config",
    selection: RuleSelection = EVERY_RULE,
) -> Iterator[PreparedPack]:
    """The pack brought to its first resource as the CLI does it (``ConfigureStack``, ``GetAnalyzerInfo``,
    ``Configure`` with the ``--policy-pack-config`` content and ``at`` for the policies that take it), and the
    transport it runs on: ``in-process`` runs a pack's rules directly when the pack offers a direct entry point
    (sovereign/check/direct_pack.py), else, as ``grpc`` does, a pack process over the analyzer protocol."""
    if transport not in TRANSPORTS:
        raise ValueError(f"unknown pack transport {transport!r}")
    entry = direct_entry(pack_dir) if transport == "in-process" else None
    pack: Pack
    with contextlib.ExitStack() as stack_of:
        if entry is not None:
            too_big = over_limit_message(stack, env_string_bytes(dict(config)))
            if too_big:  # the CLI could not pass this config to the pack: refused on every path
                raise AnalyzerError(too_big)
            pack = entry(stack=stack, config=dict(config), catalog=catalog.resolve() if catalog else None,
                         now=evaluation_time(at))
            used = "in-process"
        else:
            from sovereign.analyzer.client import PolicyPackProcess  # gRPC: imported only for this path

            pack = stack_of.enter_context(PolicyPackProcess.start(pack_dir, stack_config=config, stack=stack,
                                                                  project=project,
                                                                  env=pack_environment(at, catalog)))
            used = "grpc"
        pack.configure_stack(stack=stack, project=project)
        info = pack.get_analyzer_info()
        effective = pack.configure(pack_config(info, policy_config, at, selection),
                                   source=policy_config_source if policy_config else "--at")
        yield PreparedPack(pack, info, used, effective)


STACK_HELPER_TIMEOUT_S = 600.0
"""How long this process waits for the helper's ``AnalyzeStack`` answer once its own part is done; past it the
helper is ended and this process asks the pack itself."""


def run_pack(
    target: PackTarget, pack_dir: Path, *, at: str | None, catalog: Path | None, transport: str = "in-process",
    policy_config: Mapping[str, Any] | None = None, policy_config_source: str = "--policy-pack-config",
    selection: RuleSelection = EVERY_RULE, helper: bool = False,
) -> PackRun:
    """Every RPC of a preview over ``target``, in the CLI's order: per resource ``Analyze`` (after ``Remediate``
    over gRPC), then one ``AnalyzeStack``.

    ``helper`` (a core is idle): the rules run in this process, and the stack rules (the connectivity proof, about
    half of the rules' time on a large stack) ask nothing of the resource rules, so a forked child
    (sovereign/process/forked_child.py) answers ``AnalyzeStack`` while this process asks ``Analyze`` of every
    resource. The diagnostics keep the CLI's order; a child that fails in any way gives no answer, and this process
    then asks ``AnalyzeStack`` itself, so the result (or the error) is the one-process result."""
    with cycle_collection_paused(), prepared_pack(transport, pack_dir, config=target.config, stack=target.stack,
                                                  project=target.project, catalog=catalog, at=at,
                                                  policy_config=policy_config,
                                                  policy_config_source=policy_config_source,
                                                  selection=selection) as (pack, info, used, effective):
        aside = (ForkedChild.start(lambda: pack.analyze_stack(target.resources))
                 if helper and used == "in-process" else None)
        diagnostics: list[Diagnostic] = []
        try:
            for res in target.resources:
                diagnostics.extend(pack.analyze(res))
        except BaseException:
            if aside is not None:
                aside.stop()
            raise
        answered, stack_diagnostics = aside.answer(STACK_HELPER_TIMEOUT_S) if aside else (False, None)
        if not (answered and isinstance(stack_diagnostics, list)
                and all(isinstance(d, Diagnostic) for d in stack_diagnostics)):
            stack_diagnostics = pack.analyze_stack(target.resources)
        diagnostics.extend(stack_diagnostics)
    by_urn = {r.urn: r for r in target.resources}
    violations = set(target.input_findings)
    suppressed = []
    for d in diagnostics:
        if d.policy_name in EXEMPTION_COMPANIONS:
            found_suppressed = parse_suppressed(scrub(d.detail.strip(), target.secret_values))
            if found_suppressed is not None:
                file, line = target.locate(by_urn.get(d.urn), found_suppressed.finding)
                suppressed.append(dataclasses.replace(found_suppressed, source=file, line=line))
                continue
        found = by_urn.get(d.urn)
        message = scrub(d.detail.strip(), target.secret_values)
        file, line = target.locate(found, message)
        violations.add(
            Violation(
                stack=target.stack,
                policy=d.policy_name,
                resource=resource_ref(d.urn, found.props if found else None),
                message=message,
                enforcement=d.enforcement_level,
                severity=d.severity,
                source=file,
                line=line,
            )
        )
    inventory = build_inventory(((r.type, r.name, r.props, bool(r.provider_urn)) for r in target.resources),
                                policy_config or {}, evaluation_time(at), suppressed)
    return PackRun(
        transport=used,
        result=StackResult(
            stack=target.stack,
            resources=len(target.resources),
            violations=tuple(sorted(violations)),
            source=target.source,
            inventory=inventory,
        ),
        policies=tuple(_describe(info, effective)),
        pack_name=info.name,
        pack_version=pack_version(pack_dir, info.version),
    )
