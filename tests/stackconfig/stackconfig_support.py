"""Shared helpers for the stack-config tests: the example stacks as raw values, and error assertions."""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

import yaml

from sovereign.catalog import Catalog, default_catalog
from sovereign.core import paths
from sovereign.core.errors import InputError, InputErrors, format_key_path
from sovereign.core.labels import CONFIG_NAMESPACE
from sovereign.stackconfig.loader import parse_stack_config
from sovereign.stackconfig.model import StackConfig

PREFIX = f"{CONFIG_NAMESPACE}:"
EXAMPLE_STACKS = ("cn-prod", "eu-prod", "us-prod")


def catalog() -> Catalog:
    return default_catalog()


@cache
def _raw_example(stack: str) -> dict[str, Any]:
    with paths.stack_file(stack).open(encoding="utf-8") as handle:
        document = yaml.safe_load(handle)
    return {k[len(PREFIX) :]: v for k, v in document["config"].items() if k.startswith(PREFIX)}


def example_values(stack: str) -> dict[str, Any]:
    """A fresh deep copy of an example stack's ``sovereign-clusters:`` values, prefix stripped."""
    return copy.deepcopy(_raw_example(stack))


def source_file(stack: str) -> str:
    return f"stacks/Pulumi.{stack}.yaml"


def parse(values: dict[str, Any], stack: str = "cn-prod") -> StackConfig:
    return parse_stack_config(values, stack=stack, source_file=source_file(stack), catalog=catalog())


def errors_of(exc: InputError) -> tuple[InputError, ...]:
    return exc.errors if isinstance(exc, InputErrors) else (exc,)


def the_error(exc: InputError, key_path: str) -> InputError:
    """The one reported error at ``key_path`` (users read it as ``sovereign-clusters:cluster.zones[1]``)."""
    matches = [e for e in errors_of(exc) if format_key_path(e.key_path) == key_path]
    assert matches, f"no error at {key_path}; got:\n{exc.message}"
    assert len(matches) == 1, f"several errors at {key_path}:\n{exc.message}"
    return matches[0]


def assert_error(exc: InputError, file: str, key_path: str, expected: str, found: str | None = None) -> InputError:
    """One error names the file, the key path, contains the expectation (and what was found)."""
    error = the_error(exc, key_path)
    assert error.file == file
    assert error.message.startswith(f"{file}: {key_path}: expected "), error.message
    assert expected in error.expected, f"{expected!r} not in {error.expected!r}"
    if found is not None:
        assert found in error.found, f"{found!r} not in {error.found!r}"
    assert error.message in exc.message
    return error
