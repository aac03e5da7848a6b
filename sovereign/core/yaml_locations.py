"""Where a key path sits in a YAML file: the 1-based line of every mapping key and sequence item.

Findings and input errors name key paths (``sovereign-clusters:transfers[0].validUntil``); code scanning and a
reviewer need the line. The file was already read (and judged) by the strict reader in ``yamlio``: this module
only composes its node tree again to map paths to lines, so it never decides what a file means. A file it cannot
compose (a syntax error, not YAML at all) has no key lines: callers fall back to the line the error names, or 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import yaml

from sovereign.core.yamlio import MAX_INPUT_BYTES

KeyPath = tuple[str | int, ...]


def key_lines(text: str) -> dict[KeyPath, int]:
    """Key path -> line, for the first document of ``text`` (stack files, catalog files: one document each).

    The root is ``()``, at the document's first line. Keys that are not plain scalars are skipped (they cannot be
    named by a key path of strings and indexes)."""
    if len(text) > MAX_INPUT_BYTES:
        return {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    return _node_lines(root) if root is not None else {}


def document_key_lines(text: str, start_line: int) -> dict[KeyPath, int]:
    """``key_lines`` of the document of a multi-document file that starts on ``start_line`` (1-based, as the
    manifest reader reports each document); {} when none does."""
    if len(text) > MAX_INPUT_BYTES:
        return {}
    try:
        for root in yaml.compose_all(text, Loader=yaml.SafeLoader):
            if root is not None and root.start_mark.line + 1 == start_line:
                return _node_lines(root)
    except (yaml.YAMLError, RecursionError, ValueError):
        return {}
    return {}


def _node_lines(root: yaml.Node) -> dict[KeyPath, int]:
    lines: dict[KeyPath, int] = {(): root.start_mark.line + 1}
    stack: list[tuple[KeyPath, yaml.Node]] = [((), root)]
    seen: set[int] = set()
    while stack:
        path, node = stack.pop()
        if id(node) in seen:  # an alias: its node was walked where it was anchored
            continue
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    child = (*path, str(key.value))
                    lines.setdefault(child, key.start_mark.line + 1)
                    stack.append((child, value))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                child = (*path, index)
                lines.setdefault(child, item.start_mark.line + 1)
                stack.append((child, item))
    return lines


def line_of(lines: dict[KeyPath, int], path: Sequence[str | int], default: int = 1) -> int:
    """The line of ``path``, else of its longest prefix the file has (a missing key: where its parent is)."""
    for end in range(len(path), 0, -1):
        found = lines.get(tuple(path[:end]))
        if found is not None:
            return found
    return default


def file_key_lines(path: Path) -> dict[KeyPath, int]:
    """``key_lines`` of a file; {} when it cannot be read as text."""
    try:
        return key_lines(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError):
        return {}
