"""Strict YAML reading for every input file: duplicate keys, oversize files and odd nodes are errors.

PyYAML silently keeps the last of two duplicate keys; for residency config that hides mistakes, so the
loader here rejects them with the key path. Also refused, as bad input naming the file: anything but a regular file
(``read_text``: a FIFO would block, ``/dev/zero`` never end), nesting deeper than ``MAX_DEPTH``, aliases that add
too many nodes per document, per file or per run, and numbers JSON cannot carry (``.inf``, ``.nan``; with their
document, key path, line and column).
"""

from __future__ import annotations

import copy
import inspect
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from sovereign.core import kubectl_scalars
from sovereign.core.errors import InputError
from sovereign.core.kubectl_scalars import KubectlScalarResolution
from sovereign.core.yaml_resolution import RememberedScalarResolution, skip_path_tracking

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


class _NonFinite(Exception):  # noqa: N818 - a signal: the parse names the node's document, key path and line
    """A float scalar that is infinite or NaN (``.inf``, ``-.inf``, ``.nan``, or a literal too large for a double):
    JSON, which Kubernetes reads manifests as and Pulumi passes config and props as, has no such number."""

    def __init__(self, node: yaml.Node) -> None:
        super().__init__(node.value)
        self.node = node


_construct_any_float = yaml.constructor.SafeConstructor.construct_yaml_float


def _construct_finite_float(loader: Any, node: yaml.ScalarNode) -> float:
    value: float = _construct_any_float(loader, node)
    if value - value != 0.0:  # inf - inf and nan - nan are NaN; every finite float gives 0.0
        raise _NonFinite(node)
    return value


_FLOAT_TAG = "tag:yaml.org,2002:float"
_StrictLoader.add_constructor(_FLOAT_TAG, _construct_finite_float)
if _FastLoader is not None:
    _FastLoader.add_constructor(_FLOAT_TAG, _construct_finite_float)


class _KubectlLoader(RememberedScalarResolution, KubectlScalarResolution, yaml.SafeLoader):
    """The strict rules, plain scalars resolved as kubectl resolves them (sovereign/core/kubectl_scalars.py)."""


_KubectlFastLoader: Any = None
if yaml.__with_libyaml__:

    class _KubectlCLoader(RememberedScalarResolution, KubectlScalarResolution, yaml.CSafeLoader):
        """The same on libyaml's parser."""

    _KubectlFastLoader = _KubectlCLoader


def _construct_finite_kubectl_float(loader: Any, node: yaml.ScalarNode) -> float:
    value = kubectl_scalars.construct_float(loader, node)
    if value - value != 0.0:
        raise _NonFinite(node)
    return value


for _kubectl_class in (_KubectlLoader, _KubectlFastLoader):
    if _kubectl_class is not None:
        _kubectl_class.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        for _tag, _construct in kubectl_scalars.CONSTRUCTORS.items():
            _kubectl_class.add_constructor(_tag, _construct)
        _kubectl_class.add_constructor(_FLOAT_TAG, _construct_finite_kubectl_float)

_LOADERS: dict[bool, tuple[Any, Any]] = {False: (_StrictLoader, _FastLoader),
                                         True: (_KubectlLoader, _KubectlFastLoader)}
"""Whether plain scalars are read as kubectl reads them -> (pure-Python loader class, libyaml one or None)."""


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
    for loader_class in (_StrictLoader, _FastLoader, _KubectlLoader, _KubectlFastLoader) if loader_class is not None
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

MAX_ALIAS_EXPANSION_PER_FILE = 500_000
MAX_ALIAS_EXPANSION_PER_RUN = 1_000_000
"""The same, summed over the documents of one file, and over every file one process (one ``sovereign`` command)
reads. The parser shares an anchored value, but whatever walks the documents afterwards (the policy pack's
encoding, each rule) pays for every node an alias adds: 1,000 documents of 11,000 added nodes each, all within
``MAX_ALIAS_EXPANSION``, made ``sovereign check`` take 28 s and 2.8 GB. At these bounds the added nodes cost a
few seconds at most. Real inputs use no aliases (Helm and kustomize never write them; nor do our stacks and
catalog), so neither bound is near anything legitimate."""

_alias_run = {"added": 0}
"""Nodes aliases added in the files this process parsed (files refused are not counted)."""


def reset_alias_budget() -> None:
    """Start a new run's alias budget (a caller that runs several commands in one process calls it per command)."""
    _alias_run["added"] = 0


def alias_expansion_used() -> int:
    """Nodes aliases added in the files parsed since the run started."""
    return _alias_run["added"]


class AliasBudgetExceeded(InputError):
    """The run's alias budget is spent: not a property of the file alone, so never to be cached as its result."""


class _NodeBudgetExceeded(Exception):
    def __init__(self, expected: str, found: str, *, document: bool = True, run: bool = False) -> None:
        super().__init__(found)
        self.expected = expected
        self.found = found
        self.document = document
        """Whether the problem is the document's (named in the error) rather than the whole stream's."""
        self.run = run


def _measure(root: yaml.Node) -> int:
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
                raise _NodeBudgetExceeded(f"nesting of at most {MAX_DEPTH} levels", "deeper nesting",
                                          document=False)
            continue
        if key in size:
            continue
        if key in on_path:
            raise _NodeBudgetExceeded("no recursive aliases", "an alias that contains itself")
        on_path.add(key)
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in size)
    distinct = len(size)
    added = size[id(root)] - distinct
    if added > MAX_ALIAS_EXPANSION:
        raise _NodeBudgetExceeded(
            f"aliases that add at most {MAX_ALIAS_EXPANSION} nodes",
            f"aliases expanding {distinct} nodes into {size[id(root)]}",
        )
    return added


def _spend(added: int, file_added: int) -> None:
    """Check a document's added nodes against the file's and the run's budgets (``file_added`` includes them)."""
    if file_added > MAX_ALIAS_EXPANSION_PER_FILE:
        raise _NodeBudgetExceeded(
            f"aliases that add at most {MAX_ALIAS_EXPANSION_PER_FILE} nodes in one file",
            f"{file_added} nodes added up to this document (this one: {added})",
        )
    if _alias_run["added"] + file_added > MAX_ALIAS_EXPANSION_PER_RUN:
        raise _NodeBudgetExceeded(
            f"aliases that add at most {MAX_ALIAS_EXPANSION_PER_RUN} nodes in all the files this run reads",
            f"{_alias_run['added'] + file_added} nodes added up to this document (this file: {file_added})",
            run=True,
        )


def _node_path(root: yaml.Node, target: yaml.Node) -> tuple[tuple[str | int, ...], bool] | None:
    """The key path of ``target``'s first occurrence in ``root`` (document order), and whether it is a key there
    (then the path is that of its mapping). Only for error messages."""
    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    seen: set[int] = set()
    while stack:
        node, path = stack.pop()
        if node is target:
            return path, False
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend((item, (*path, i)) for i, item in reversed(list(enumerate(node.value))))
        elif isinstance(node, yaml.MappingNode):
            for key_node, _value in node.value:
                if key_node is target:
                    return path, True
            stack.extend((value, (*path, str(key_node.value) if isinstance(key_node, yaml.ScalarNode)
                                  else f"<{key_node.id} key at line {key_node.start_mark.line + 1}>"))
                         for key_node, value in reversed(node.value))
    return None


def _non_finite(source: str | Path, document: int, root: yaml.Node | None, node: yaml.Node) -> InputError:
    found = _node_path(root, node) if root is not None else None
    path, is_key = found if found is not None else ((), False)
    mark = node.start_mark
    what = f"the key {node.value}" if is_key else str(node.value)
    return InputError(source, (f"document {document}", *path),
                      "a finite number (JSON, which Kubernetes and Pulumi read, has no NaN or Infinity)",
                      found_text=f"{what} at line {mark.line + 1}, column {mark.column + 1}")


def _list_item_lines(root: yaml.Node) -> dict[tuple[int, ...], int] | None:
    """For a document that is a Kubernetes List (a mapping with an ``items`` sequence): the 1-based line of every
    item, to any depth of Lists inside Lists, by its index path (``(1, 0)``: ``items[1].items[0]``)."""
    items = _items_node(root)
    if items is None:
        return None
    lines: dict[tuple[int, ...], int] = {}
    stack: list[tuple[yaml.SequenceNode, tuple[int, ...]]] = [(items, ())]
    while stack:
        sequence, path = stack.pop()
        for i, item in enumerate(sequence.value):
            lines[(*path, i)] = item.start_mark.line + 1
            inner = _items_node(item)
            if inner is not None and len(path) < MAX_DEPTH:
                stack.append((inner, (*path, i)))
    return lines


def _items_node(node: yaml.Node) -> yaml.SequenceNode | None:
    if node.__class__ is not yaml.MappingNode:
        return None
    for key_node, value_node in node.value:
        if key_node.__class__ is yaml.ScalarNode and key_node.value == "items":
            return value_node if value_node.__class__ is yaml.SequenceNode else None
    return None


def _reader_problem(exc: yaml.reader.ReaderError, text: str) -> str:
    """PyYAML's two-line reader message as one line with line and column."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character
    code = f"U+{ord(char) if isinstance(char, str) else char:04X}"
    return f"control or non-printable character {code} at line {line}, column {column}"


def parse_yaml_documents(text: str, source: str | Path, *, kubectl: bool = False) -> list[Any]:
    """Parse every document of a YAML stream, raising ``InputError`` on any problem (``kubectl``: see
    ``parse_yaml_documents_with_lines``)."""
    return [doc for _line, doc in parse_yaml_documents_with_lines(text, source, kubectl=kubectl)]


def parse_yaml_documents_with_lines(
    text: str, source: str | Path, item_lines: dict[int, dict[tuple[int, ...], int]] | None = None, *,
    kubectl: bool = False,
) -> list[tuple[int, Any]]:
    """Like ``parse_yaml_documents``, each document with the 1-based line it starts on (for findings).

    ``item_lines``, when given, is filled for every document that is a Kubernetes List (a mapping with an
    ``items`` sequence): document index -> {index path of an item, to any depth of nested Lists: its line}.

    Bounds: ``MAX_INPUT_BYTES``, ``MAX_DEPTH``, and the nodes aliases add per document, per file and per run
    (``MAX_ALIAS_EXPANSION``, ``..._PER_FILE``, ``..._PER_RUN``); a float JSON cannot carry (``.inf``, ``.nan``)
    is refused with its document, key path, line and column.

    ``kubectl``: plain scalars are resolved as kubectl resolves them (sigs.k8s.io/yaml on go-yaml v2,
    sovereign/core/kubectl_scalars.py), for manifests; else as YAML 1.1 (PyYAML), for stack files and the catalog.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_INPUT_BYTES:
        raise InputError(source, (), f"a YAML file of at most {MAX_INPUT_BYTES} bytes", found_text="a larger file")
    docs: list[tuple[int, Any]] = []
    loader: Any = None
    bound = _nesting_upper_bound(text)
    python_class, c_class = _LOADERS[kubectl]
    use_c = c_class is not None and bound <= C_PARSER_MAX_NESTING_BOUND
    loader_class = c_class if use_c else python_class
    # Without an alias indicator nothing can expand, and a small bound caps the depth: then the node walk that
    # measures both is unnecessary (it costs about a tenth of a parse). The bound counts indentation and
    # indicators; a line can hide a mapping inside a "- " item and the scalar at the end, so depth stays
    # within 2 * bound + 2 (tests/hostile checks the margin on generated documents; seen: bound + 2).
    measure = "*" in text or 2 * bound + 2 > MAX_DEPTH
    plain = "*" not in text  # without aliases every node is constructed once: the plain constructor applies
    scalars = _PLAIN_SCALARS[loader_class]
    file_added = 0
    node: Any = None
    try:
        loader = loader_class(text)  # the reader checks for non-printable characters here
        skip_path_tracking(loader)
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                docs.append((1, None))
                continue
            if measure:
                added = _measure(node)
                if added:
                    file_added += added
                    _spend(added, file_added)
            if item_lines is not None:
                lines = _list_item_lines(node)
                if lines is not None:
                    item_lines[len(docs)] = lines
            docs.append((node.start_mark.line + 1, _construct_document(loader, node, plain, scalars)))
    except _NodeBudgetExceeded as exc:
        document = (f"document {len(docs) + 1}",) if exc.document else ()
        error = AliasBudgetExceeded if exc.run else InputError
        raise error(source, document, exc.expected, found_text=exc.found) from None
    except _NonFinite as exc:
        raise _non_finite(source, len(docs) + 1, node, exc.node) from None
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
    _alias_run["added"] += file_added
    return docs


_FILE_TYPES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
"""Should the path be swapped for a FIFO between the check and the open, a non-blocking open returns at once (and
the opened file's own type is checked again); on a regular file O_NONBLOCK changes nothing."""


def _not_regular(path: Path, mode: int) -> InputError:
    what = next((name for test, name in _FILE_TYPES if test(mode)), f"a special file (mode {mode:o})")
    try:
        if path.is_symlink():
            what = f"a symlink to {what}"
    except OSError:
        pass
    return InputError(path, (), "a regular file", found_text=what)


def _too_large(path: Path, found: str) -> InputError:
    return InputError(path, (), f"a file of at most {MAX_INPUT_BYTES} bytes", found_text=found)


def read_bytes(path: Path) -> bytes:
    """The bytes of the regular file ``path`` (symlinks followed), at most ``MAX_INPUT_BYTES`` of them.

    A FIFO, device, socket or directory is bad input naming the path, never opened for a read that would block
    (a FIFO waits for a writer) or never end (``/dev/zero``); a file that grows past the bound while being read is
    refused too.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InputError(path, (), "a readable file", found_text=exc.strerror or str(exc)) from None
    if not stat.S_ISREG(mode):
        raise _not_regular(path, mode)
    try:
        fd = os.open(path, _OPEN_FLAGS)
    except OSError as exc:
        raise InputError(path, (), "a readable file", found_text=exc.strerror or str(exc)) from None
    try:
        opened = os.fstat(fd)  # what was opened, whatever the path names now
        if not stat.S_ISREG(opened.st_mode):
            raise _not_regular(path, opened.st_mode)
        if opened.st_size > MAX_INPUT_BYTES:
            raise _too_large(path, f"{opened.st_size} bytes")
        chunks = [os.read(fd, opened.st_size + 1)]  # one read for a file that does not change
        total = len(chunks[0])
        while chunks[-1] and total <= MAX_INPUT_BYTES:
            chunks.append(os.read(fd, min(1 << 20, MAX_INPUT_BYTES + 1 - total)))
            total += len(chunks[-1])
        if total > MAX_INPUT_BYTES:
            raise _too_large(path, "a larger file (it grew while being read)")
        return chunks[0] if len(chunks) <= 2 and not chunks[-1] else b"".join(chunks)
    except OSError as exc:
        raise InputError(path, (), "a readable file", found_text=exc.strerror or str(exc)) from None
    finally:
        os.close(fd)


def read_text(path: Path) -> str:
    """The UTF-8 text of the regular file ``path`` (see ``read_bytes``), newlines translated as Python's text
    mode does (CR LF and a lone CR become LF)."""
    data = read_bytes(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, (), "UTF-8 text", found_text=f"undecodable byte at offset {exc.start}") from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


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
