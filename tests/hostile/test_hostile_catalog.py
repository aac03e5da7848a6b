"""Hostile catalogs: mutated copies of policies/catalog load or fail with InputError naming a file; the CLI
(``sovereign validate --catalog``) exits 0 or 2 with a clear error, never a traceback."""

from __future__ import annotations

import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_support import (
    ROOT,
    assert_bad_input,
    assert_no_traceback,
    counted,
    deep,
    dump,
    fuzz,
    mutated_document,
    run_main,
    text_mutation,
    write_bytes,
)
from hypothesis import given
from hypothesis import strategies as st

from sovereign.catalog import Catalog, load_catalog
from sovereign.core.errors import InputError

CATALOG = ROOT / "policies" / "catalog"
FILES = sorted(str(p.relative_to(CATALOG)) for p in CATALOG.rglob("*.yaml"))


@cache
def original(name: str) -> Any:
    return yaml.safe_load((CATALOG / name).read_text(encoding="utf-8"))


@cache
def original_text(name: str) -> str:
    return (CATALOG / name).read_text(encoding="utf-8")


def _copy(tmp: Path) -> Path:
    target = tmp / "catalog"
    shutil.copytree(CATALOG, target)
    return target


def _load_or_error(directory: Path) -> Catalog | InputError:
    try:
        return load_catalog(directory)
    except InputError as exc:
        assert exc.message.strip(), "empty error message"
        for line in exc.message.split("\n"):
            assert line.startswith(str(directory)), f"error does not name a catalog file: {line}"
            assert ": expected " in line, line
        return exc


@fuzz()
@given(name=st.sampled_from(FILES), data=st.data())
@counted
def test_mutated_catalog_document(name: str, data: st.DataObject) -> None:
    doc = data.draw(mutated_document(original(name)))
    with tempfile.TemporaryDirectory(prefix="hostile-catalog-") as tmp:
        directory = _copy(Path(tmp))
        write_bytes(directory / name, dump(doc))
        _load_or_error(directory)


@fuzz()
@given(name=st.sampled_from(FILES), data=st.data())
@counted
def test_damaged_catalog_text(name: str, data: st.DataObject) -> None:
    text = data.draw(text_mutation(original_text(name)))
    with tempfile.TemporaryDirectory(prefix="hostile-catalog-") as tmp:
        directory = _copy(Path(tmp))
        write_bytes(directory / name, text)
        _load_or_error(directory)


@fuzz(default=25, long=600)
@given(name=st.sampled_from(FILES), data=st.data())
@counted
def test_validate_cli_on_damaged_catalog(name: str, data: st.DataObject) -> None:
    text = data.draw(st.one_of(text_mutation(original_text(name)), mutated_document(original(name)).map(dump)))
    with tempfile.TemporaryDirectory(prefix="hostile-catalog-") as tmp:
        directory = _copy(Path(tmp))
        write_bytes(directory / name, text)
        result = run_main(["validate", "--catalog", str(directory)])
        assert_no_traceback(result)
        if result.code == 2:
            assert_bad_input(result, "validate")


HOSTILE_FILES: dict[str, bytes | str] = {
    "deep-nesting": deep(200),
    "invalid-utf8": b"version: 1\n\xff\xfe\xfa: x\n",
    "nul-bytes": "version: 1\n\x00\x00\n",
    "duplicate-key": "jurisdictions: [cn]\njurisdictions: [eu]\n",
    "not-a-mapping": "- just\n- a list\n",
    "python-tag": "x: !!python/object/apply:os.system [echo owned]\n",
    "recursive-alias": "a: &a [*a]\n",
    "huge": "# " + "x" * (17 * 1024 * 1024) + "\n",
    "unicode-keys": "\u202eversion\U0001f4a3: 1\nj\u0301urisdictions: {}\n",
    "empty": "",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_FILES))
@pytest.mark.parametrize("name", ["catalog.yaml", "providers.yaml", "jurisdictions/cn.yaml"])
def test_hostile_catalog_file(case: str, name: str, tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    write_bytes(directory / name, HOSTILE_FILES[case])
    with pytest.raises(InputError) as info:
        load_catalog(directory)
    assert str(directory / name) in info.value.message, info.value.message
    assert_bad_input(run_main(["validate", "--catalog", str(directory)]), "validate")


def test_missing_catalog_directory(tmp_path: Path) -> None:
    assert_bad_input(run_main(["validate", "--catalog", str(tmp_path / "nope")]), "validate")
