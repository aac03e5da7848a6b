"""Plain Kubernetes manifests for ``sovereign check --manifests`` (Helm or kustomize output).

Each object keeps its file and line so findings point where a reviewer can look. The jurisdiction comes from
``--jurisdiction`` or from the ``sovereign-clusters.dev/jurisdiction`` label of the Namespace objects
given; an object that cannot be placed in exactly one jurisdiction is bad input (never guessed).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sovereign import labels
from sovereign.errors import InputError
from sovereign.yamlio import parse_yaml_documents_with_lines, read_text

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
Document = tuple[str, int, Mapping[str, Any]]
"""(file as given, 1-based line of the document start, object)."""


def manifest_files(path: Path) -> list[Path]:
    """The manifest files under ``path`` (itself, if a file), in the order their objects are checked."""
    if path.is_file():
        return [path]
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in MANIFEST_SUFFIXES)
        if not found:
            raise InputError(path, (), "a directory with .yaml/.yml/.json manifests", found_text="none")
        return found
    raise InputError(path, (), "a manifest file or directory", found_text="no such file or directory")


def load_manifests(path: Path) -> list[Document]:
    """Every object under ``path`` (``List`` kinds expanded), in file order."""
    return load_manifest_files(manifest_files(path))


def load_manifest_files(files: Sequence[Path]) -> list[Document]:
    """Every object of ``files``, in order; the first bad file raises (``InputError``)."""
    out: list[Document] = []
    for file in files:
        text = read_text(file)
        for index, (line, doc) in enumerate(parse_yaml_documents_with_lines(text, file)):
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise InputError(file, (f"document {index + 1}",), "a Kubernetes object (a mapping)", doc)
            items = doc.get("items") if str(doc.get("kind", "")).endswith("List") else None
            objects = items if isinstance(items, list) else [doc]
            for i, obj in enumerate(objects):
                key: tuple[str | int, ...] = (
                    (f"document {index + 1}",) if items is None else (f"document {index + 1}", "items", i)
                )
                if not isinstance(obj, dict):
                    raise InputError(file, key, "a Kubernetes object (a mapping)", obj)
                for field in ("apiVersion", "kind"):
                    if not isinstance(obj.get(field), str) or not obj.get(field):
                        raise InputError(file, (*key, field), "a non-empty string", obj.get(field))
                out.append((str(file), line, obj))
    return out


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
