"""Property-level differences between two input trees, with paths as ``pulumi preview --diff`` writes them:
``spec.egress[0].to[1].ipBlock.cidr``; keys that are not identifiers are quoted:
``metadata.labels["a.b/c"]``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_IDENT = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")
_MISSING = object()


@dataclass(frozen=True, order=True)
class PropertyChange:
    path: str
    kind: str
    """``add``, ``delete`` or ``update`` (detailedDiff kinds)."""
    old: Any = None
    new: Any = None


def _key(path: str, key: str) -> str:
    if _IDENT.match(key):
        return f"{path}.{key}" if path else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{path}["{escaped}"]'


def diff_values(old: Any, new: Any, path: str = "") -> list[PropertyChange]:
    """Leaf-level changes from ``old`` to ``new`` (lists compared by index, as the engine does)."""
    if old is _MISSING:
        return [PropertyChange(path, "add", None, new)]
    if new is _MISSING:
        return [PropertyChange(path, "delete", old, None)]
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
