"""Strict YAML reading for every input file: duplicate keys, oversize files and odd nodes are errors.

PyYAML silently keeps the last of two duplicate keys; for residency config that hides mistakes, so the
loader here rejects them with the key path.
"""

from __future__ import annotations

import copy
import inspect
from pathlib import Path
from typing import Any

import yaml

from sovereign.errors import InputError
from sovereign.yaml_resolution import RememberedScalarResolution, skip_path_tracking

MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64


class _StrictLoader(RememberedScalarResolution, yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys and unhashable keys."""


_FastLoader: Any = None
if yaml.__with_libyaml__:

    class _StrictCLoader(RememberedScalarResolution, yaml.CSafeLoader):
        """The same rules on libyaml's parser: about 9x faster on large manifests."""

    _FastLoader = _StrictCLoader

C_PARSER_MAX_NESTING_BOUND = 5_000
"""libyaml composes recursively in C: nesting in the tens of thousands crashes the interpreter (seen:
segmentation fault at 30,000 levels) instead of raising. Documents whose cheap nesting bound exceeds this go to
the pure-Python parser, which fails with RecursionError, reported as bad input."""


def _nesting_upper_bound(text: str) -> int:
    """A bound that is never below the real nesting depth: every flow opener anywhere, plus the deepest line's
    indentation and block indicators. Loose (quoted brackets count too), which only costs speed."""
    flow = text.count("[") + text.count("{")
    # Per line: indentation + block indicators + 1 (an indicator cannot start within the indentation, so counting
    # over the whole line counts the same).
    deepest = max((len(line) - len(line.lstrip(" ")) + line.count("- ") + line.count("? ")
                   for line in text.splitlines()), default=-1)
    return flow + deepest + 1


def _construct_mapping(loader: Any, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
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
if _FastLoader is not None:
    _FastLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG
_SEQ_TAG = yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG
_PLAIN_SCALAR_TAGS = tuple(f"tag:yaml.org,2002:{name}" for name in ("null", "bool", "int", "float", "binary",
                                                                    "timestamp"))


class _NotPlain(Exception):  # noqa: N818 - a signal: take the general constructor
    """The document needs something the plain constructor leaves to PyYAML's (tags, merges, aliases, errors)."""


def _plain_scalar_constructors(loader_class: Any) -> dict[str, Any]:
    """The loader's own constructors of the core scalar tags that are plain functions (not generators)."""
    table = loader_class.yaml_constructors
    return {tag: table[tag] for tag in _PLAIN_SCALAR_TAGS
            if tag in table and not inspect.isgeneratorfunction(table[tag])}


_PLAIN_SCALARS: dict[Any, dict[str, Any]] = {
    loader_class: _plain_scalar_constructors(loader_class)
    for loader_class in (_StrictLoader, _FastLoader) if loader_class is not None
}


def _construct_plain(loader: Any, node: yaml.Node, scalars: dict[str, Any]) -> Any:
    """What ``loader.construct_document(node)`` returns, for a document of mappings, sequences and core scalars
    without duplicate or unhashable keys; raises ``_NotPlain`` for anything else.

    Why: PyYAML's constructor handles recursion, aliases and state generators for every node, about 40 % of
    parsing a manifest; a Kubernetes manifest never needs them. Anything this does not handle, including every
    error, is left to the general constructor, which then gives its own result or error
    (tests/hostile/test_plain_constructor.py compares the two).
    """
    cls = node.__class__
    tag = node.tag
    if cls is yaml.ScalarNode:
        if tag == _STR_TAG:
            return node.value
        construct = scalars.get(tag)
        if construct is None:
            raise _NotPlain
        return construct(loader, node)
    if cls is yaml.MappingNode and tag == _MAP_TAG:
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _construct_plain(loader, key_node, scalars)  # a merge (<<) or value (=) key has no constructor here
            if key in mapping:  # a duplicate (the general constructor words the error); unhashable: TypeError
                raise _NotPlain
            mapping[key] = _construct_plain(loader, value_node, scalars)
        return mapping
    if cls is yaml.SequenceNode and tag == _SEQ_TAG:
        return [_construct_plain(loader, item, scalars) for item in node.value]
    raise _NotPlain


def _construct_document(loader: Any, node: yaml.Node, plain: bool, scalars: dict[str, Any]) -> Any:
    if plain:
        try:
            return _construct_plain(loader, node, scalars)
        except Exception:  # noqa: BLE001, S110 - _NotPlain or any error: the general constructor decides
            pass
    return loader.construct_document(node)


MAX_ALIAS_EXPANSION = 100_000
"""How many nodes aliases may add beyond the document's own: YAML anchors let a few hundred bytes expand into
millions of nodes ("billion laughs"); real manifests and stack files stay far below this."""


class _NodeBudgetExceeded(Exception):
    def __init__(self, expected: str, found: str) -> None:
        super().__init__(found)
        self.expected = expected
        self.found = found


def _measure(root: yaml.Node) -> None:
    """Depth and expanded size of a composed node graph, without expanding it.

    Aliases make the graph a DAG (or a cycle); sizes are memoised per node, so a hostile document costs time
    proportional to its distinct nodes, and the expansion it would cause downstream is known before anything
    is constructed. Iterative, so deep nesting cannot exhaust the Python stack.
    """
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(c)] for c in children)
            depth[key] = 1 + max((depth[id(c)] for c in children), default=0)
            if depth[key] > MAX_DEPTH:
                raise _NodeBudgetExceeded(f"nesting of at most {MAX_DEPTH} levels", "deeper nesting")
            continue
        if key in size:
            continue
        if key in on_path:
            raise _NodeBudgetExceeded("no recursive aliases", "an alias that contains itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    distinct = len(size)
    if size[id(root)] - distinct > MAX_ALIAS_EXPANSION:
        raise _NodeBudgetExceeded(
            f"aliases that add at most {MAX_ALIAS_EXPANSION} nodes",
            f"aliases expanding {distinct} nodes into {size[id(root)]}",
        )


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> str:
    """PyYAML's two-line reader message as one line with line and column."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character
    code = f"U+{ord(char) if isinstance(char, str) else char:04X}"
    return f"control or non-printable character {code} at line {line}, column {column}"


def parse_yaml_documents(text: str, source: str | Path) -> list[Any]:
    """Parse every document of a YAML stream, raising ``InputError`` on any problem."""
    return [doc for _line, doc in parse_yaml_documents_with_lines(text, source)]


def parse_yaml_documents_with_lines(text: str, source: str | Path) -> list[tuple[int, Any]]:
    """Like ``parse_yaml_documents``, each document with the 1-based line it starts on (for findings)."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise InputError(source, (), f"a YAML file of at most {MAX_INPUT_BYTES} bytes", found_text="a larger file")
    docs: list[tuple[int, Any]] = []
    loader: Any = None
    bound = _nesting_upper_bound(text)
    use_c = _FastLoader is not None and bound <= C_PARSER_MAX_NESTING_BOUND
    loader_class = _FastLoader if use_c and _FastLoader is not None else _StrictLoader
    # Without an alias indicator nothing can expand, and a small bound caps the depth: then the node walk that
    # measures both is unnecessary (it costs about a tenth of a parse). The bound counts indentation and
    # indicators; a line can hide a mapping inside a "- " item and the scalar at the end, so depth stays
    # within 2 * bound + 2 (tests/hostile checks the margin on generated documents; seen: bound + 2).
    measure = "*" in text or 2 * bound + 2 > MAX_DEPTH
    plain = "*" not in text  # without aliases every node is constructed once: the plain constructor applies
    scalars = _PLAIN_SCALARS[loader_class]
    try:
        loader = loader_class(text)  # the reader checks for non-printable characters here
        skip_path_tracking(loader)
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                docs.append((1, None))
                continue
            if measure:
                _measure(node)
            docs.append((node.start_mark.line + 1, _construct_document(loader, node, plain, scalars)))
    except _NodeBudgetExceeded as exc:
        raise InputError(source, (), exc.expected, found_text=exc.found) from None
    except yaml.reader.ReaderError as exc:
        raise InputError(source, (), "well-formed YAML", found_text=_reader_problem(exc, text)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = " ".join(str(exc.problem or exc).split())
        raise InputError(source, (), "well-formed YAML", found_text=f"{problem} at {where}") from None
    except RecursionError:
        raise InputError(source, (), f"nesting of at most {MAX_DEPTH} levels", found_text="deeper nesting") from None
    except (yaml.YAMLError, ValueError, TypeError) as exc:
        found = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(source, (), "well-formed YAML", found_text=found) from None
    finally:
        if loader is not None:
            loader.dispose()
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


_last_file: dict[tuple[str, str], Any] = {}
"""The last document ``load_yaml_file`` parsed, by path and text. A render reads its stack file twice (the
stack loader, then the config the language host would pass), and strictly parsing a 200-workload stack takes
0.1 s where a copy takes 0.01 s. Callers always get their own deep copy."""


def load_yaml_file(path: Path) -> Any:
    """Load a single-document YAML file strictly."""
    text = read_text(path)
    key = (str(path), text)
    if key not in _last_file:
        docs = parse_yaml_documents(text, path)
        if len(docs) != 1:
            raise InputError(path, (), "exactly one YAML document", found_text=f"{len(docs)} documents")
        _last_file.clear()
        _last_file[key] = docs[0]
    return copy.deepcopy(_last_file[key])
