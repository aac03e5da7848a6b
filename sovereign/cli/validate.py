"""``sovereign validate``: load the catalog and every stack through the real loaders, nothing else.

The fastest useful check: schema and catalog errors surface here before a program or a pack runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sovereign.cli import exitcodes
from sovereign.core.errors import InputError, InputErrors


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "validate",
        help="validate the jurisdiction catalog and stack files against their schemas and each other",
        description="Load the catalog and each stack with the same loaders the program and the policy pack use.",
    )
    parser.add_argument("stacks", nargs="*", metavar="STACK", help="stack names (default: every stacks/Pulumi.*.yaml)")
    parser.add_argument("--catalog", type=Path, help="catalog directory (default: policies/catalog)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from sovereign.catalog import load_catalog
    from sovereign.stackconfig.loader import list_stacks, load_stack

    catalog = load_catalog(args.catalog) if args.catalog else load_catalog()
    print(
        f"catalog {catalog.version} (as of {catalog.as_of}): {len(catalog.jurisdictions)} jurisdictions, "
        f"{sum(len(p.regions) for p in catalog.providers.values())} regions across {len(catalog.providers)} providers"
    )
    names = list(args.stacks) or list_stacks()
    if not names:
        raise InputError("stacks/", (), "at least one stacks/Pulumi.<stack>.yaml", found_text="none")
    errors: list[InputError] = []
    for name in names:
        try:
            config = load_stack(name, catalog=catalog)
        except InputErrors as exc:
            errors.extend(exc.errors)
            continue
        except InputError as exc:
            errors.append(exc)
            continue
        print(
            f"stack {name}: jurisdiction {config.jurisdiction}, {config.cluster.provider} "
            f"{','.join(config.cluster.regions)}, {len(config.workloads)} workloads, "
            f"{len(config.transfers)} transfers: valid"
        )
    for error in errors:
        print(f"sovereign validate: error: {error.message}", file=sys.stderr)
    return exitcodes.BAD_INPUT if errors else exitcodes.CLEAN
