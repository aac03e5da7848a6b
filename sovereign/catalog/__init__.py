"""The jurisdiction catalog: typed model plus the loader that validates ``policies/catalog/`` into it.

``load_catalog`` and ``default_catalog`` keep a validated catalog between runs (sovereign/core/build_cache.py):
the loader, and the JSON Schema validator it needs, run only when the catalog's files or the code changed.
"""

from __future__ import annotations

import functools
from pathlib import Path

from sovereign.catalog.model import (
    AcceleratorPolicy,
    AcceleratorRule,
    Catalog,
    DataClass,
    Decision,
    ExportMode,
    IPAddress,
    IPNetwork,
    Jurisdiction,
    LegalBasis,
    Provenance,
    Provider,
    Region,
)


def load_catalog(directory: Path | None = None) -> Catalog:
    """The validated catalog in ``directory`` (default: the project's ``policies/catalog``); ``InputErrors`` naming
    every problem (sovereign/catalog/loader.py)."""
    from sovereign.catalog.files import catalog_files
    from sovereign.core import paths
    from sovereign.core.build_cache import built

    def build() -> Catalog:
        from sovereign.catalog import loader  # the validator's imports only when the catalog is built

        return loader.load_catalog(root)

    root = Path(directory) if directory is not None else paths.catalog_dir()
    return built("catalog", catalog_files(root), build, code=("core", "catalog"))


def default_catalog() -> Catalog:
    """The catalog of this checkout (``SOVEREIGN_ROOT`` decides which), once per process and directory."""
    from sovereign.core import paths

    return _catalog_at(paths.catalog_dir().resolve())


@functools.cache
def _catalog_at(directory: Path) -> Catalog:
    return load_catalog(directory)


__all__ = [
    "AcceleratorPolicy",
    "AcceleratorRule",
    "Catalog",
    "DataClass",
    "Decision",
    "ExportMode",
    "IPAddress",
    "IPNetwork",
    "Jurisdiction",
    "LegalBasis",
    "Provenance",
    "Provider",
    "Region",
    "default_catalog",
    "load_catalog",
]
