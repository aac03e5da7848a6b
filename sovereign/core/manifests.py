"""Plain Kubernetes manifests for ``sovereign check --manifests`` (Helm or kustomize output).

Each object keeps its file and line so findings point where a reviewer can look. The jurisdiction comes from
``--jurisdiction`` or from the ``sovereign-clusters.dev/jurisdiction`` label of the Namespace objects
given; an object that cannot be placed in exactly one jurisdiction is bad input (never guessed).

Lists are expanded as kubectl expands them (``expand_lists``): the objects a cluster would receive are judged,
never the List that carried them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sovereign.core import labels
from sovereign.core.errors import InputError
from sovereign.core.yamlio import parse_yaml_documents_with_lines, read_text

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
Document = tuple[str, int, Mapping[str, Any]]
"""(file as given, 1-based line where the object starts, object). An object of a List starts at its item's line."""

MAX_LIST_NESTING = 16
"""How many Lists may hold each other. kubectl flattens any depth; a bound keeps the work and the key paths of
error messages finite (each level is two levels of YAML nesting, so the YAML bound alone would allow 31)."""

KeyPath = tuple[str | int, ...]


def expand_lists(
    obj: Mapping[str, Any], file: str | Path, key: KeyPath
) -> list[tuple[KeyPath, tuple[int, ...], Mapping[str, Any]]]:
    """The objects a List holds, to any depth, in file order: ``(key path, index path, object)`` each, e.g.
    ``(("document 3", "items", 1, "items", 0), (1, 0), {...})``. ``obj`` itself is the only one when it is no List.

    What a List is follows kubectl (apimachinery's unstructured decoder and cli-runtime's ``FlattenListVisitor``):
    any object with an ``items`` key, whatever its kind (a kind ending in ``List`` without ``items`` is an ordinary
    object); the List itself is not applied, its items are, each flattened again if it has ``items``; an empty
    List holds nothing. Stricter than kubectl, as bad input naming ``file`` and the key path: ``items`` that is
    not a list (kubectl: ``null`` is an empty List), an item that is not a mapping, Lists nested deeper than
    ``MAX_LIST_NESTING``. kubectl visits nested Lists breadth first; here the order is the file's.
    """
    if "items" not in obj:
        return [(key, (), obj)]
    out: list[tuple[KeyPath, tuple[int, ...], Mapping[str, Any]]] = []
    stack: list[tuple[Mapping[str, Any], KeyPath, tuple[int, ...]]] = [(obj, key, ())]
    while stack:
        current, where, indices = stack.pop()
        if "items" not in current:
            out.append((where, indices, current))
            continue
        if len(indices) >= MAX_LIST_NESTING:
            raise InputError(file, where, f"Lists nested at most {MAX_LIST_NESTING} deep (a List's items that "
                             "have items are Lists too)", found_text="a List nested deeper")
        items = current.get("items")
        if not isinstance(items, list):
            raise InputError(file, (*where, "items"), "a list of objects (an object with items is a List: "
                             "kubectl applies its items instead of it)", items)
        for i in range(len(items) - 1, -1, -1):  # reversed onto the stack: popped in file order
            item = items[i]
            if not isinstance(item, Mapping):
                raise InputError(file, (*where, "items", i), "a Kubernetes object (a mapping)", item)
            stack.append((item, (*where, "items", i), (*indices, i)))
    return out


def manifest_files(path: Path) -> list[Path]:
    """The manifest files under ``path`` (itself, if a file), in the order their objects are checked.

    A directory that cannot be listed is bad input naming it, never skipped: its manifests would vanish from the
    answer (``Path.rglob`` skips such directories silently). Symbolic links to directories are not followed."""
    try:
        is_dir = stat.S_ISDIR(os.stat(path).st_mode)
    except FileNotFoundError:
        raise InputError(path, (), "a manifest file or directory", found_text="no such file or directory") from None
    except OSError as exc:
        raise InputError(path, (), "a readable manifest file or directory",
                         found_text=exc.strerror or str(exc)) from None
    if not is_dir:
        return [path]  # the reader refuses what is not a regular file (a FIFO, a device), naming it

    def unreadable(exc: OSError) -> None:
        raise InputError(exc.filename or path, (), "a directory that can be listed",
                         found_text=exc.strerror or str(exc))

    found = sorted(
        Path(top) / name
        for top, _dirs, names in os.walk(path, onerror=unreadable)
        for name in names
        if Path(name).suffix in MANIFEST_SUFFIXES and os.path.isfile(os.path.join(top, name))
    )
    if not found:
        raise InputError(path, (), "a directory with .yaml/.yml/.json manifests", found_text="none")
    return found


def load_manifests(path: Path) -> list[Document]:
    """Every object under ``path`` (``List`` kinds expanded), in file order."""
    return load_manifest_files(manifest_files(path))


def load_manifest_files(files: Sequence[Path]) -> list[Document]:
    """Every object of ``files``, in order (Lists expanded, ``expand_lists``); the first bad file raises
    (``InputError``)."""
    out: list[Document] = []
    for file in files:
        text = read_text(file)
        item_lines: dict[int, dict[tuple[int, ...], int]] = {}
        documents = parse_yaml_documents_with_lines(text, file, item_lines, kubectl=True)  # as kubectl reads them
        for index, (line, doc) in enumerate(documents):
            if doc is None:
                continue
            where = f"document {index + 1}"
            if not isinstance(doc, dict):
                raise InputError(file, (where,), "a Kubernetes object (a mapping)", doc)
            if "items" not in doc:
                _check_object(file, (where,), doc)
                out.append((str(file), line, doc))
                continue
            if not isinstance(doc.get("kind"), str) or not doc.get("kind"):  # kubectl: "Object 'Kind' is missing"
                raise InputError(file, (where, "kind"), "a non-empty string", doc.get("kind"))
            lines = item_lines.get(index, {})
            for key, indices, obj in expand_lists(doc, file, (where,)):
                _check_object(file, key, obj)
                out.append((str(file), lines.get(indices, line), obj))
    return out


def _check_object(file: Path, key: KeyPath, obj: Mapping[str, Any]) -> None:
    for field in ("apiVersion", "kind"):
        value = obj.get(field)
        if not isinstance(value, str) or not value:
            raise InputError(file, (*key, field), "a non-empty string", value)


def _namespace_of(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("namespace"), str):
        return str(meta["namespace"])
    return ""


def _namespace_labels(docs: Sequence[Document]) -> dict[str, tuple[str, str, int]]:
    """Namespace name -> (jurisdiction label, file, line) for labelled Namespace objects."""
    out: dict[str, tuple[str, str, int]] = {}
    for file, line, obj in docs:
        if obj.get("kind") != "Namespace" or obj.get("apiVersion") != "v1":
            continue
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        value = (
            (meta.get("labels") or {}).get(labels.JURISDICTION)
            if isinstance(meta.get("labels"), Mapping)
            else None
        )
        if isinstance(value, str) and value and isinstance(meta.get("name"), str):
            out[str(meta["name"])] = (value, file, line)
    return out


def group_by_jurisdiction(docs: Sequence[Document], flag: str | None) -> dict[str, list[Document]]:
    """Jurisdiction -> its objects. ``--jurisdiction`` judges everything, and must agree with the labels."""
    labelled = _namespace_labels(docs)
    if flag:
        for ns, (value, file, _line) in sorted(labelled.items()):
            if value != flag:
                raise InputError(
                    file,
                    (ns, "metadata", "labels", labels.JURISDICTION),
                    f"the jurisdiction given with --jurisdiction ({flag})",
                    value,
                )
        return {flag: list(docs)}
    if not labelled:
        where = docs[0][0] if docs else "manifests"
        raise InputError(
            where,
            ("metadata", "labels", labels.JURISDICTION),
            "a Namespace labelled with its jurisdiction, or --jurisdiction",
            found_text="none",
        )
    jurisdictions = sorted({v for v, _f, _l in labelled.values()})
    groups: dict[str, list[Document]] = {j: [] for j in jurisdictions}
    for file, line, obj in docs:
        ns = obj.get("metadata", {}).get("name") if obj.get("kind") == "Namespace" else _namespace_of(obj)
        if isinstance(ns, str) and ns in labelled:
            groups[labelled[ns][0]].append((file, line, obj))
        elif len(jurisdictions) == 1:
            groups[jurisdictions[0]].append((file, line, obj))
        else:
            raise InputError(
                file,
                (f"line {line}", "metadata", "namespace"),
                "a namespace labelled with its jurisdiction (objects span "
                f"{', '.join(jurisdictions)}), or --jurisdiction",
                ns or "no namespace",
            )
    return groups
