"""``sovereign diff``: what a change does to residency (posture first), then which resources change."""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from sovereign.check.model import Violation
from sovereign.check.policy_run import run_pack, target_from_render
from sovereign.cli import exitcodes
from sovereign.cli.check import add_pack_transport_flag
from sovereign.cli.pack_settings import add_pack_settings_flags, pack_settings
from sovereign.cli.progress import Progress, add_progress_flag
from sovereign.cli.render import run_render, validated_at
from sovereign.core.clock import evaluation_time
from sovereign.core.errors import InputError
from sovereign.core.paths import project_root
from sovereign.diff.compare import DiffResult, PolicyRunner, diff_render_dirs
from sovereign.diff.git_base import base_worktree
from sovereign.output.registry import formats, render, write_output
from sovereign.render.project import load_project
from sovereign.render.rendered import RenderedStack
from sovereign.render.runner import DEFAULT_JOBS, usable_cores

DEFAULT_EXPIRING_DAYS = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "diff",
        help="residency posture diff, then resource diff, between two renders (or a git base and the tree)",
        description="Compare BASE and HEAD render directories (from `sovereign render`), or render the "
        "git revision --base in a temporary worktree and the working tree as HEAD. Residency first: egress "
        "opened/closed, cross-border flows, storage and backup moves, transfers (added, removed, expiring), "
        "policy results; then resources with property paths. Exit 1 when the change adds a mandatory "
        "violation or a cross-border flow no transfer approves, 2 on bad input.",
    )
    parser.add_argument("dirs", nargs="*", metavar="DIR", help="BASE and HEAD render directories")
    parser.add_argument(
        "--base", metavar="GIT_REF", help="render this git revision as BASE, the working tree as HEAD"
    )
    parser.add_argument("--format", choices=formats("diff"), default="markdown", help="default markdown")
    parser.add_argument("--output", type=Path, help="write to this file instead of stdout")
    parser.add_argument(
        "--expiring-days",
        type=int,
        default=DEFAULT_EXPIRING_DAYS,
        help="flag transfers ending within this many days (default 30)",
    )
    parser.add_argument("--at", help="evaluation time (ISO 8601); default $SOVEREIGN_AT, else now")
    parser.add_argument("--catalog", type=Path, help="catalog directory (default: policies/catalog)")
    parser.add_argument("--no-policy", action="store_true", help="skip running the policy pack on both sides")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: <root>/policies)")
    parser.add_argument("--jobs", type=int, default=DEFAULT_JOBS, help="parallel renders")
    add_pack_transport_flag(parser)
    add_pack_settings_flags(parser)
    add_progress_flag(parser)
    parser.set_defaults(func=run)


def _policy_runner(args: argparse.Namespace, at: str | None) -> PolicyRunner | None:
    if args.no_policy:
        return None
    root = project_root()
    pack_dir: Path = args.policy_pack or (root / "policies")
    if not (pack_dir / "__main__.py").is_file():
        raise InputError(pack_dir, (), "a policy pack directory (with __main__.py)", found_text="none")

    settings = pack_settings(args)

    def runner(rendered: RenderedStack) -> list[Violation]:
        return list(
            run_pack(
                target_from_render(rendered, root),
                pack_dir,
                at=at,
                catalog=args.catalog,
                transport=args.pack_transport,
                policy_config=settings.config,
                policy_config_source=settings.config_source,
                selection=settings.selection,
                helper=usable_cores() > 1,
            ).result.violations
        )

    return runner


def _diff(
    args: argparse.Namespace, base: Path, head: Path, base_label: str, head_label: str, progress: Progress
) -> DiffResult:
    from sovereign.catalog import default_catalog, load_catalog

    at_text = validated_at(args.at)
    catalog = load_catalog(args.catalog) if args.catalog else default_catalog()
    progress.note("diff: comparing renders")
    return diff_render_dirs(
        base,
        head,
        catalog=catalog,
        at=evaluation_time(at_text),
        expiring_days=args.expiring_days,
        policy=_policy_runner(args, at_text),
        base_label=base_label,
        head_label=head_label,
        progress=progress.note,
    )


def build(args: argparse.Namespace, progress: Progress) -> DiffResult:
    if args.expiring_days < 0:
        raise InputError("--expiring-days", (), "a number of days >= 0", args.expiring_days)
    if args.base is None:
        if len(args.dirs) != 2:
            raise InputError(
                "command line",
                ("BASE HEAD",),
                "two render directories, or --base GIT_REF",
                found_text=f"{len(args.dirs)} argument(s)",
            )
        base, head = (Path(d) for d in args.dirs)
        return _diff(args, base, head, str(base), str(head), progress)
    if args.dirs:
        raise InputError(
            "command line", ("DIR",), "no directories with --base (HEAD is the working tree)", args.dirs
        )
    at_text = validated_at(args.at)
    root = project_root()
    work = Path(tempfile.mkdtemp(prefix="sovereign-diff-"))
    try:
        with base_worktree(root, args.base) as tree:
            base_stacks = load_project(tree).stack_names()
            if base_stacks:
                run_render(
                    base_stacks,
                    work / "base",
                    at=at_text,
                    jobs=args.jobs,
                    progress=progress,
                    root=tree,
                    isolate=True,
                )
            else:
                (work / "base").mkdir()
        head_stacks = load_project(root).stack_names()
        run_render(head_stacks, work / "head", at=at_text, jobs=args.jobs, progress=progress, root=root)
        return _diff(args, work / "base", work / "head", args.base, "working tree", progress)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace) -> int:
    progress = Progress.from_args(args)
    result = build(args, progress)
    text = render("diff", args.format, result)
    write_output(text, args.output)
    return exitcodes.VIOLATIONS if result.exit_code and not args.soft_fail else exitcodes.CLEAN
