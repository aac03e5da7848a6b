"""The files a catalog directory holds (no loading here: the build cache hashes them before any loader runs)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

CATALOG_FILE = "catalog.yaml"
PROVIDERS_FILE = "providers.yaml"
JURISDICTIONS_DIR = "jurisdictions"
SCHEMA_FILE = "catalog.schema.json"


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


