"""Where the project's data lives, so every entry point (CLI, Pulumi program, policy pack, tests) agrees.

The project is found as ``pulumi`` finds it: the nearest directory holding ``Pulumi.yaml`` (or ``Pulumi.yml``),
from the working directory upward; ``SOVEREIGN_ROOT`` overrides it (used when rendering another git revision in
a worktree). The policy pack and the catalog come from that project when it has them, else from the copy this
package was installed from (``data_root``), so a command that needs no project (``check --manifests``) works
anywhere; a command that needs one (stacks, the program) fails with ``NoProjectError`` outside any.
"""

from __future__ import annotations

import os
from pathlib import Path

from sovereign.core.errors import InputError

CATALOG_ENV = "SOVEREIGN_CATALOG"
"""A catalog directory other than the project's (``sovereign check --catalog``, passed on to a pack process)."""

ORGANISATION_ENV = "SOVEREIGN_ORGANISATION"
"""The organisation file (the catalog's organisation layer, docs/catalog.md): set by the commands'
``--organisation``, inherited by a pack process, also one the Pulumi CLI starts (it passes its environment on)."""
ORGANISATION_FILE = "organisation.yaml"
"""The organisation file's name at the project root, beside ``Pulumi.yaml`` (what ``sovereign init`` writes)."""
EXAMPLE_ORGANISATION = Path("examples") / "automaker" / ORGANISATION_FILE
"""The example organisation of this repository's stacks, relative to the project root: used when no other is
found, with a warning on other inputs."""


ROOT_ENV = "SOVEREIGN_ROOT"
"""The project root, over the one found from the working directory."""
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.yml")
"""The names the Pulumi CLI accepts for the project file, in its order of preference."""
DATA_MARKER = Path("policies") / "catalog" / "catalog.yaml"
"""What makes a project one that carries its own policy pack and catalog (else the installed copy's are used): a
project of another kind may well have a ``policies/`` directory of its own."""


class NoProjectError(InputError):
    """The command needs a project and none holds the working directory (bad input: exit 2)."""


def find_project(start: Path) -> Path | None:
    """The nearest directory from ``start`` upward that holds a project file, as ``pulumi`` searches; else None."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if any((candidate / name).is_file() for name in PROJECT_FILES):
            return candidate
    return None


def project_root() -> Path:
    """The project's root: ``$SOVEREIGN_ROOT``, else the nearest ``Pulumi.yaml`` from the working directory up.

    Outside any project: ``NoProjectError`` naming the directory searched, never a silent fallback to another
    project (the installed copy's stacks are not the user's)."""
    override = os.environ.get(ROOT_ENV)
    if override:
        return Path(override).resolve()
    found = find_project(Path.cwd())
    if found is None:
        raise NoProjectError(Path.cwd(), (), "a directory inside a Pulumi project (a Pulumi.yaml here or in a "
                             f"parent directory), or {ROOT_ENV} set to one", found_text="no Pulumi.yaml")
    return found


def installed_root() -> Path:
    """The copy of the project this package was installed from (editable install: the repository)."""
    here = Path(__file__).resolve().parent
    found = find_project(here)
    if found is None:
        raise RuntimeError(f"no Pulumi.yaml above {here}: the package was installed without its project")
    return found


def data_root() -> Path:
    """Where the policy pack and the catalog come from: the project (``project_root``) when there is one and it
    carries them (``policies/catalog/catalog.yaml``) or is named by ``$SOVEREIGN_ROOT``, else the installed copy,
    for commands that need no project."""
    try:
        root = project_root()
    except NoProjectError:
        return installed_root()
    return root if os.environ.get(ROOT_ENV) or (root / DATA_MARKER).is_file() else installed_root()


def catalog_dir() -> Path:
    return data_root() / "policies" / "catalog"


def stacks_dir() -> Path:
    return project_root() / "stacks"


def stack_schema_path() -> Path:
    """The schema of stack config: the pack judges plain manifests with it too, so it comes with the pack's data
    (``data_root``), also outside a project."""
    return data_root() / "stacks" / "stack.schema.json"


def stack_file(stack: str) -> Path:
    """``stacks/Pulumi.<stack>.yaml``; the CLI maps "/" in a stack name to "-"."""
    return stacks_dir() / f"Pulumi.{stack.replace('/', '-')}.yaml"


def organisation_home() -> Path:
    """Where an organisation's own file is looked for, and ``sovereign init`` writes it: the project root, or the
    working directory outside any project (``check --manifests`` works anywhere)."""
    try:
        return project_root()
    except NoProjectError:
        return Path.cwd()


def organisation_file() -> Path:
    """The organisation file in force: ``$SOVEREIGN_ORGANISATION`` (a relative path is taken from
    ``organisation_home``, not the working directory, because the Pulumi CLI starts the pack in the pack directory),
    else ``organisation.yaml`` in ``organisation_home``, else the example organisation of the pack's data
    (``data_root``)."""
    home = organisation_home()
    chosen = os.environ.get(ORGANISATION_ENV)
    if chosen:
        return home / chosen
    own = home / ORGANISATION_FILE
    return own if own.exists() or own.is_symlink() else data_root() / EXAMPLE_ORGANISATION
