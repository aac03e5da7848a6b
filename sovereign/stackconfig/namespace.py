"""Keys of the ``sovereign-clusters:`` config namespace, and key paths as users read them in the stack file.

One place for the prefix rules, so the file, the Pulumi program's unprefixed values and the error key paths
cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sovereign.core.labels import CONFIG_NAMESPACE

PREFIX = f"{CONFIG_NAMESPACE}:"
KUBECONFIG_KEY = "kubeconfig"

KeyPath = tuple[str | int, ...]


def prefixed(key: object) -> str:
    """The key as written in the stack file; keys of other namespaces (``ns:key``) are kept as they are."""
    return key if isinstance(key, str) and ":" in key else f"{PREFIX}{key}"


def unprefixed(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """Our own entries with the prefix removed; other namespaces are not ours to read."""
    return {k[len(PREFIX) :]: v for k, v in mapping.items() if k.startswith(PREFIX)}


def key_path(name: str, *rest: str | int) -> KeyPath:
    """Error key paths start at the prefixed key, as the user wrote it."""
    return (PREFIX + name, *rest)
