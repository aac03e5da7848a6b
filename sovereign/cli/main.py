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
from typing import NoReturn

from sovereign.cli import exitcodes
from sovereign.core.errors import InputError, ToolFailure
from sovereign.process.exiting import exit_now
from sovereign.process.gc_tuning import tune_for_batch

SUBCOMMAND_MODULES = (
    "init", "validate", "render", "check", "merge", "diff", "reach", "register", "rules", "kinds", "evidence",
)


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors already; keep that, it matches our bad-input code."""


DISTRIBUTION = "sovereign-clusters"
"""The name the package is installed under (pyproject.toml), whose metadata gives ``--version``."""


def version_text() -> str:
    """``sovereign --version``: the installed package's version, and the policy pack a command run here would use
    (its ``PulumiPolicy.yaml`` version, as ``pulumi`` shows it, and its directory)."""
    from importlib.metadata import PackageNotFoundError, version

    from sovereign.check.policy_run import pack_version
    from sovereign.core.paths import data_root

    try:
        package = version(DISTRIBUTION)
    except PackageNotFoundError:
        package = "unknown (not installed)"
    pack_dir = data_root() / "policies"
    try:
        pack = pack_version(pack_dir, "unknown")
    except InputError as exc:
        pack = f"unreadable ({exc.message})"
    return f"sovereign {package}\npolicy pack {pack} ({pack_dir})"


class _VersionAction(argparse.Action):
    """``--version``: computed only when asked (it reads the pack's file), printed to stdout, exit 0."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS,
                         help="print the version of sovereign and of the policy pack it uses, and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: object,
                 option_string: str | None = None) -> None:
        print(version_text())
        parser.exit(exitcodes.CLEAN)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every subcommand, or just ``only`` (importing a subcommand loads its libraries: a run of one command
    should not pay for the others)."""
    parser = _Parser(
        prog="sovereign",
        description="Render, check and diff sovereign-clusters stacks offline; prove no path crosses a border.",
    )
    parser.add_argument("--version", action=_VersionAction)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in SUBCOMMAND_MODULES if only not in SUBCOMMAND_MODULES else (only,):
        try:
            module = importlib.import_module(f"sovereign.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sovereign.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(subparsers)
    from sovereign.cli.organisation import add_organisation_flags

    add_organisation_flags(subparsers)
    return parser


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand, when it is the first argument (options before it, e.g. ``--help``, need them all)."""
    return argv[0] if argv and argv[0] in SUBCOMMAND_MODULES else None


def main(argv: Sequence[str] | None = None) -> int:
    tune_for_batch()
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(arguments))
    args = parser.parse_args(arguments)
    from sovereign.core.yamlio import reset_alias_budget

    reset_alias_budget()  # each command is one run of the alias budget, also when commands share a process
    from sovereign.cli.organisation import organisation_scope, warn_for_inputs

    try:
        with organisation_scope(args):  # --organisation as $SOVEREIGN_ORGANISATION, for this command's run
            warn_for_inputs(args)
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


def run() -> NoReturn:
    """The ``sovereign`` program: ``main()`` on ``sys.argv``, then exit without the interpreter's teardown
    (``sovereign/process/exiting.py``); everything it wrote is closed by then."""
    exit_now(main())


if __name__ == "__main__":
    run()
