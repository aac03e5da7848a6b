"""``sovereign check``: run the residency policy pack over rendered stacks or plain manifests, through the
analyzer protocol (the RPCs of ``pulumi preview --policy-pack``, in process or over gRPC), and report the
violations."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sovereign.analyzer.resource import PROJECT
from sovereign.analyzer.transports import TRANSPORTS
from sovereign.check.disclosure import catalog_layers, transfer_statuses
from sovereign.check.input_findings import input_policies
from sovereign.check.manifest_parse_helper import ManifestLoad
from sovereign.check.model import CheckReport, StackResult, TransferStatus, Violation, merge_policies, resource_ref
from sovereign.cli import exitcodes
from sovereign.cli.incremental import add_incremental_flags, build_incrementally
from sovereign.cli.pack_settings import add_pack_settings_flags, pack_settings
from sovereign.cli.progress import Progress, add_progress_flag
from sovereign.cli.render import DEFAULT_OUT, add_stack_selection, selected_stacks, validated_at
from sovereign.core import labels
from sovereign.core.clock import evaluation_time, one_evaluation_time
from sovereign.core.errors import InputError, ToolFailure
from sovereign.core.manifests import group_by_jurisdiction
from sovereign.core.paths import data_root, project_root
from sovereign.output.registry import formats, render, write_output
from sovereign.render.runner import DEFAULT_JOBS, stack_dir_name, usable_cores

if TYPE_CHECKING:
    from sovereign.catalog.model import Catalog
    from sovereign.check.policy_run import PackTarget
    from sovereign.render.rendered import RenderedStack

# The pack's libraries (pulumi_policy, the Pulumi SDK, grpc: ~0.3 s) and the render reader are imported where
# they are used, after ``--manifests`` has handed most of its parsing to a helper process (_prepare_pack).

SCHEMA_POLICY = "kubernetes-schema"
"""Render diagnostics of manifests that fail their OpenAPI/CRD schema: the API server would reject them."""
UNRENDERED_POLICY = "unrendered-component"
"""Remote components (Helm v4 charts, yaml/v2, kustomize/v2) whose objects the offline render could not see."""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "check",
        help="check rendered stacks or plain manifests with the residency policy pack",
        description="Render the stacks (unless only --render-dir is given) and run the policy pack over them "
        "through the analyzer protocol, as `pulumi preview --policy-pack policies` would; or run "
        "it over plain Kubernetes manifests (--manifests, e.g. Helm or kustomize output). Exit 0 when no "
        "mandatory violation, 1 otherwise, 2 on bad input.",
    )
    add_stack_selection(parser, required=False)
    parser.add_argument(
        "--manifests",
        type=Path,
        help="check plain manifests (file or directory) instead; with one STACK, under that stack's config "
        "(CNI, tenants, transfers)",
    )
    parser.add_argument(
        "--render-dir",
        "--out",
        dest="render_dir",
        type=Path,
        help="render directory (default out/); alone, checks the renders found there",
    )
    parser.add_argument(
        "--no-render",
        action="store_true",
        help="use existing renders in --render-dir instead of rendering the stacks again",
    )
    parser.add_argument("--jurisdiction", help="jurisdiction id for --manifests (else namespace labels)")
    parser.add_argument("--catalog", type=Path, help="catalog directory for the pack (SOVEREIGN_CATALOG)")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: <root>/policies)")
    parser.add_argument("--at", help="evaluation time (ISO 8601) for transfers and exemptions: policy config `at`")
    add_pack_settings_flags(parser)
    parser.add_argument(
        "--provider",
        help="the cluster's cloud provider (a catalog provider id) for --manifests: decides region ids that name "
        "places in different countries at different providers (default: the provider the manifests show, if one)",
    )
    parser.add_argument("--format", choices=formats("check"), default="text", help="output format (default text)")
    parser.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="parallel renders / pack runs")
    add_pack_transport_flag(parser)
    add_no_helpers_flag(parser)
    add_progress_flag(parser)
    add_incremental_flags(parser)
    parser.set_defaults(func=run)


def add_no_helpers_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-helpers",
        action="store_true",
        help="run the check in this one process: no forked helper parsing manifests or judging the stack rules "
        "on an idle core, no worker processes for parallel pack runs (for debugging, and where fork is unsafe); "
        "the same report, slower",
    )


def add_pack_transport_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--pack-transport",
        choices=TRANSPORTS,
        default=TRANSPORTS[0],
        help="in-process (default): the pack's rules run directly in this process (a pack without a direct entry "
        "point runs over gRPC); grpc: a pack process spoken to over the analyzer gRPC protocol, exactly as "
        "`pulumi preview --policy-pack` does (slower, same findings)",
    )


def _render_violations(rendered: RenderedStack, source: str, policy_config: Mapping[str, Any],
                       at: str | None) -> list[Violation]:
    """Findings of the offline render itself: manifests failing their schema (the API server would reject them)
    and remote components whose objects the mock runtime never registered (nothing there was checked). The
    latter may be accepted only by an active exemption of unjudged-object naming the component (then reported
    as suppressed, advisory)."""
    from sovereign.render.preview import UNRENDERED_PREFIX

    out = []
    for d in rendered.diagnostics:
        prefix = d.get("prefix")
        if prefix not in ("schema", UNRENDERED_PREFIX):
            continue
        urn = str(d.get("urn", ""))
        step = rendered.step(urn)
        resource = resource_ref(urn, step.inputs if step else None)
        message, enforcement = str(d.get("message", "")), "mandatory"
        if prefix == UNRENDERED_PREFIX:
            message, enforcement = _unrendered_decision(urn, message, policy_config, at)
        out.append(
            Violation(
                stack=rendered.stack,
                policy=SCHEMA_POLICY if prefix == "schema" else UNRENDERED_POLICY,
                resource=resource,
                message=message,
                enforcement=enforcement,
                severity="high",
                source=source,
            )
        )
    return out


def _unrendered_decision(urn: str, message: str, policy_config: Mapping[str, Any],
                         at: str | None) -> tuple[str, str]:
    """(message, enforcement) of an unrendered remote component under the carve-outs of unjudged-object."""
    from sovereign.check.inventory import UNJUDGED_RULE
    from sovereign.core.clock import evaluation_time
    from sovereign.core.exemptions import expired_note, match, parse_exemptions, suppressed_message
    from sovereign.kinds.tokens import split_type_token
    from sovereign.render.urns import urn_name, urn_type

    entry = policy_config.get(UNJUDGED_RULE)
    raw = entry.get("exemptions") if isinstance(entry, Mapping) else None
    exemptions = parse_exemptions(UNJUDGED_RULE, raw)  # already validated against the pack's schema
    type_token, name = urn_type(urn), urn_name(urn)
    group, _version, kind = split_type_token(type_token) or ("", "", type_token)
    found = match(exemptions, kind, group, "", name, evaluation_time(at))
    if found.active is not None:
        return suppressed_message(UNRENDERED_POLICY, f"{kind} {name}", message, found.active), "advisory"
    return message + (expired_note(found.expired) if found.expired else ""), "mandatory"


def _rendered_targets(args: argparse.Namespace,
                      progress: Progress) -> tuple[list[tuple[PackTarget, RenderedStack]], list[StackResult]]:
    """The renders to judge, and a result for every stack that could not be rendered or read (its problems as
    ``invalid-input``/``check-error`` findings): one bad stack does not keep the others from being checked."""
    from sovereign.check.policy_run import target_from_render
    from sovereign.render.rendered import find_renders, load_render
    from sovereign.render.runner import render_each

    render_dir: Path = args.render_dir or DEFAULT_OUT
    root = project_root()
    stacks = selected_stacks(args)
    unjudged: dict[str, StackResult] = {}
    if stacks and not args.no_render:
        progress.start("render", len(stacks))
        batch = render_each(stacks, render_dir, root=root, at=args.at, jobs=args.jobs,
                            on_done=lambda r: progress.step(f"{r.stack}: {r.resources} resources"))
        unjudged = {stack: _unjudged(stack, failure, root) for stack, failure in batch.failures.items()}
    if stacks:
        dirs = [(s, render_dir / stack_dir_name(s)) for s in stacks if s not in unjudged]
    elif args.render_dir is not None:
        dirs = [(d.name, d) for d in find_renders(render_dir)]
    else:
        raise InputError(
            "command line",
            ("STACK",),
            "stack names, --all, --render-dir or --manifests",
            found_text="nothing",
        )
    out = []
    for stack, d in dirs:
        try:
            rendered = load_render(d)
            out.append((target_from_render(rendered, root), rendered))
        except (InputError, ToolFailure) as exc:
            unjudged[stack] = _unjudged(stack, exc, root)
    return out, list(unjudged.values())


def _unjudged(stack: str, failure: InputError | ToolFailure, root: Path, source: str | None = None) -> StackResult:
    """The result of a stack that could not be judged: its problems as findings, nothing else. ``source``: the
    file the stack's findings point at (default: its stack file); paths relative to the project's repository."""
    from sovereign.check.input_findings import input_error_findings, tool_failure_finding
    from sovereign.check.repository_paths import repository_path, repository_root
    from sovereign.render.project import load_project

    base = repository_root(root)
    if source is None:
        try:
            source = repository_path(str(load_project(root).stack_file(stack)), base)
        except InputError:
            source = ""
    if isinstance(failure, InputError):
        found = input_error_findings(stack, failure, base)
    else:
        found = [tool_failure_finding(stack, failure, source)]
    return StackResult(stack=stack, resources=0, violations=tuple(sorted(set(found))), source=source,
                       judged=False)


def _prepare_pack(args: argparse.Namespace) -> None:
    """Import the pack's modules and load the catalog: needed anyway, done while a helper parses manifests.

    A catalog that fails to load is left for ``_require_known_jurisdiction`` to report where it always did
    (after the manifests' own problems): the load is simply tried again there. A pack that fails to load is
    reported where the run starts it.
    """
    import sovereign.connectivity  # noqa: F401 - the connectivity proof's engine: the stack rule imports it on first use
    from sovereign.check.direct_pack import direct_entry

    if args.pack_transport == "in-process":
        with contextlib.suppress(Exception):
            direct_entry(_pack_dir(args))
    if args.catalog is None:
        from sovereign.catalog import default_catalog

        with contextlib.suppress(InputError):
            default_catalog()  # cached for the process (functools.cache keeps no failure)


def _pack_dir(args: argparse.Namespace) -> Path:
    """``--policy-pack``, else the pack the data comes from: the project's, or outside any project the
    installed copy's (``check --manifests`` needs no project)."""
    return Path(args.policy_pack) if args.policy_pack else data_root() / "policies"


def _manifest_targets(args: argparse.Namespace) -> list[PackTarget]:
    if args.all or len(args.stacks) > 1:
        raise InputError(
            "command line",
            ("--manifests",),
            "at most one stack name with --manifests (the cluster whose config the manifests are checked under)",
            found_text="--all" if args.all else " ".join(args.stacks),
        )
    with ManifestLoad.start(args.manifests, helper=not args.no_helpers and usable_cores() > 1) as load:
        _prepare_pack(args)
        if args.stacks:
            return [_manifests_under_stack(args, args.stacks[0], load)]
        documents = load.documents()
    from sovereign.check.policy_run import target_from_manifests

    groups = group_by_jurisdiction(documents, args.jurisdiction)
    if len(groups) > 1:
        # Checked apart, each half of an in-cluster path between them would look harmless (RT-14).
        raise InputError(
            args.manifests,
            ("metadata", "labels", labels.JURISDICTION),
            "namespaces of one jurisdiction (a cluster belongs to one): check each cluster's manifests "
            "separately, or pass --jurisdiction to judge everything as one cluster of that jurisdiction",
            found_text=", ".join(sorted(groups)),
        )
    ((jurisdiction, docs),) = groups.items()
    _require_known_jurisdiction(args, jurisdiction)
    target = target_from_manifests("manifests", PROJECT, jurisdiction, docs)
    cluster = _cluster_provider(args, jurisdiction, docs)
    if cluster:
        target.config["sovereign-clusters:cluster"] = json.dumps(cluster, sort_keys=True)
    return [target]


def _cluster_provider(args: argparse.Namespace, jurisdiction: str, docs: list[Any]) -> dict[str, Any]:
    """``{"provider": ...}`` from ``--provider``, else from the one provider of the jurisdiction the manifests
    show (StorageClass provisioners, snapshot drivers, Velero plugins); several shown: ``{"providers": [...]}``,
    which narrows ambiguous region ids; none: ``{}`` (an ambiguous region id then fails closed in the rules)."""
    from sovereign.catalog.evidence import providers_shown

    catalog = _catalog(args)
    if args.provider:
        if catalog.provider(args.provider) is None:
            raise InputError("command line", ("--provider",),
                             f"a provider of the catalog ({', '.join(sorted(catalog.providers))})", args.provider)
        return {"provider": str(args.provider)}
    shown = providers_shown(catalog, jurisdiction, (obj for _file, _line, obj in docs))
    if len(shown) == 1:
        return {"provider": shown[0]}
    return {"providers": shown} if shown else {}


def _require_known_jurisdiction(args: argparse.Namespace, jurisdiction: str) -> None:
    """An unknown id is a usage error before the pack starts, not a report full of fail-closed findings."""
    catalog = _catalog(args)
    if catalog.jurisdiction(jurisdiction) is None:
        where = ("--jurisdiction",) if args.jurisdiction else ("metadata", "labels", labels.JURISDICTION)
        raise InputError(
            "command line" if args.jurisdiction else args.manifests,
            where,
            f"a jurisdiction of the catalog ({', '.join(sorted(catalog.jurisdictions))})",
            jurisdiction,
        )


def _manifests_under_stack(args: argparse.Namespace, stack: str, load: ManifestLoad) -> PackTarget:
    """Plain manifests judged as the stack's cluster would judge them: its CNI, tenants and transfers.

    The pack gets the stack file's config exactly as for a render (secret values as ``"[secret]"``), so the
    connectivity proof knows which policy APIs the CNI enforces and which transfers are declared.
    """
    from sovereign.check.policy_run import target_from_manifests
    from sovereign.core.paths import stack_file
    from sovereign.stackconfig.loader import load_stack
    from sovereign.stackconfig.stack_file import read_stack_config

    config = load_stack(stack)
    if args.jurisdiction and args.jurisdiction != config.jurisdiction:
        raise InputError(
            "command line",
            ("--jurisdiction",),
            f"the jurisdiction of stack {stack} ({config.jurisdiction}) or no --jurisdiction",
            args.jurisdiction,
        )
    documents = load.documents()
    target = target_from_manifests(stack, PROJECT, config.jurisdiction, documents)
    target.config = read_stack_config(stack_file(stack)).display()
    return target


def _is_reported(diagnostic: dict[str, str]) -> bool:
    """Notes of the offline render (mock mode) and the program's own warnings, e.g. a transfer it left out
    because it expired: a reviewer reads the report, not the render's stderr."""
    prefix, severity = diagnostic.get("prefix"), diagnostic.get("severity")
    return prefix == "mock" or (prefix == "program" and severity in ("warning", "error"))


def _note(stack: str, diagnostic: dict[str, str]) -> str:
    kind = "program warning: " if diagnostic.get("prefix") == "program" else ""
    return f"{stack}: {kind}{diagnostic.get('message', '')}"


def _catalog(args: argparse.Namespace) -> Catalog:
    """The catalog the check judges with: ``--catalog``, else the project's."""
    from sovereign.catalog import default_catalog, load_catalog

    return load_catalog(args.catalog) if args.catalog is not None else default_catalog()


def _catalog_for_report(args: argparse.Namespace) -> Catalog | None:
    """The catalog the check judges with, for the report's disclosures; None when it does not load (each stack
    then fails with its problems as findings)."""
    try:
        return _catalog(args)
    except InputError:
        return None


def build_report(args: argparse.Namespace, progress: Progress) -> CheckReport:
    """One evaluation time for the whole run (render, pack, report), stated in every report: ``--at``, else this
    moment (transfers and exemptions are judged by it)."""
    given = validated_at(args.at)
    with one_evaluation_time(given) as at:
        return _build_report(args, progress, at, given)


def _build_report(args: argparse.Namespace, progress: Progress, at: str, given: str | None) -> CheckReport:
    if args.catalog is not None and not args.catalog.exists():
        raise InputError(args.catalog, (), "an existing catalog directory", found_text="no such file or directory")
    pack_dir = _pack_dir(args)
    if not (pack_dir / "__main__.py").is_file():
        raise InputError(pack_dir, (), "a policy pack directory (with __main__.py)", found_text="none")
    extra: dict[str, list[Violation]] = {}
    notes: list[str] = []
    settings = pack_settings(args)
    policy_config = settings.config
    unjudged: list[StackResult] = []
    if args.manifests is not None:
        targets = _manifest_targets(args)
    else:
        pairs, unjudged = _rendered_targets(args, progress)
        targets = [t for t, _ in pairs]
        for target, rendered in pairs:
            extra[target.stack] = _render_violations(rendered, target.source, policy_config, at)
            notes += [_note(rendered.stack, d) for d in rendered.diagnostics if _is_reported(d)]
    progress.start("check", len(targets))
    from sovereign.check.pack_runs import run_packs

    runs = run_packs(
        targets,
        pack_dir,
        at=given,
        catalog=args.catalog,
        transport=args.pack_transport,
        policy_config=policy_config,
        policy_config_source=settings.config_source,
        selection=settings.selection,
        jobs=1 if args.no_helpers else args.jobs,
        helpers=not args.no_helpers and usable_cores() > 1,
        on_done=lambda r: progress.step(f"{r.result.stack}: {len(r.result.violations)} violation(s)"),
    )
    catalog = _catalog_for_report(args)
    configs = {t.stack: t for t in targets}

    def transfers(stack: str) -> tuple[TransferStatus, ...]:
        target = configs.get(stack)
        if catalog is None or target is None:
            return ()
        return transfer_statuses(target.config, stack=stack, source=target.source, catalog=catalog,
                                 at=evaluation_time(at))

    stacks = tuple(
        StackResult(
            stack=r.result.stack,
            resources=r.result.resources,
            violations=tuple(sorted(set(r.result.violations) | set(extra.get(r.result.stack, [])))),
            source=r.result.source,
            inventory=r.result.inventory,
            transfers=transfers(r.result.stack),
        )
        for r in runs
    )
    order = {name: i for i, name in enumerate(selected_stacks(args) if args.manifests is None else [])}
    stacks = tuple(sorted((*stacks, *unjudged), key=lambda s: (order.get(s.stack, len(order)), s.stack)))
    first = runs[0] if runs else None
    own = input_policies([v for s in stacks for v in s.violations])
    return CheckReport(
        pack_name=first.pack_name if first else "",
        pack_version=first.pack_version if first else "",
        stacks=stacks,
        policies=merge_policies([*(r.policies for r in runs), own]),
        at=at,
        notes=tuple(sorted(notes)),
        soft_fail=settings.soft_fail,
        catalog=catalog_layers(catalog) if catalog is not None else (),
    )


def run(args: argparse.Namespace) -> int:
    """Check, write the report, and exit 0/1/2. Input that stops the whole command (a flag, the pack's
    configuration, the manifests) is still a report: one ``invalid-input`` finding, written where the report
    goes (so no report of an earlier run survives), then the error line and exit 2."""
    progress = Progress.from_args(args)
    try:
        report = build_incrementally(args, progress, build_report)  # unchanged stacks: kept verdicts; --shard
    except (InputError, ToolFailure) as exc:
        write_output(render("check", args.format, _error_report(args, exc)), args.output)
        raise
    write_output(render("check", args.format, report), args.output)
    if args.output is not None:  # the report went to a file: its verdict on stderr (make check ends with it)
        from sovereign.output.check_formats import verdict_line

        print(f"{args.output}: {verdict_line(report)}", file=sys.stderr)
    for v in (v for s in report.stacks if not s.judged for v in s.violations):
        print(f"sovereign check: error: {v.source}:{v.line}: {v.message}", file=sys.stderr)
    if report.bad_input:
        return exitcodes.BAD_INPUT
    return exitcodes.VIOLATIONS if report.exit_code else exitcodes.CLEAN


def _error_report(args: argparse.Namespace, exc: InputError | ToolFailure) -> CheckReport:
    """The report of a command stopped before any stack was judged."""
    if args.manifests is not None:
        name = args.stacks[0] if args.stacks else "manifests"
    else:
        name = " ".join(args.stacks) if args.stacks and not args.all else "check"
    try:
        root = project_root()
    except InputError:  # outside any project: paths relative to the working directory's repository
        root = Path.cwd()
    result = _unjudged(name, exc, root, source="")
    return CheckReport(pack_name="", pack_version="", stacks=(result,),
                       policies=tuple(input_policies(list(result.violations))), at=args.at,
                       soft_fail=bool(getattr(args, "soft_fail", False)))
