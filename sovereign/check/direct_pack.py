"""Find a pack's direct entry point: how ``sovereign check`` runs a pack's rules in its own process.

A pack directory that is a Python package with a ``pack.py`` defining ``open_direct`` (the residency pack,
``policies/pack.py``) is run directly: the rules over plain resource data, no CrossGuard, no protobuf. Any other
pack (a CrossGuard pack without that entry point) is run over gRPC, started exactly as ``pulumi preview
--policy-pack`` starts it (``sovereign.analyzer.client``). The pack is loaded from its directory, by path, so
``sovereign`` never imports a pack statically.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENTRY_MODULE = "pack"
ENTRY_FUNCTION = "open_direct"
EXPLAIN_FUNCTION = "explain_rule"
"""``explain_rule(rule_id) -> dict | None``: what ``sovereign rules --explain`` prints beyond the analyzer info."""


def direct_entry(pack_dir: Path) -> Callable[..., Any] | None:
    """The pack's ``open_direct``, or None when the pack has no direct entry point (or another package of the
    same name is already loaded from elsewhere: then only the gRPC path runs the pack that was asked for)."""
    return pack_entry(pack_dir, ENTRY_FUNCTION)


def pack_entry(pack_dir: Path, function: str) -> Callable[..., Any] | None:
    """The function ``function`` of the pack's ``pack.py``, loaded by path, or None (see ``direct_entry``)."""
    pack_dir = pack_dir.resolve()
    if not ((pack_dir / "__init__.py").is_file() and (pack_dir / f"{ENTRY_MODULE}.py").is_file()):
        return None
    if not pack_dir.name.isidentifier():
        return None
    parent = str(pack_dir.parent)
    if parent not in sys.path:
        sys.path.insert(0, parent)
    module = importlib.import_module(f"{pack_dir.name}.{ENTRY_MODULE}")
    if Path(str(module.__file__)).resolve().parent != pack_dir:
        return None
    entry = getattr(module, function, None)
    return entry if callable(entry) else None
