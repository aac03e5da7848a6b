"""Where a finding on a rendered stack points: the declaration in the stack file that produced the object.

A reviewer fixes a stack's finding in its stack file, so code scanning should annotate the workload, transfer,
tenant, storage class or backup location the object came from, not line 1. The program marks what it creates
(``sovereign-clusters.dev/workload`` on a workload's objects and in its policies' pod selectors,
``sovereign-clusters.dev/transfer`` on a transfer's policies; a tenant is its namespace, a storage class or backup
location keeps its name), so the object says which declaration it came from. A stack-level finding (no object)
points at the stack-file key path its message names (``sovereign-clusters:operations.stateBackend``, the
``secretsprovider``), else at the first transfer or workload it names. Anything else points at the stack's
jurisdiction.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sovereign.core import labels
from sovereign.core.errors import InputError
from sovereign.core.yaml_locations import KeyPath, key_lines, line_of
from sovereign.core.yamlio import parse_yaml_documents
from sovereign.stackconfig.namespace import PREFIX

CONFIG = "config"
BACKUP_KINDS = frozenset({"BackupStorageLocation", "VolumeSnapshotLocation"})


def _entries(config: Mapping[str, Any], key: str, *fields: str) -> dict[tuple[str, ...], KeyPath]:
    """(values of ``fields``) -> key path of each entry of the list under ``key``."""
    found = config.get(PREFIX + key)
    out: dict[tuple[str, ...], KeyPath] = {}
    if not isinstance(found, list):
        return out
    for index, entry in enumerate(found):
        if isinstance(entry, Mapping):
            out.setdefault(tuple(str(entry.get(f, "")) for f in fields), (CONFIG, PREFIX + key, index))
    return out


def _label(props: Mapping[str, Any], name: str) -> str:
    """The label on the object, its pod template, or its policy's pod/endpoint selector."""
    spec = props.get("spec") if isinstance(props.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    template = spec.get("template") if isinstance(spec.get("template"), Mapping) else {}
    assert isinstance(template, Mapping)
    places = (
        (props.get("metadata") or {}).get("labels") if isinstance(props.get("metadata"), Mapping) else None,
        (template.get("metadata") or {}).get("labels") if isinstance(template.get("metadata"), Mapping) else None,
        *((spec.get(s) or {}).get("matchLabels") for s in ("podSelector", "endpointSelector")
          if isinstance(spec.get(s), Mapping)),
    )
    for place in places:
        if isinstance(place, Mapping) and isinstance(place.get(name), str):
            return str(place[name])
    return ""


class StackLocator:
    """Line of the declaration behind an object (or a stack-level message) in one stack file."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = key_lines(text)
        config: Mapping[str, Any] = {}
        try:
            docs = parse_yaml_documents(text, source) if text else []
        except InputError:
            docs = []
        if docs and isinstance(docs[0], Mapping) and isinstance(docs[0].get(CONFIG), Mapping):
            config = docs[0][CONFIG]
        self.workloads = _entries(config, "workloads", "namespace", "name")
        self.transfers = _entries(config, "transfers", "id")
        self.tenants = _entries(config, "tenants", "namespace")
        self.storage = _entries(config, "storage", "name")
        self.backups = _entries(config, "backups", "name")
        self.fallback: KeyPath = (CONFIG, PREFIX + "jurisdiction")

    def line(self, props: Mapping[str, Any] | None, message: str) -> int:
        return line_of(self.lines, self.path(props, message))

    def path(self, props: Mapping[str, Any] | None, message: str) -> KeyPath:
        found = self._object_path(props) if props else None
        return found or self._message_path(message) or self.fallback

    def _object_path(self, props: Mapping[str, Any]) -> KeyPath | None:
        meta = props.get("metadata") if isinstance(props.get("metadata"), Mapping) else {}
        assert isinstance(meta, Mapping)
        kind, name, namespace = (str(x) if isinstance(x, str) else "" for x in
                                 (props.get("kind"), meta.get("name"), meta.get("namespace")))
        transfer = _label(props, labels.TRANSFER_ID)
        if transfer and (transfer,) in self.transfers:
            return self.transfers[(transfer,)]
        workload = _label(props, labels.WORKLOAD)
        if workload and (namespace, workload) in self.workloads:
            return self.workloads[(namespace, workload)]
        if kind == "Namespace":
            return self.tenants.get((name,))
        if kind == "StorageClass":
            return self.storage.get((name,))
        if kind in BACKUP_KINDS:
            return self.backups.get((name,))
        return self.tenants.get((namespace,)) if namespace else None

    def _message_path(self, message: str) -> KeyPath | None:
        named = _key_path_named(message)
        if named is not None and named[:2] in self.lines:
            return named
        if _SECRETS_PROVIDER.search(message) and ("secretsprovider",) in self.lines:
            return ("secretsprovider",)
        for (tid,), path in sorted(self.transfers.items(), key=lambda kv: kv[1]):
            if _names(message, tid):
                return path
        for (namespace, name), path in sorted(self.workloads.items(), key=lambda kv: kv[1]):
            if _names(message, f"{namespace}/{name}"):
                return path
        return None


_KEY_PATH = re.compile(re.escape(PREFIX) + r"[\w-]+(?:\.[\w-]+|\[\d+\])*")
_PART = re.compile(r"\.([\w-]+)|\[(\d+)\]")
_SECRETS_PROVIDER = re.compile(r"\bsecrets ?provider\b", re.IGNORECASE)


def _key_path_named(message: str) -> KeyPath | None:
    """The first stack-file key path a message names as errors name them (``sovereign-clusters:operations.
    systemImages[1]``), as a path under ``config``."""
    found = _KEY_PATH.search(message)
    if found is None:
        return None
    text = found.group(0)
    head = re.match(re.escape(PREFIX) + r"[\w-]+", text)
    assert head is not None
    parts: list[str | int] = [CONFIG, head.group(0)]
    for name, index in _PART.findall(text[head.end():]):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _names(message: str, word: str) -> bool:
    return bool(word) and re.search(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])", message) is not None
