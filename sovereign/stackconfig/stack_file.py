"""Find and read ``stacks/Pulumi.<stack>.yaml`` files: the stack name and the raw ``config:`` mapping.

Only the file's outer shape is checked here (its name, Pulumi's own top-level keys); the values themselves
are validated by the same passes as the values the Pulumi program reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sovereign import paths
from sovereign.errors import InputError, InputErrors
from sovereign.stackconfig.error_text import type_name
from sovereign.yamlio import load_yaml_file

STACK_FILE_KEYS = ("config", "encryptedkey", "encryptionsalt", "environment", "secretsprovider")
"""Top-level keys Pulumi itself writes into a stack file."""

_STACK_FILE_NAME = re.compile(r"^Pulumi\.(?P<stack>[A-Za-z0-9][A-Za-z0-9_.-]*)\.yaml$")


def list_stacks() -> list[str]:
    """Sorted names of the stacks that have a ``stacks/Pulumi.<stack>.yaml``."""
    directory = paths.stacks_dir()
    if not directory.is_dir():
        return []
    names = []
    for entry in directory.iterdir():
        match = _STACK_FILE_NAME.match(entry.name)
        if match and entry.is_file():
            names.append(match["stack"])
    return sorted(names)


def read_stack_file(path: Path) -> tuple[str, dict[Any, Any]]:
    """The stack name (from the file name, as Pulumi takes it) and the file's ``config:`` mapping."""
    match = _STACK_FILE_NAME.match(path.name)
    if match is None:
        raise InputError(path, (), "a stack file named Pulumi.<stack>.yaml", found_text=repr(path.name))
    document = load_yaml_file(path)
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise InputError(path, (), "a mapping with a `config:` key", found_text=type_name(document))
    unknown = sorted(str(k) for k in document if k not in STACK_FILE_KEYS)
    if unknown:
        raise InputErrors(
            [
                InputError(path, (key,), f"one of the stack file keys {', '.join(STACK_FILE_KEYS)}", found_text=key)
                for key in unknown
            ]
        )
    config = document.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InputError(path, ("config",), "a mapping of `namespace:key` to values", found_text=type_name(config))
    return match["stack"], config
