"""Where the project's data lives, so every entry point (CLI, Pulumi program, policy pack, tests) agrees.

The repository is installed into the virtualenv in editable mode, so the data files are found next to the
source. ``SOVEREIGN_ROOT`` overrides the root (used when rendering another git revision in a worktree).
"""

from __future__ import annotations

import os
from pathlib import Path

CATALOG_ENV = "SOVEREIGN_CATALOG"
"""A catalog directory other than the project's (``sovereign check --catalog``, passed on to a pack process)."""


def project_root() -> Path:
    """The directory that holds ``Pulumi.yaml``."""
    override = os.environ.get("SOVEREIGN_ROOT")
    if override:
        return Path(override).resolve()
    here = Path(__file__).resolve().parent
    for candidate in (here, *here.parents):
        if (candidate / "Pulumi.yaml").is_file():
            return candidate
    raise RuntimeError(f"no Pulumi.yaml above {here}; set SOVEREIGN_ROOT to the project root")


def catalog_dir() -> Path:
    return project_root() / "policies" / "catalog"


def stacks_dir() -> Path:
    return project_root() / "stacks"


def stack_schema_path() -> Path:
    return stacks_dir() / "stack.schema.json"


def stack_file(stack: str) -> Path:
    """``stacks/Pulumi.<stack>.yaml``; the CLI maps "/" in a stack name to "-"."""
    return stacks_dir() / f"Pulumi.{stack.replace('/', '-')}.yaml"
