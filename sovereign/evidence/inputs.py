"""The inputs a bundle carries, each with its role, where it was, its version and its digest: the stack file
(secrets redacted), the catalog's public layer (every file its loader reads), the organisation file, and the
policy pack config with the organisation's exemptions and carve-outs (docs/policies.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sovereign.catalog.files import catalog_files
from sovereign.catalog.model import Catalog
from sovereign.evidence import layout
from sovereign.evidence.canonical import sha256_hex
from sovereign.evidence.redact import redact_stack_text

CATALOG_HOME = "policies/catalog"
"""Where the public layer sits in a project (and where the verifier puts the bundled one back)."""
OUTSIDE = ".evidence-inputs"
"""Where the verifier puts an input that was outside the project (its original path is recorded)."""


@dataclass(frozen=True)
class BundleInput:
    role: str
    """``stack``, ``catalog-public``, ``organisation`` or ``policy-pack-config``."""
    file: str
    """Its path in the bundle."""
    path: str
    """Where it was: relative to the project root (the public layer: to the pack's data), POSIX; absolute when
    outside the project."""
    data: bytes
    facts: dict[str, Any] = field(default_factory=dict)
    """Role-specific facts: layer version, redacted key paths, the original's digest."""

    def entry(self) -> dict[str, Any]:
        return {"role": self.role, "file": self.file, "path": self.path, "sha256": sha256_hex(self.data),
                **self.facts}


def shown(path: Path, root: Path) -> str:
    absolute = Path(os.path.abspath(path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def stack_input(stack_file: Path, project_root: Path) -> BundleInput:
    original = stack_file.read_bytes()
    redacted = redact_stack_text(original.decode("utf-8"))
    facts: dict[str, Any] = {}
    if redacted.paths:
        facts = {"redacted": list(redacted.paths), "sourceSha256": sha256_hex(original)}
    return BundleInput("stack", f"{layout.STACK_INPUT}/{stack_file.name}", shown(stack_file, project_root),
                       redacted.text.encode("utf-8"), facts)


def catalog_inputs(catalog_dir: Path, catalog: Catalog) -> list[BundleInput]:
    facts = {"layer": "public", "version": catalog.version, "asOf": catalog.as_of.isoformat()}
    out = []
    for path in catalog_files(catalog_dir):
        relative = path.relative_to(catalog_dir).as_posix()
        out.append(BundleInput("catalog-public", f"{layout.PUBLIC_CATALOG_INPUT}/{relative}",
                               f"{CATALOG_HOME}/{relative}", path.read_bytes(), dict(facts)))
    return out


def organisation_input(path: Path, catalog: Catalog, project_root: Path, data_root: Path) -> BundleInput:
    org = catalog.organisation
    where = shown(path, project_root)
    if where.startswith("/"):
        where = shown(path, data_root)  # the example organisation of the installed copy
    facts = {"layer": "organisation", "name": org.name, "version": org.version, "example": org.example}
    return BundleInput("organisation", f"{layout.ORGANISATION_INPUT}/{path.name}", where, path.read_bytes(), facts)


def exemptions(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every exemption of the policy pack config, by rule and position; a carve-out is one of unjudged-object."""
    from sovereign.check.inventory import UNJUDGED_RULE

    out = []
    for rule in sorted(config):
        entry = config[rule]
        listed = entry.get("exemptions") if isinstance(entry, Mapping) else None
        for index, exemption in enumerate(listed if isinstance(listed, list) else []):
            out.append({"rule": rule, "index": index, "carveOut": rule == UNJUDGED_RULE, "exemption": exemption})
    return out


def policy_config_input(path: Path, project_root: Path, config: Mapping[str, Any]) -> BundleInput:
    facts = {"exemptions": len(exemptions(config))}
    return BundleInput("policy-pack-config", f"{layout.POLICY_CONFIG_INPUT}/{path.name}", shown(path, project_root),
                       path.read_bytes(), facts)
