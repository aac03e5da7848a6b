"""Strict YAML reading for every input file: duplicate keys, oversize files and odd nodes are errors.

PyYAML silently keeps the last of two duplicate keys; for residency config that hides mistakes, so the
loader here rejects them with the key path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sovereign.errors import InputError

MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and unhashable keys."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError as exc:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark, "an unhashable key", key_node.start_mark
            ) from exc
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"duplicate key {key!r}",
                key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=deep)
    return mapping


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _depth(value: Any, limit: int) -> int:
    """Iterative depth measure (no recursion, so hostile nesting cannot blow the stack)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return deepest


def parse_yaml_documents(text: str, source: str | Path) -> list[Any]:
    """Parse every document of a YAML stream, raising ``InputError`` on any problem."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise InputError(source, (), f"a YAML file of at most {MAX_INPUT_BYTES} bytes", found_text="a larger file")
    try:
        docs = list(yaml.load_all(text, Loader=_StrictLoader))  # noqa: S506 - strict SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise InputError(source, (), "well-formed YAML", found_text=f"{exc.problem or exc} at {where}") from None
    except (yaml.YAMLError, RecursionError, ValueError, TypeError) as exc:
        raise InputError(source, (), "well-formed YAML", found_text=str(exc) or type(exc).__name__) from None
    for doc in docs:
        if _depth(doc, MAX_DEPTH) > MAX_DEPTH:
            raise InputError(source, (), f"nesting of at most {MAX_DEPTH} levels", found_text="deeper nesting")
    return docs


def read_text(path: Path) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(path, (), "a readable file", found_text=exc.strerror or str(exc)) from None
    if size > MAX_INPUT_BYTES:
        raise InputError(path, (), f"a file of at most {MAX_INPUT_BYTES} bytes", found_text=f"{size} bytes")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, (), "UTF-8 text", found_text=f"undecodable byte at offset {exc.start}") from None
    except OSError as exc:
        raise InputError(path, (), "a readable file", found_text=exc.strerror or str(exc)) from None


def load_yaml_file(path: Path) -> Any:
    """Load a single-document YAML file strictly."""
    docs = parse_yaml_documents(read_text(path), path)
    if len(docs) != 1:
        raise InputError(path, (), "exactly one YAML document", found_text=f"{len(docs)} documents")
    return docs[0]
