"""``sovereign register``: the data-flow register of processing of each stack asked for (docs/register.md).

The stacks are rendered as ``sovereign check`` renders them (``out/<stack>/``, all or nothing: a stack that does
not render is bad input and nothing is written), at one evaluation time for the program and the register; each
render is then read through the connectivity proof (``sovereign.register.build``) and written as JSON, Markdown
or a self-contained HTML page.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sovereign.cli import exitcodes
from sovereign.cli.progress import Progress, add_progress_flag
from sovereign.cli.render import DEFAULT_OUT, add_stack_selection, run_render, selected_stacks, validated_at
from sovereign.core.clock import evaluation_time, instant_text
from sovereign.output.registry import formats, render, write_output
from sovereign.render.runner import DEFAULT_JOBS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "register",
        help="the data-flow register of processing: per data class where it rests, who handles it, how it leaves",
        description="Render the stacks (as `sovereign check` does, into OUT/<stack>/) and write, per stack, the "
        "register of processing a legal team needs: per data class its legal rule, where it is stored (regions, "
        "zones, storage classes, backup locations), which workloads read and write it, every path by which it "
        "can leave the cluster and every cross-border flow with its approval (reference, regulator, scope, "
        "destination, validity) — figures from the connectivity proof — and where the declared intent and "
        "the proof disagree. Exit 0 when written (a register is a record, not a verdict: `sovereign check` "
        "and `sovereign reach --summary` are the gates), 2 on bad input (nothing written).",
    )
    add_stack_selection(parser, required=True)
    parser.add_argument("--at", help="evaluation time (ISO 8601); default $SOVEREIGN_AT, else now")
    parser.add_argument("--format", choices=formats("register"), default=formats("register")[0],
                        help="default json")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout (atomically)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="render directory (default: out/)")
    parser.add_argument("--catalog", type=Path, help="catalog directory (default: policies/catalog)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="stacks rendered in parallel (default 2)")
    add_progress_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sovereign.catalog import default_catalog, load_catalog
    from sovereign.register.build import build_register
    from sovereign.render.rendered import load_render

    stacks = selected_stacks(args)
    at = evaluation_time(validated_at(args.at))
    catalog = load_catalog(args.catalog) if args.catalog else default_catalog()
    progress = Progress.from_args(args)
    # One instant for the program (which transfers it renders) and the register (their state).
    renders = run_render(stacks, args.out, at=instant_text(at), jobs=args.jobs, progress=progress)
    registers = [build_register(load_render(r.directory), catalog, at) for r in renders]
    write_output(render("register", args.format, registers), args.output)
    return exitcodes.CLEAN
