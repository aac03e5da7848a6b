"""The files a catalog directory holds (no loading here: the build cache hashes them before any loader runs)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from sovereign.core import paths
from sovereign.core.errors import InputError

CATALOG_FILE = "catalog.yaml"
PROVIDERS_FILE = "providers.yaml"
JURISDICTIONS_DIR = "jurisdictions"
SCHEMA_FILE = "catalog.schema.json"
PUBLIC_ONLY = Path("")
"""``load_catalog(..., organisation=PUBLIC_ONLY)``: the public layer alone (``sovereign init`` writes an organisation
file from it); no organisation file is read, and the catalog holds no networks, registries or data classes."""


def catalog_files(directory: Path) -> list[Path]:
    """Every file a catalog directory's load reads."""
    return [directory / SCHEMA_FILE, directory / CATALOG_FILE, directory / PROVIDERS_FILE,
            *jurisdiction_files(directory)]


def jurisdiction_files(directory: Path) -> Iterator[Path]:
    """Every ``*.yaml``/``*.yml`` entry of ``jurisdictions/``, whatever its type: reading one that is not a regular
    file reports it (``yamlio.read_text``) instead of skipping it."""
    folder = directory / JURISDICTIONS_DIR
    if folder.is_dir():
        yield from sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))




def shown_path(file: Path) -> str:
    """The organisation file as reports show it: relative to where it is at home (the project root) or to the
    pack's data (the example), so the same text on every machine; else absolute."""
    absolute = Path(os.path.abspath(file))
    for root in (paths.organisation_home, paths.data_root):
        try:
            return absolute.relative_to(root()).as_posix()
        except (ValueError, RuntimeError, InputError):
            continue
    return str(absolute)
