"""The jurisdiction catalog: typed model plus the loader that validates ``policies/catalog/`` into it."""

from sovereign.catalog.loader import default_catalog, load_catalog
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
