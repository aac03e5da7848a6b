"""Find and read ``stacks/Pulumi.<stack>.yaml`` files: the stack name, the raw ``config:`` mapping, and the config
the language host hands the program (``PULUMI_CONFIG`` / ``set_all_config``).

Only the file's outer shape is checked here (its name, Pulumi's own top-level keys); the values themselves
are validated by the same passes as the values the Pulumi program reads.

Config values reach the program as strings: scalars as their text, objects and lists as JSON text (sorted keys,
compact, like the Go CLI's ``json.Marshal``). ``secure:`` values cannot be decrypted without the CLI and its secrets
provider, so a placeholder stands in and the key is marked secret: a difference from a real preview, where the
program would see the decrypted value.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.core import paths
from sovereign.core.errors import InputError, InputErrors
from sovereign.core.pulumi_config_env import MAX_ENV_STRING_BYTES, env_string_bytes, over_limit_message
from sovereign.core.secret_text import SECRET_TEXT
from sovereign.core.yamlio import load_yaml_file
from sovereign.stackconfig.error_text import type_name

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


SECRET_PLACEHOLDER = "sovereign-render-placeholder-secret"
"""What a ``secure:`` value reads as under the offline render."""


@dataclass(frozen=True)
class StackFileConfig:
    path: Path
    values: dict[str, str]
    """``ns:key`` -> string or JSON text, exactly what ``set_all_config`` receives."""
    secret_keys: frozenset[str]

    def display(self) -> dict[str, str]:
        """``preview.json``'s ``config``: every key, secret values as ``"[secret]"`` (never their text)."""
        return {k: SECRET_TEXT if k in self.secret_keys else v for k, v in sorted(self.values.items())}


def _is_secure(node: Any) -> bool:
    return isinstance(node, dict) and set(node) == {"secure"}


def _replace_secure(node: Any) -> tuple[Any, bool]:
    if _is_secure(node):
        return SECRET_PLACEHOLDER, True
    if isinstance(node, dict):
        found = False
        out: dict[str, Any] = {}
        for k, v in node.items():
            out[k], hit = _replace_secure(v)
            found = found or hit
        return out, found
    if isinstance(node, list):
        items = [_replace_secure(v) for v in node]
        return [i[0] for i in items], any(i[1] for i in items)
    return node, False


def config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def read_stack_config(path: Path) -> StackFileConfig:
    """The config the language host hands the program for ``stacks/Pulumi.<stack>.yaml`` (``read_stack_file``
    checks the file's shape); bad structure raises ``InputError`` with the key path."""
    if not path.is_file():
        raise InputError(path, (), "an existing stack file", found_text="no such file")
    _stack, raw = read_stack_file(path)
    values: dict[str, str] = {}
    secret: set[str] = set()
    for key in sorted(raw, key=str):
        if not isinstance(key, str) or key.count(":") < 1 or key.startswith(":") or key.endswith(":"):
            raise InputError(path, ("config", str(key)), "a key of the form 'namespace:key'", key)
        value, is_secret = _replace_secure(raw[key])
        values[key] = config_text(value)
        if is_secret:
            secret.add(key)
    return StackFileConfig(path=path, values=values, secret_keys=frozenset(secret))


def _as_host_values(values: dict[str, str]) -> dict[str, Any]:
    """Objects and lists back as values, so ``env_string_bytes`` writes their JSON text as Go does (HTML-escaped).

    Only text that ``config_text`` made from an object or list is decoded; a string that merely looks like JSON
    stays a string, as the CLI passes it."""
    out: dict[str, Any] = {}
    for key, text in values.items():
        out[key] = text
        if text[:1] in "[{":
            with contextlib.suppress(ValueError):
                parsed = json.loads(text)
                if isinstance(parsed, dict | list) and config_text(parsed) == text:
                    out[key] = parsed
    return out


def refuse_over_env_limit(config: StackFileConfig, stack: str) -> None:
    """The Pulumi CLI could not start the program with this config (one env string over MAX_ARG_STRLEN): refuse it
    too, instead of rendering a stack that ``pulumi up`` cannot run. A ``secure:`` value counts as its placeholder
    here; the decrypted value the CLI would pass is usually longer."""
    message = over_limit_message(stack, env_string_bytes(_as_host_values(config.values)))
    if message is not None:
        limit = MAX_ENV_STRING_BYTES
        expected = f"a config that fits in one environment string (PULUMI_CONFIG of at most {limit} bytes)"
        raise InputError(config.path, ("config",), expected, found_text=message)
