"""Helpers for tests that build broken catalogs: copy the real one (both layers) into a temporary directory and
edit it. The copy of the example organisation file lands in the copy's directory as ``organisation.yaml``, so an
error names it as ``organisation.yaml`` once the directory is stripped."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sovereign.catalog import Catalog, load_catalog
from sovereign.core import paths
from sovereign.core.errors import InputError, InputErrors

REAL_CATALOG = paths.catalog_dir()
EXAMPLE_ORGANISATION = paths.project_root() / paths.EXAMPLE_ORGANISATION
ORG = "organisation.yaml"
CATALOG_FILES = (
    "catalog.yaml",
    "providers.yaml",
    "jurisdictions/cn.yaml",
    "jurisdictions/eu.yaml",
    "jurisdictions/hk.yaml",
    "jurisdictions/us.yaml",
    ORG,
)


def copy_catalog(parent: Path) -> Path:
    """A private copy of the real catalog (data + schema) under ``parent``."""
    target = parent / "catalog"
    shutil.copytree(REAL_CATALOG, target)
    shutil.copyfile(EXAMPLE_ORGANISATION, target / ORG)
    return target


def read_doc(directory: Path, relative: str) -> Any:
    return yaml.safe_load((directory / relative).read_text(encoding="utf-8"))


def pristine_text(relative: str) -> str:
    """The text of a file of the real catalog (``organisation.yaml``: the example organisation)."""
    return (EXAMPLE_ORGANISATION if relative == ORG else REAL_CATALOG / relative).read_text(encoding="utf-8")


def pristine_doc(relative: str) -> Any:
    """A file of the real catalog (``organisation.yaml``: the example organisation), parsed."""
    return yaml.safe_load(pristine_text(relative))


def write_doc(directory: Path, relative: str, doc: Any) -> None:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    (directory / relative).write_text(text, encoding="utf-8")


def edit(directory: Path, relative: str, change: Callable[[Any], object]) -> None:
    """Apply ``change`` to the parsed document in place (its return value is ignored) and write it back."""
    doc = read_doc(directory, relative)
    change(doc)
    write_doc(directory, relative, doc)


def load_ok(directory: Path) -> Catalog:
    return load_catalog(directory, directory / ORG)


def load_fails(directory: Path) -> InputError:
    """Load and return the InputError (never another exception type)."""
    with pytest.raises(InputError) as caught:
        load_catalog(directory, directory / ORG)
    return caught.value


def sub_errors(error: InputError) -> tuple[InputError, ...]:
    return error.errors if isinstance(error, InputErrors) else (error,)
