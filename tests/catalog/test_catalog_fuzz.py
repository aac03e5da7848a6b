"""Property tests: whatever is done to the catalog files, loading either succeeds or raises an InputError
whose message names a catalog file; never anything else (KeyError, TypeError, jsonschema errors ...)."""

from __future__ import annotations

import ipaddress
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from catalog_copies import (
    CATALOG_FILES,
    ORG,
    REAL_CATALOG,
    copy_catalog,
    pristine_doc,
    pristine_text,
    sub_errors,
    write_doc,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sovereign.catalog import Catalog, load_catalog
from sovereign.core.errors import InputError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=20), st.dates(),
    st.sampled_from(["", "cn", "eu", "NO", "2026-13-01", "10.10.0.0/16", "allow", "never", "aws", "*.x.cn"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


def _containers(doc: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """Every (path, mapping-or-list) inside a document."""
    if isinstance(doc, dict | list):
        yield path, doc
        items = doc.items() if isinstance(doc, dict) else enumerate(doc)
        for key, item in items:
            yield from _containers(item, (*path, key))


def _load_outcome(directory: Path) -> Catalog | InputError:
    try:
        catalog = load_catalog(directory, directory / ORG)
    except InputError as error:
        event("rejected")
        return error
    event("loaded")
    return catalog


def _assert_names_catalog_files(outcome: Catalog | InputError, directory: Path) -> None:
    if isinstance(outcome, Catalog):
        return
    known = {str(directory / name) for name in CATALOG_FILES} | {str(directory / "jurisdictions")}
    for error in sub_errors(outcome):
        assert error.file in known, error.message
        assert error.message.startswith(error.file + ": "), error.message
        assert "expected " in error.message and "; found " in error.message, error.message


@st.composite
def document_mutations(draw: st.DrawFn) -> tuple[str, Any]:
    """One catalog file and a structurally mutated copy of its document."""
    relative = draw(st.sampled_from(CATALOG_FILES))
    doc = pristine_doc(relative)
    containers = list(_containers(doc))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        _, target = draw(st.sampled_from(containers))
        action = draw(st.sampled_from(["replace", "delete", "add", "rename", "string", "cidr"]))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        if action == "add" or not keys:
            if isinstance(target, dict):
                target[draw(st.text(max_size=10))] = draw(values)
            else:
                target.append(draw(values))
            continue
        key = draw(st.sampled_from(keys))
        if action == "replace":
            target[key] = draw(values)
        elif action == "delete":
            del target[key]
        elif action == "rename" and isinstance(target, dict):
            target[draw(st.text(max_size=12))] = target.pop(key)
        elif action == "string":
            target[key] = draw(st.text(max_size=30))
        else:
            address = draw(st.ip_addresses())
            prefix = draw(st.integers(min_value=0, max_value=130))
            target[key] = f"{address}/{prefix}"
    return relative, doc


@FUZZ
@given(document_mutations())
def test_mutated_documents_load_or_fail_with_input_error(mutation: tuple[str, Any]) -> None:
    relative, doc = mutation
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        write_doc(directory, relative, doc)
        _assert_names_catalog_files(_load_outcome(directory), directory)


@FUZZ
@given(
    jurisdiction=st.sampled_from(["cn", "eu", "hk", "us"]),
    index=st.integers(min_value=0, max_value=2),
    address=st.ip_addresses(),
    prefix=st.integers(min_value=0, max_value=128),
)
def test_random_cidrs(jurisdiction: str, index: int, address: Any, prefix: int) -> None:
    """A random network in the organisation file either loads (and is then attributed to its jurisdiction) or is
    rejected clearly."""
    relative = ORG
    doc = pristine_doc(relative)
    networks = doc["jurisdictions"][jurisdiction]["networks"]
    text = f"{address}/{prefix}"
    networks[min(index, len(networks) - 1)] = text
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        write_doc(directory, relative, doc)
        outcome = _load_outcome(directory)
        _assert_names_catalog_files(outcome, directory)
        if isinstance(outcome, Catalog):
            network = ipaddress.ip_network(text)  # it loaded, so it is a strict, non-overlapping network
            owner = outcome.jurisdiction_of_address(network)
            assert owner is not None and owner.id == jurisdiction


_ENTRY_LINE = re.compile(r"^(\s*)[A-Za-z0-9_-]+: \S")


def _duplicable_lines(text: str) -> list[int]:
    """Lines holding a complete one-line ``key: value`` entry (no children, no continuation lines)."""
    lines = text.split("\n")
    out = []
    for number, line in enumerate(lines[:-1]):
        match = _ENTRY_LINE.match(line)
        if match is None:
            continue
        following = lines[number + 1]
        if following.strip() and len(following) - len(following.lstrip()) > len(match.group(1)):
            continue
        out.append(number)
    return out


@FUZZ
@given(relative=st.sampled_from(CATALOG_FILES), data=st.data())
def test_duplicate_keys_in_raw_yaml_are_rejected(relative: str, data: st.DataObject) -> None:
    text = pristine_text(relative)
    candidates = _duplicable_lines(text)
    number = data.draw(st.sampled_from(candidates))
    lines = text.split("\n")
    lines.insert(number + 1, lines[number])
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        (directory / relative).write_text("\n".join(lines), encoding="utf-8")
        outcome = _load_outcome(directory)
        assert isinstance(outcome, InputError)
        _assert_names_catalog_files(outcome, directory)
        assert "duplicate key" in outcome.message and str(directory / relative) in outcome.message


@FUZZ
@given(
    relative=st.sampled_from(CATALOG_FILES),
    cut=st.floats(min_value=0, max_value=1),
    insert=st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"%@`#?\n\t ab1")), max_size=12),
    truncate=st.booleans(),
)
def test_malformed_yaml_fails_with_input_error(
    relative: str, cut: float, insert: str, truncate: bool
) -> None:
    text = pristine_text(relative)
    position = int(len(text) * cut)
    broken = text[:position] + insert + ("" if truncate else text[position:])
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        (directory / relative).write_text(broken, encoding="utf-8")
        _assert_names_catalog_files(_load_outcome(directory), directory)


@FUZZ
@given(
    relative=st.sampled_from(CATALOG_FILES),
    content=st.one_of(st.text(max_size=200), st.binary(max_size=200)),
)
def test_arbitrary_file_content(relative: str, content: str | bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        path = directory / relative
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        _assert_names_catalog_files(_load_outcome(directory), directory)


_REAL = load_catalog(REAL_CATALOG)
_ALL_REGIONS = sorted((p.id, r.id) for p in _REAL.providers.values() for r in p.regions.values())


@FUZZ
@given(region=st.sampled_from(_ALL_REGIONS), jurisdiction_id=st.sampled_from(sorted(_REAL.jurisdictions)))
def test_adding_any_region_to_any_jurisdiction(region: tuple[str, str], jurisdiction_id: str) -> None:
    """Loads only if the region is in the jurisdiction's countries and no other jurisdiction has it."""
    provider_id, region_id = region
    relative = f"jurisdictions/{jurisdiction_id}.yaml"
    doc = pristine_doc(relative)
    listed = doc["regions"].setdefault(provider_id, [])
    if region_id not in listed:
        listed.append(region_id)
    with tempfile.TemporaryDirectory() as tmp:
        directory = copy_catalog(Path(tmp))
        write_doc(directory, relative, doc)
        outcome = _load_outcome(directory)
        _assert_names_catalog_files(outcome, directory)
        country = _REAL.providers[provider_id].regions[region_id].country
        owner = _REAL.jurisdiction_of_region(provider_id, region_id)
        in_country = country in _REAL.jurisdictions[jurisdiction_id].countries
        claimed_elsewhere = owner is not None and owner.id != jurisdiction_id
        if in_country and not claimed_elsewhere:
            assert isinstance(outcome, Catalog)
            found = outcome.jurisdiction_of_region(provider_id, region_id)
            assert found is not None and found.id == jurisdiction_id
        else:
            assert isinstance(outcome, InputError)
            if not in_country:
                assert f"is in country {country}" in outcome.message
            if claimed_elsewhere:
                assert f"{provider_id} {region_id} claimed by both" in outcome.message
