"""Expand shared declarations into each workload, so every later pass sees the stack as if written inline.

``destinations``, ``sources`` and ``workloadDefaults`` exist to keep large stacks under the 128 KiB
``PULUMI_CONFIG`` limit (``sovereign.core.pulumi_config_env``) and to declare a shared fact once: a workload's
``egress`` entry may name a declared destination, its ``ingress`` entry a declared source (the fleet's uplink),
instead of spelling it out, and a workload without ``resources`` takes the default ones. This pass runs on schema-valid,
unprefixed values; afterwards the typed model cannot tell the two spellings apart.

Errors the later passes find in an expanded destination are about the destination, not about each workload that
names it: ``Expansion.attribute`` moves them to the destination's key path, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sovereign.core.errors import InputError, InputErrors
from sovereign.stackconfig.error_text import listing, short_repr
from sovereign.stackconfig.namespace import KeyPath, key_path, prefixed

DESTINATIONS_KEY = "destinations"
SOURCES_KEY = "sources"
WORKLOAD_DEFAULTS_KEY = "workloadDefaults"


@dataclass(frozen=True)
class Expansion:
    """The inline form of the values, and where each expanded egress need was declared."""

    values: dict[str, Any]
    origins: Mapping[KeyPath, KeyPath] = field(default_factory=dict)
    """Key path of a workload's egress (ingress) entry that named a destination (source) -> its declaration's key
    path."""

    def attribute(self, errors: Sequence[InputError]) -> list[InputError]:
        """``errors`` with problems inside an expanded destination reported at the destination, once each.

        The entry's ``name`` is the workload list's business (duplicate names), so it stays put.
        """
        out: list[InputError] = []
        seen: set[tuple[KeyPath, str, str]] = set()
        for error in errors:
            moved = self._moved(error.key_path)
            if moved is not None:
                error = InputError(error.file, moved, error.expected, found_text=error.found)
            identity = (error.key_path, error.expected, error.found)
            if identity not in seen:
                seen.add(identity)
                out.append(error)
        return out

    def _moved(self, path: KeyPath) -> KeyPath | None:
        if len(path) <= 4 or path[4] == "name":
            return None
        origin = self.origins.get(path[:4])
        return None if origin is None else (*origin, *path[4:])


def expand_shared(values: Mapping[str, Any], source_file: str) -> Expansion:
    """Inline every destination reference and default; unknown references raise ``InputErrors`` (all of them)."""
    shared = {"egress": (DESTINATIONS_KEY, "an egress need", values.get(DESTINATIONS_KEY, {})),
              "ingress": (SOURCES_KEY, "an ingress source", values.get(SOURCES_KEY, {}))}
    defaults: Mapping[str, Any] = values.get(WORKLOAD_DEFAULTS_KEY, {})
    errors: list[InputError] = []
    origins: dict[KeyPath, KeyPath] = {}
    workloads = []
    for i, workload in enumerate(values.get("workloads", [])):
        expanded = dict(workload)
        for name, value in defaults.items():
            expanded.setdefault(name, value)
        for field_name, (shared_key, what, declared) in shared.items():
            if field_name not in workload:
                continue
            entries = []
            for j, entry in enumerate(workload[field_name]):
                if not isinstance(entry, str):
                    entries.append(entry)
                    continue
                where = key_path("workloads", i, field_name, j)
                if entry not in declared:
                    errors.append(_unknown(source_file, where, entry, declared, shared_key, what))
                    continue
                origins[where] = key_path(shared_key, entry)
                entries.append({"name": entry, **declared[entry]})
            expanded[field_name] = entries
        workloads.append(expanded)
    if errors:
        raise InputErrors(errors)
    inline = {k: v for k, v in values.items() if k not in (DESTINATIONS_KEY, SOURCES_KEY, WORKLOAD_DEFAULTS_KEY)}
    if "workloads" in values:
        inline["workloads"] = workloads
    return Expansion(inline, origins)


def _unknown(source_file: str, where: KeyPath, name: str, declared: Mapping[str, Any], shared_key: str,
             what: str) -> InputError:
    kind = "destination" if shared_key == DESTINATIONS_KEY else "source"
    expected = (
        f"{what}, or the name of a {kind} declared under {prefixed(shared_key)} "
        f"(declared: {listing(sorted(declared))})"
    )
    return InputError(source_file, where, expected, found_text=f"{short_repr(name)}, which is not declared there")
