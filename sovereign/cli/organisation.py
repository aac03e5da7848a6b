"""The organisation layer on the command line: the ``--organisation`` flag and the example-organisation warning.

Why the flag works through the environment: the pack reads the organisation file from ``$SOVEREIGN_ORGANISATION``
(or finds the project's), because that is all a pack started by ``pulumi preview --policy-pack`` can see (the CLI
passes its environment on; docs/pulumi-runtime.md §2). Setting the variable for the command's run makes the flag
reach every reader the same way: this process's catalog loads, the stack loader, and pack processes over gRPC.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

from sovereign.core.paths import ORGANISATION_ENV

COMMANDS = ("validate", "render", "check", "diff", "reach", "register")
"""The commands that read the catalog, so take ``--organisation`` (those with ``--catalog``, and render, whose
program reads it too) and may judge input with the example organisation."""

_warned: set[str] = set()
"""The commands that printed the warning in this run (once per command)."""


def add_organisation_flags(subparsers: argparse._SubParsersAction) -> None:
    """``--organisation FILE`` on every command of ``COMMANDS`` that is registered (one definition of the flag)."""
    for command in COMMANDS:
        parser = subparsers.choices.get(command)
        if parser is not None:
            add_organisation_flag(parser)


def add_organisation_flag(parser: argparse.ArgumentParser) -> None:
    """``--organisation FILE`` on a command that reads the catalog."""
    parser.add_argument(
        "--organisation",
        type=Path,
        metavar="FILE",
        help=f"the organisation file (the catalog's organisation layer; default: ${ORGANISATION_ENV}, else "
        "organisation.yaml at the project root, else the example organisation)",
    )


@contextlib.contextmanager
def organisation_scope(args: argparse.Namespace) -> Iterator[None]:
    """The command's run with its ``--organisation`` (absolute) as ``$SOVEREIGN_ORGANISATION``; the environment is
    restored afterwards, and the warning may be printed again by the next command."""
    _warned.clear()
    chosen = getattr(args, "organisation", None)
    if chosen is None:
        yield
        return
    previous = os.environ.get(ORGANISATION_ENV)
    os.environ[ORGANISATION_ENV] = str(Path(chosen).absolute())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ORGANISATION_ENV, None)
        else:
            os.environ[ORGANISATION_ENV] = previous


def warn_for_inputs(args: argparse.Namespace) -> None:
    """The example-organisation warning for a parsed command line, from the inputs it names: plain manifests
    (``--manifests``) and render directories are other input; stacks are judged by name."""
    command = getattr(args, "command", None)
    if command not in COMMANDS:
        return
    stacks: list[str] = list(getattr(args, "stacks", None) or ())
    if getattr(args, "stack", None):
        stacks.append(args.stack)
    if getattr(args, "all", False) or (command == "validate" and not stacks):  # validate's default: every stack
        from sovereign.core.errors import InputError
        from sovereign.stackconfig.loader import list_stacks

        with contextlib.suppress(InputError):  # no project: the command says so itself
            stacks += list_stacks()
    other = getattr(args, "manifests", None) is not None
    for directory in getattr(args, "dirs", None) or ():  # diff BASE HEAD: the stacks rendered there
        stacks += [p.parent.name for p in Path(directory).glob("*/preview.json")]
    warn_if_example(command, catalog_dir=getattr(args, "catalog", None), stacks=stacks, other_input=other)


def warn_if_example(command: str, *, catalog_dir: Path | None = None, stacks: Iterable[str] = (),
                    other_input: bool = False) -> None:
    """On stderr, once per command: the example organisation is judging input it was not written for (anything but
    the stacks its file names, e.g. a team's manifests), whose registries, networks and data classes it cannot know.
    A catalog that does not load says nothing here: its errors are reported where it is used."""
    from sovereign.catalog import default_catalog, load_catalog
    from sovereign.core.errors import InputError

    if command in _warned:
        return
    try:
        catalog = load_catalog(catalog_dir) if catalog_dir is not None else default_catalog()
    except InputError:
        return
    org = catalog.organisation
    if not org.example:
        return
    foreign = sorted(set(stacks) - set(org.example_stacks))
    if not other_input and not foreign:
        return
    what = "stack(s) " + ", ".join(foreign) if foreign and not other_input else "this input"
    _warned.add(command)
    print(f"sovereign {command}: warning: the example organisation {org.name!r} ({org.path}) judges {what}: its "
          "registries, networks, domains and data classes are made up, so findings about them are not yours; run "
          "`sovereign init` to write your organisation file (or pass --organisation FILE)", file=sys.stderr)
