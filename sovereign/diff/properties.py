"""Property-level differences between two input trees, with paths as ``pulumi preview --diff`` writes them:
``spec.egress[0].to[1].ipBlock.cidr``; keys that are not identifiers are quoted:
``metadata.labels["a.b/c"]``.

Secret values never leave this module: a value that is a secret (the wire's secret wrapper, or the
``"[secret]"`` a render writes in its place) is compared as one leaf and reported as ``secret=True`` with
``"[secret]"`` on both sides — "changed (secret)", as ``pulumi preview --diff`` shows ``[secret]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sovereign.core.secret_text import SECRET_TEXT
from sovereign.render.wire import is_secret, redact_secrets, reveal_secrets

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_MISSING = object()


@dataclass(frozen=True, order=True)
class PropertyChange:
    path: str
    kind: str
    """``add``, ``delete`` or ``update`` (detailedDiff kinds)."""
    old: Any = None
    new: Any = None
    secret: bool = False
    """The value is secret: ``old``/``new`` are ``"[secret]"`` (or None), never the value."""


def _key(path: str, key: str) -> str:
    if _IDENT.match(key):
        return f"{path}.{key}" if path else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """Leaf-level changes from ``old`` to ``new`` (lists compared by index, as the engine does); secrets masked."""
    if _is_secret_leaf(old) or _is_secret_leaf(new):
        return _secret_change(old, new, path)
    if old is _MISSING:
        return [PropertyChange(path, "add", None, redact_secrets(new))]
    if new is _MISSING:
        return [PropertyChange(path, "delete", redact_secrets(old), None)]
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[PropertyChange] = []
        for key in sorted(set(old) | set(new), key=str):
            out.extend(diff_values(old.get(key, _MISSING), new.get(key, _MISSING), _key(path, str(key))))
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            out.extend(
                diff_values(
                    old[i] if i < len(old) else _MISSING, new[i] if i < len(new) else _MISSING, f"{path}[{i}]"
                )
            )
        return out
    if old == new and type(old) is type(new):
        return []
    return [PropertyChange(path, "update", old, new)]


def _is_secret_leaf(value: Any) -> bool:
    return is_secret(value) or value == SECRET_TEXT


def _secret_change(old: Any, new: Any, path: str) -> list[PropertyChange]:
    """One masked change, or none when both sides hold the same value. Two ``"[secret]"`` placeholders compare
    equal: a render never keeps the value, so a rotation between two renders cannot be seen (see docs/cli.md)."""
    if old is _MISSING:
        return [PropertyChange(path, "add", None, SECRET_TEXT, secret=True)]
    if new is _MISSING:
        return [PropertyChange(path, "delete", SECRET_TEXT, None, secret=True)]
    if reveal_secrets(old) == reveal_secrets(new):
        return []
    return [PropertyChange(path, "update", SECRET_TEXT, SECRET_TEXT, secret=True)]
