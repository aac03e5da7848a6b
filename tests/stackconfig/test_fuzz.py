"""Property tests: mutated example stacks either load or fail with InputError naming the file; nothing else.

Mutations drop keys, swap in wrong types, random strings, random CIDRs and random catalog values (regions,
zones, data classes, accelerators of every jurisdiction), so they reach the schema AND the catalog checks.
Fast by default (100 examples, no deadline); raise SOVEREIGN_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stackconfig_support import EXAMPLE_STACKS, PREFIX, catalog, errors_of, example_values, parse, source_file

from sovereign.core.errors import InputError
from sovereign.stackconfig.loader import config_keys, load_stack_file, parse_stack_config
from sovereign.stackconfig.model import StackConfig

EXAMPLES = int(os.environ.get("SOVEREIGN_FUZZ_EXAMPLES", "100"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Path_ = tuple[str | int, ...]


@cache
def catalog_words() -> tuple[str, ...]:
    """Values a user might plausibly write: every catalog id, region, zone, data class and GPU product."""
    cat = catalog()
    words: set[str] = set(cat.jurisdictions) | set(cat.providers)
    for provider in cat.providers.values():
        for region in provider.regions.values():
            words.add(region.id)
            words.update(region.zones)
    for jur in cat.jurisdictions.values():
        words.update(jur.data_classes)
        words.update(r.product for r in jur.accelerators.rules)
        words.update(jur.domains)
        words.update(jur.registries)
        words.update(str(n) for n in jur.networks)
    for stack in EXAMPLE_STACKS:
        words.update(f"{w['namespace']}/{w['name']}" for w in example_values(stack).get("workloads", []))
    return tuple(sorted(words))


cidrs = st.builds(lambda addr, bits: f"{addr}/{bits}", st.ip_addresses(), st.integers(min_value=0, max_value=130))
instants = st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=24),
    cidrs,
    instants,
    st.deferred(lambda: st.sampled_from(catalog_words())),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=12), st.sampled_from(["name", "port", "cidrs", "tier"])),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


def all_paths(value: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every node below the root, in a stable order."""
    out: list[Path_] = []
    if isinstance(value, dict):
        for key in value:
            out.append((*prefix, key))
            out.extend(all_paths(value[key], (*prefix, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.append((*prefix, i))
            out.extend(all_paths(item, (*prefix, i)))
    return out


def parent_of(root: Any, path: Path_) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


same_kind = {
    str: st.one_of(
        st.deferred(lambda: st.sampled_from(catalog_words())),
        cidrs,
        st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    ),
    bool: st.booleans(),
    int: st.integers(min_value=0, max_value=70000),
}


@st.composite
def mutated_stacks(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """An example stack with 1-3 mutations; half keep the value's type, so catalog checks are reached."""
    stack = draw(st.sampled_from(EXAMPLE_STACKS))
    values = example_values(stack)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = all_paths(values)
        if not paths:
            break
        op = draw(st.sampled_from(["drop", "replace", "add-key", "same-kind", "same-kind", "same-kind"]))
        if op == "same-kind":
            leaves = [p for p in paths if type(parent_of(values, p)[p[-1]]) in same_kind]
            path = draw(st.sampled_from(leaves))
            parent = parent_of(values, path)
            parent[path[-1]] = draw(same_kind[type(parent[path[-1]])])
            continue
        path = draw(st.sampled_from(paths))
        parent = parent_of(values, path)
        if op == "drop":
            del parent[path[-1]]
        elif op == "replace":
            parent[path[-1]] = draw(json_values)
        elif isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        else:
            parent.append(draw(json_values))
    return stack, values


def assert_names_the_file(exc: InputError, file: str) -> None:
    for error in errors_of(exc):
        assert error.file == file
        assert error.message.startswith(f"{file}: ")
        assert error.expected


@FUZZ
@given(mutated_stacks())
def test_mutated_examples_load_or_raise_input_error(case: tuple[str, dict[str, Any]]) -> None:
    stack, values = case
    try:
        config = parse(values, stack=stack)
    except InputError as exc:
        assert_names_the_file(exc, source_file(stack))
    else:
        assert isinstance(config, StackConfig)
        assert parse(values, stack=stack) == config  # deterministic


@FUZZ
@given(st.dictionaries(st.one_of(st.sampled_from(config_keys()), st.text(max_size=16)), json_values, max_size=6))
def test_arbitrary_values_raise_input_error(values: dict[str, Any]) -> None:
    try:
        parse_stack_config(values, stack="fuzz", source_file="Pulumi.fuzz.yaml", catalog=catalog())
    except InputError as exc:
        assert_names_the_file(exc, "Pulumi.fuzz.yaml")


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_stacks())
def test_mutated_stack_files_load_or_raise_input_error(case: tuple[str, dict[str, Any]]) -> None:
    stack, values = case
    document = {"config": {f"{PREFIX}{k}": v for k, v in values.items()}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"Pulumi.{stack}.yaml"
        path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
        try:
            config = load_stack_file(path, catalog=catalog())
        except InputError as exc:
            assert_names_the_file(exc, str(path))
        else:
            assert config.stack == stack


@settings(max_examples=max(10, EXAMPLES // 2), deadline=None)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_arbitrary_file_bytes_raise_input_error(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.noise.yaml"
        path.write_bytes(content)
        try:
            load_stack_file(path, catalog=catalog())
        except InputError as exc:
            assert_names_the_file(exc, str(path))
