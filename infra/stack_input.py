"""Read the stack's configuration the way the Pulumi CLI hands it over, and validate it.

Under the CLI every ``sovereign-clusters:*`` value arrives through ``pulumi.Config`` (objects and lists as
JSON text). The values go through the same loader as ``sovereign validate`` (schema, then catalog checks),
so the program and the offline tools accept exactly the same stacks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.config import is_config_secret

from sovereign.catalog.model import Catalog
from sovereign.core.labels import CONFIG_NAMESPACE
from sovereign.core.paths import project_root
from sovereign.stackconfig.loader import config_keys, load_stack, parse_stack_config
from sovereign.stackconfig.model import StackConfig
from sovereign.stackconfig.namespace import KUBECONFIG_KEY


def root_directory() -> Path:
    """The directory holding Pulumi.yaml. Mock runs that do not pass ``root_directory`` in their Settings get
    the literal string "root_directory" from the SDK, so fall back to the installed project root there."""
    reported = pulumi.get_root_directory()
    if reported and (Path(reported) / "Pulumi.yaml").is_file():
        return Path(reported)
    return project_root()


def stack_file(stack: str) -> Path:
    return root_directory() / "stacks" / f"Pulumi.{stack.replace('/', '-')}.yaml"


def _decode(raw: str) -> Any:
    """Objects and lists arrive as JSON text; every other top-level key is a plain string (an id or a path),
    so a value that is JSON only by accident (e.g. a directory named ``123``) stays a string."""
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    return value if isinstance(value, dict | list) else raw


def read_config_values() -> tuple[dict[str, Any], pulumi.Output[str] | None]:
    """(values for parse_stack_config, the kubeconfig secret or None)."""
    cfg = pulumi.Config(CONFIG_NAMESPACE)
    values: dict[str, Any] = {}
    kubeconfig: pulumi.Output[str] | None = None
    for key in config_keys():
        if key == KUBECONFIG_KEY:
            if cfg.get(key) is None:
                values[key] = None
            elif is_config_secret(cfg.full_key(key)):
                kubeconfig = cfg.get_secret(key)
                values[key] = True
            else:
                # Set without --secret: hand the loader the plain string so it rejects it (a credential in
                # plaintext); its message never echoes the value.
                values[key] = cfg.get(key)
            continue
        raw = cfg.get(key)
        values[key] = None if raw is None else _decode(raw)
    return values, kubeconfig


def load_validated_stack(catalog: Catalog) -> tuple[StackConfig, pulumi.Output[str] | None]:
    """Raises InputError (naming the stack file and key) for a stack the loader rejects."""
    stack = pulumi.get_stack()
    values, kubeconfig = read_config_values()
    if not any(v for v in values.values()):
        # No sovereign-clusters:* value at all: only a mock run that did not inject the stack's config gets
        # here (the CLI always passes the stack file's config). Read the stack file directly instead.
        return load_stack(stack, catalog=catalog), None
    config = parse_stack_config(values, stack=stack, source_file=str(stack_file(stack)), catalog=catalog)
    return config, kubeconfig
