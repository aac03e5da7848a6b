"""``sovereign render``: run the Pulumi program offline under the SDK's mock runtime, one process per stack,
and write ``OUT/<stack>/preview.json`` plus ``OUT/<stack>/manifests/`` (schema-validated)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sovereign.cli import exitcodes
from sovereign.cli.progress import Progress, add_progress_flag
from sovereign.core.clock import parse_instant
from sovereign.core.errors import InputError
from sovereign.core.paths import project_root
from sovereign.render.runner import DEFAULT_JOBS, StackRender, render_stacks

DEFAULT_OUT = Path("out")


def add_stack_selection(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="stack name(s), e.g. cn-prod")
    parser.add_argument("--all", action="store_true", help="every stack with a stacks/Pulumi.<stack>.yaml")
    parser.set_defaults(_stacks_required=required)


def selected_stacks(args: argparse.Namespace) -> list[str]:
    """The stacks named on the command line, or all of them; InputError when neither or both."""
    if args.all and args.stacks:
        raise InputError("command line", ("STACK",), "either stack names or --all, not both", args.stacks)
    if args.all:
        from sovereign.stackconfig.loader import list_stacks  # only here: the validator is needed only then

        stacks = list_stacks()
        if not stacks:
            raise InputError("stacks/", (), "at least one stacks/Pulumi.<stack>.yaml", found_text="none")
        return stacks
    if not args.stacks and getattr(args, "_stacks_required", True):
        raise InputError("command line", ("STACK",), "a stack name or --all", found_text="nothing")
    return list(dict.fromkeys(args.stacks))


def validated_at(text: str | None) -> str | None:
    """``--at`` checked early (bad value -> exit 2 before anything runs), passed on as given."""
    if text:
        parse_instant(text)
    return text


def run_render(
    stacks: list[str],
    out: Path,
    *,
    at: str | None,
    jobs: int,
    progress: Progress,
    root: Path | None = None,
    isolate: bool = False,
) -> list[StackRender]:
    progress.start("render", len(stacks))
    return render_stacks(
        stacks,
        out,
        root=root or project_root(),
        at=at,
        jobs=jobs,
        isolate=isolate,
        on_done=lambda r: progress.step(f"{r.stack}: {r.resources} resources, {r.manifests} manifests"),
    )


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "render",
        help="render stacks offline: preview.json + validated manifests",
        description="Run the Pulumi program under the SDK mock runtime as the language host runs it (one "
        "process per stack), and write OUT/<stack>/preview.json (the steps of `pulumi preview --json`) and "
        "OUT/<stack>/manifests/ (one YAML file per Kubernetes object, named as renderYamlToDirectory names "
        "them, validated against the cluster's Kubernetes version). The program's own warnings (pulumi.log) are "
        "printed on stderr and kept in preview.json with its exports. Exit 0 when every manifest is valid, "
        "1 when a manifest fails its schema, 2 on bad input (nothing written).",
    )
    add_stack_selection(parser, required=True)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (default: out/)")
    parser.add_argument("--at", help="evaluation time (ISO 8601) handed to the program as SOVEREIGN_AT")
    parser.add_argument(
        "--jobs", type=int, default=DEFAULT_JOBS, help="stacks rendered in parallel (default 2)"
    )
    add_progress_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stacks = selected_stacks(args)
    at = validated_at(args.at)
    progress = Progress.from_args(args)
    renders = run_render(stacks, args.out, at=at, jobs=args.jobs, progress=progress)
    invalid = 0
    for r in renders:
        invalid += r.schema_errors
        print(
            f"{r.stack}: {r.resources} resources, {r.manifests} manifests, {r.schema_errors} schema errors, "
            f"{len(r.program_messages)} program warning(s) -> {r.directory}/"
        )
        # What the program reported (pulumi.log.warn/error), as `pulumi preview` prints its diagnostics.
        for severity, message in r.program_messages:
            print(f"{r.stack}: program {severity}: {message}", file=sys.stderr)
    if invalid:
        print(f"{invalid} schema error(s): see 'diagnostics' in preview.json", file=sys.stderr)
        return exitcodes.VIOLATIONS
    return exitcodes.CLEAN
