"""Helpers for tests that build broken catalogs: copy the real one into a temporary directory and edit it."""

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
CATALOG_FILES = (
    "catalog.yaml",
    "providers.yaml",
    "jurisdictions/cn.yaml",
    "jurisdictions/eu.yaml",
    "jurisdictions/hk.yaml",
    "jurisdictions/us.yaml",
)


def copy_catalog(parent: Path) -> Path:
    """A private copy of the real catalog (data + schema) under ``parent``."""
    target = parent / "catalog"
    shutil.copytree(REAL_CATALOG, target)
    return target


def read_doc(directory: Path, relative: str) -> Any:
    return yaml.safe_load((directory / relative).read_text(encoding="utf-8"))


def write_doc(directory: Path, relative: str, doc: Any) -> None:
    text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)
    (directory / relative).write_text(text, encoding="utf-8")


def edit(directory: Path, relative: str, change: Callable[[Any], object]) -> None:
    """Apply ``change`` to the parsed document in place (its return value is ignored) and write it back."""
    doc = read_doc(directory, relative)
    change(doc)
    write_doc(directory, relative, doc)


def load_ok(directory: Path) -> Catalog:
    return load_catalog(directory)


def load_fails(directory: Path) -> InputError:
    """Load and return the InputError (never another exception type)."""
    with pytest.raises(InputError) as caught:
        load_catalog(directory)
    return caught.value


def sub_errors(error: InputError) -> tuple[InputError, ...]:
    return error.errors if isinstance(error, InputErrors) else (error,)
