"""``sovereign check STACK…|--all``, incrementally and in shares: the stacks whose inputs did not change since a
kept check are not rendered or judged again (sovereign/check/verdict_cache.py), and ``--shard INDEX/COUNT``
checks one runner's share of them (sovereign/check/shards.py); ``sovereign merge`` puts the shares together.

Everything else of the check (rendering, judging, the report) is ``build_report``'s, called for the stacks that
must be judged; this module only decides which those are and assembles their results with the kept ones, in
the order a single run gives, under the run's own evaluation time.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sovereign.check.input_findings import input_policies
from sovereign.check.model import CheckReport, Shard, StackResult, merge_policies
from sovereign.check.repository_paths import repository_path, repository_root
from sovereign.check.shards import parse_shard, share, stack_costs
from sovereign.cli.pack_settings import pack_settings
from sovereign.cli.progress import Progress
from sovereign.cli.render import DEFAULT_OUT, selected_stacks, validated_at
from sovereign.core.clock import evaluation_time, instant_text
from sovereign.core.errors import InputError
from sovereign.core.exemptions import ExemptionError
from sovereign.core.paths import (
    PROJECT_FILES,
    catalog_dir,
    organisation_file,
    project_root,
    stack_file,
    stack_schema_path,
)
from sovereign.render.runner import stack_dir_name

if TYPE_CHECKING:
    from sovereign.check.verdict_cache import Kept, VerdictCache

DEFAULT_CACHE_DIR = Path(".sovereign-cache")
"""Under the project root, beside ``.pytest_cache`` and ``.mypy_cache`` (git-ignored, removed by ``make clean``)."""

Build = Callable[[argparse.Namespace, Progress], CheckReport]


def add_incremental_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("reuse and sharding (with STACK… or --all)")
    group.add_argument("--cache-dir", type=Path,
                       help="where renders and verdicts are kept between checks, a plain directory CI can persist "
                       f"(default: {DEFAULT_CACHE_DIR}/ at the project root)")
    group.add_argument("--no-cache", action="store_true",
                       help="render and judge every stack, reading and writing no kept verdict")
    group.add_argument("--shard", metavar="INDEX/COUNT",
                       help="check only share INDEX of COUNT (1-based; deterministic, balanced by stack file size): "
                       "one CI runner's share; `sovereign merge` combines the shares' --format json reports")


def _stack_run(args: argparse.Namespace) -> bool:
    return args.manifests is None and bool(args.all or args.stacks)


def build_incrementally(args: argparse.Namespace, progress: Progress, build: Build) -> CheckReport:
    """The report of ``build`` over the selected stacks (or this shard's share), with every stack whose kept
    verdict still holds taken from the cache instead of being rendered and judged."""
    shard = parse_shard(args.shard) if args.shard else None
    if shard is not None and not _stack_run(args):
        raise InputError("command line", ("--shard",), "stack names or --all to share out",
                         found_text="--manifests" if args.manifests is not None else "no stacks")
    if not _stack_run(args) or (shard is None and (args.no_cache or args.no_render)):
        return build(args, progress)
    every = selected_stacks(args)
    stacks = every if shard is None else share(every, stack_costs({s: stack_file(s) for s in every}), *shard)
    at = validated_at(args.at) or instant_text(evaluation_time())
    settings = pack_settings(args)
    cache = None if args.no_cache or args.no_render else _open_cache(args, at)
    render_dir: Path = args.render_dir or DEFAULT_OUT
    keys = cache.keys(stacks) if cache is not None else {}
    kept = cache.reusable(keys, render_dir) if cache is not None else {}
    if cache is not None:
        progress.note(f"reused the render and verdict of {len(kept)} of {len(stacks)} stack(s) "
                      f"({cache.cache.directory})")
    todo = [s for s in stacks if s not in kept]
    fresh = build(_for_stacks(args, todo, at), progress) if todo else None
    if fresh is not None and cache is not None:
        cache.keep(fresh, keys, render_dir)
    results: dict[str, StackResult] = {s: k.result for s, k in kept.items()}
    results.update({r.stack: r for r in fresh.stacks} if fresh is not None else {})
    reports = ([fresh] if fresh is not None else []) + [k.report for k in kept.values()]
    ran = next((r for r in reports if r.pack_name), None)
    return CheckReport(
        pack_name=ran.pack_name if ran else "",
        pack_version=ran.pack_version if ran else "",
        stacks=tuple(results[s] for s in stacks if s in results),
        policies=merge_policies([r.policies for r in reports]),
        at=at,
        notes=tuple(sorted(n for r in reports for n in r.notes)),
        soft_fail=settings.soft_fail,
        catalog=next((r.catalog for r in reports if r.catalog), ()),
        shard=Shard(shard[0], shard[1], tuple(every)) if shard is not None else None,
    )


def _for_stacks(args: argparse.Namespace, stacks: list[str], at: str) -> argparse.Namespace:
    """The same command for these stacks only, at the run's one evaluation time."""
    inner = argparse.Namespace(**vars(args))
    inner.stacks, inner.all, inner.at = stacks, False, at
    return inner


def _open_cache(args: argparse.Namespace, at: str) -> _RunCache | None:
    """The cache of this run; None when what every key depends on cannot be read (the check reports why)."""
    import sovereign
    from sovereign.check.verdict_cache import RunInputs, VerdictCache, config_exemptions

    root = project_root()
    settings = pack_settings(args)
    pack_dir = Path(args.policy_pack) if args.policy_pack else root / "policies"
    project_file = next((root / n for n in PROJECT_FILES if (root / n).is_file()), None)
    inputs = RunInputs(
        project_root=root,
        repository_root=repository_root(root),
        code_dirs={"infra": root / "infra", "policies": pack_dir, "sovereign": Path(sovereign.__file__).parent},
        files={"requirements.lock": root / "requirements.lock", "project": project_file,
               "stack-schema": stack_schema_path(), "organisation": organisation_file()},
        catalog_dir=Path(args.catalog) if args.catalog is not None else catalog_dir(),
        policy_config=settings.config,
        policy_config_source=settings.config_source,
        selection=settings.selection,
        transport=args.pack_transport,
    )
    try:
        digest = inputs.digest()
        exemptions = config_exemptions(settings.config)
    except (OSError, ExemptionError):
        return None
    directory = args.cache_dir if args.cache_dir is not None else root / DEFAULT_CACHE_DIR
    return _RunCache(VerdictCache(directory, exemptions, settings.config, at), digest, repository_root(root))


class _RunCache:
    """The verdict cache with this run's digest: keys per stack, reuse, keeping."""

    def __init__(self, cache: VerdictCache, digest: str, repository: Path) -> None:
        self.cache = cache
        self.digest = digest
        self.repository = repository

    def keys(self, stacks: list[str]) -> dict[str, str]:
        from sovereign.check.verdict_cache import stack_key

        out = {}
        for stack in stacks:
            path = stack_file(stack)
            try:
                out[stack] = stack_key(self.digest, stack, path, repository_path(str(path), self.repository))
            except OSError:
                continue  # a stack file that cannot be read: judged (and reported) as usual
        return out

    def reusable(self, keys: dict[str, str], render_dir: Path) -> dict[str, Kept]:
        out: dict[str, Kept] = {}
        for stack, key in keys.items():
            kept = self.cache.load(stack, key, render_dir / stack_dir_name(stack))
            if kept is not None:
                out[stack] = kept
        return out

    def keep(self, report: CheckReport, keys: dict[str, str], render_dir: Path) -> None:
        """Keep every judged stack of a fresh report, each as a one-stack report with its notes and policies."""
        pack_policies = [p for p in report.policies if p.policy_type != "command"]
        for result in report.stacks:
            if not result.judged or result.stack not in keys:
                continue
            one = CheckReport(
                pack_name=report.pack_name, pack_version=report.pack_version, stacks=(result,),
                policies=merge_policies([pack_policies, input_policies(list(result.violations))]),
                notes=tuple(n for n in report.notes if n.startswith(f"{result.stack}: ")),
                catalog=report.catalog,
            )
            self.cache.keep(keys[result.stack], one, render_dir / stack_dir_name(result.stack))
