"""``sovereign merge``: one check report from the shares of a sharded check (``check --shard I/N --format json``
on N CI runners), in any format, identical to the report one runner checking every stack would have written.

Closed world: the shares must be a complete set of one run (each of 1..N once, the same stacks, the same
evaluation time and settings); a share missing, repeated or from another run is bad input (exit 2, nothing
written), never a report that silently covers fewer stacks.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from sovereign.check.model import CheckReport, Shard, merge_policies
from sovereign.cli import exitcodes
from sovereign.core.errors import InputError
from sovereign.output.registry import formats, render, write_output

SHARD_REPORT = "a report of `sovereign check --shard I/N --format json`"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="combine the JSON reports of a sharded check (check --shard I/N) into one report",
        description="Read the --format json reports of `sovereign check --all --shard I/N` for every I of one N "
        "and write the report a single `sovereign check --all` would have written, in any format. Exit 0 when "
        "no mandatory violation, 1 otherwise, 2 when a stack could not be judged or the shares are not one "
        "complete run (nothing written then).",
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="FILE", help="the shards' JSON reports")
    parser.add_argument("--format", choices=formats("check"), default="text", help="output format (default text)")
    parser.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    parser.set_defaults(func=run)


def read_share(path: Path) -> CheckReport:
    """One shard's report; InputError naming the file when it is not one."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, (), SHARD_REPORT, found_text=exc.strerror or type(exc).__name__) from None
    except ValueError as exc:
        raise InputError(path, (), SHARD_REPORT, found_text=f"not JSON ({exc})") from None
    if not isinstance(doc, dict) or "shard" not in doc:
        raise InputError(path, ("shard",), SHARD_REPORT, found_text="a report without a shard")
    try:
        return CheckReport.from_json(doc)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(path, (), SHARD_REPORT, found_text=f"another shape ({type(exc).__name__}: {exc})") from None


def _same(shares: Sequence[tuple[Path, CheckReport]], what: str, of: Callable[[CheckReport], object]) -> None:
    """Every share agrees with the first on ``what``."""
    first_path, first = shares[0]
    for path, report in shares:
        if of(report) != of(first):
            raise InputError(path, (what,), f"the {what} of {first_path} (all shares of one run)",
                             found_text=str(of(report)))


def _shard(report: CheckReport) -> Shard:
    assert report.shard is not None  # read_share refuses a report without one
    return report.shard


def merge_shares(shares: Sequence[tuple[Path, CheckReport]]) -> CheckReport:
    """The single run's report from a complete set of shares (InputError naming the file otherwise)."""
    first = shares[0][1]
    run = _shard(first)
    _same(shares, "shard count", lambda r: _shard(r).count)
    _same(shares, "stacks", lambda r: _shard(r).stacks)
    _same(shares, "evaluation time", lambda r: r.at)
    _same(shares, "soft-fail setting", lambda r: r.soft_fail)
    seen: dict[int, Path] = {}
    for path, report in shares:
        index = _shard(report).index
        if index in seen:
            raise InputError(path, ("shard", "index"), f"a shard other than {seen[index]}'s",
                             found_text=f"{index}/{run.count} again")
        seen[index] = path
    missing = [str(i) for i in range(1, run.count + 1) if i not in seen]
    if missing:
        raise InputError("command line", ("FILE",), f"the reports of all {run.count} shards",
                         found_text=f"no report of shard(s) {', '.join(missing)}/{run.count}")
    judged = [(p, r) for p, r in shares if r.stacks]
    if judged:
        _same(judged, "policy pack", lambda r: (r.pack_name, r.pack_version))
        _same(judged, "catalog", lambda r: r.catalog)
    results = {}
    for path, report in shares:
        for result in report.stacks:
            if result.stack not in run.stacks or result.stack in results:
                raise InputError(path, ("summary", "stacks"), "each stack of the run in exactly one shard",
                                 found_text=result.stack)
            results[result.stack] = result
    absent = [s for s in run.stacks if s not in results]
    if absent:
        raise InputError("command line", ("FILE",), "a result for every stack of the run",
                         found_text=f"none for {', '.join(absent)}")
    lead = judged[0][1] if judged else first
    return CheckReport(
        pack_name=lead.pack_name,
        pack_version=lead.pack_version,
        stacks=tuple(results[s] for s in run.stacks),
        policies=merge_policies([r.policies for _, r in shares]),
        at=first.at,
        notes=tuple(sorted(n for _, r in shares for n in r.notes)),
        soft_fail=first.soft_fail,
        catalog=lead.catalog,
    )


def run(args: argparse.Namespace) -> int:
    shares = [(path, read_share(path)) for path in args.reports]
    report = merge_shares(shares)
    write_output(render("check", args.format, report), args.output)
    if args.output is not None:  # as check --output: the verdict on stderr
        from sovereign.output.check_formats import verdict_line

        print(f"{args.output}: {verdict_line(report)}", file=sys.stderr)
    if report.bad_input:
        return exitcodes.BAD_INPUT
    return exitcodes.VIOLATIONS if report.exit_code else exitcodes.CLEAN
