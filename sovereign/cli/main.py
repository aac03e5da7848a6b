"""Entry point of the ``sovereign`` command (also ``python -m sovereign``).

Each subcommand lives in its own module with ``register(subparsers)``; it sets ``func(args) -> int``.
Bad input anywhere surfaces as ``InputError``: printed as one clear line per problem, exit status 2; a failed
program or policy pack (``ToolFailure``) likewise.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sovereign.cli import exitcodes
from sovereign.errors import InputError, ToolFailure

SUBCOMMAND_MODULES = ("validate", "render", "check", "diff", "reach")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep that, it matches our bad-input code."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sovereign",
        description="Render, check and diff sovereign-clusters stacks offline; prove no path crosses a border.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(f"sovereign.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sovereign.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except InputError as exc:
        print(f"sovereign {args.command}: error: {exc.message}", file=sys.stderr)
        return exitcodes.BAD_INPUT
    except ToolFailure as exc:
        print(f"sovereign {args.command}: error: {exc.what}{exc}", file=sys.stderr)
        return exitcodes.BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
