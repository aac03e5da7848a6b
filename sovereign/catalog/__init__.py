"""The jurisdiction catalog: typed model plus the loader that validates its two layers into it: the public layer
(``policies/catalog/``) and the organisation file (docs/catalog.md), merged into one ``Catalog``.

``load_catalog`` and ``default_catalog`` keep a validated catalog between runs (sovereign/core/build_cache.py):
the loader, and the JSON Schema validator it needs, run only when the catalog's files or the code changed.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

from sovereign.catalog.files import PUBLIC_ONLY, shown_path
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
    Organisation,
    Provenance,
    Provider,
    Region,
)


def load_catalog(directory: Path | None = None, organisation: Path | None = None) -> Catalog:
    """The validated catalog: the public layer in ``directory`` (default: the project's ``policies/catalog``) and
    the organisation file ``organisation`` (default: ``sovereign.core.paths.organisation_file()``: the
    ``--organisation`` flag or ``$SOVEREIGN_ORGANISATION``, the project's ``organisation.yaml``, else the example);
    ``InputErrors`` naming every problem (sovereign/catalog/loader.py)."""
    from sovereign.catalog.files import catalog_files
    from sovereign.core import paths
    from sovereign.core.build_cache import built

    def build() -> Catalog:
        from sovereign.catalog import loader  # the validator's imports only when the catalog is built

        return loader.load_catalog(root, org_file)

    root = Path(directory) if directory is not None else paths.catalog_dir()
    org_file = Path(organisation) if organisation is not None else paths.organisation_file()
    if org_file == PUBLIC_ONLY:
        return built("public-catalog", catalog_files(root), build, code=("core", "catalog"))
    catalog = built("catalog", [*catalog_files(root), org_file], build, code=("core", "catalog"))  # both layers
    shown = shown_path(Path(catalog.organisation.path))
    return replace(catalog, organisation=replace(catalog.organisation, path=shown))


def load_public_layer(directory: Path | None = None) -> Catalog:
    """The public layer alone (no organisation file read): its jurisdictions, providers and legal categories, for
    writing an organisation file (``sovereign init``)."""
    return load_catalog(directory, PUBLIC_ONLY)


def default_catalog() -> Catalog:
    """The catalog of this checkout (``SOVEREIGN_ROOT`` decides which) and the organisation file in force, once per
    process, directory and organisation file."""
    from sovereign.core import paths

    return _catalog_at(paths.catalog_dir().resolve(), paths.organisation_file().absolute())


@functools.cache
def _catalog_at(directory: Path, organisation: Path) -> Catalog:
    return load_catalog(directory, organisation)


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
    "Organisation",
    "Provenance",
    "Provider",
    "Region",
    "default_catalog",
    "load_catalog",
    "load_public_layer",
]
