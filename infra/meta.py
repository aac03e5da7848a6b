"""Object metadata shared by every manifest: explicit names and namespaces, and only sovereign.core.labels keys."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from sovereign.core import labels

_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9_.-]")
MAX_LABEL_VALUE = 63


def label_value(text: str) -> str:
    """A valid label value (the stack name may contain "/" under an organisation)."""
    value = _LABEL_VALUE_BAD.sub("-", text)[:MAX_LABEL_VALUE]
    return value.strip("-_.")


def estate_labels(jurisdiction: str, stack: str) -> dict[str, str]:
    """On every object the program creates: who governs it and which stack owns it."""
    return {labels.JURISDICTION: jurisdiction, labels.STACK: label_value(stack)}


def data_classes_summary(data_classes: Iterable[str]) -> str:
    """The dot-joined value of ``labels.DATA_CLASSES`` (label values allow no commas)."""
    return ".".join(sorted(set(data_classes)))


def data_class_labels(data_classes: Iterable[str], *, summary: bool = False) -> dict[str, str]:
    """One selectable label per class; with ``summary`` (namespaces) also the dot-joined DATA_CLASSES label,
    whose length infra.plan checks against the 63-character label-value limit."""
    classes = sorted(set(data_classes))
    out = {labels.data_class_label(dc): "true" for dc in classes}
    if summary and classes:
        out[labels.DATA_CLASSES] = data_classes_summary(classes)
    return out


def metadata(
    name: str,
    *,
    namespace: str | None = None,
    labels_: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """metadata with an explicit name (no Pulumi autonaming) and, for namespaced kinds, namespace."""
    meta: dict[str, Any] = {"name": name}
    if namespace is not None:
        meta["namespace"] = namespace
    if labels_:
        meta["labels"] = dict(sorted(labels_.items()))
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta
