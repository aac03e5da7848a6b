"""Mocks run no provider Check() and no API server, so validate every captured object: built-in kinds against
the OpenAPI schemas of the stack's Kubernetes version, custom resources against the vendored CRD schemas."""

from __future__ import annotations

from typing import Any

import pytest
from program_overrides import with_transfer

from sovereign.render.schemas import validate_object
from sovereign.stackconfig.loader import list_stacks, load_stack

VARIANTS: list[tuple[str, dict[str, Any] | None]] = [(s, None) for s in list_stacks()] + [
    ("us-prod", with_transfer("us-prod", "labelling/label-studio", "eu", "10.20.7.0/24", "labelled-frames")),
    ("eu-prod", with_transfer("eu-prod", "labelling/label-studio", "us", "10.30.7.0/24", "labelled-frames")),
]


@pytest.mark.parametrize(("stack", "overrides"), VARIANTS, ids=[f"{s}-{i}" for i, (s, _) in enumerate(VARIANTS)])
def test_every_object_is_schema_valid(capture: Any, stack: str, overrides: dict[str, Any] | None) -> None:
    built = capture(stack, overrides=overrides)
    assert built.error is None and built.k8s
    version = load_stack(stack).cluster.kubernetes_version
    problems = {
        reg["name"]: [f"{p.path}: {p.message}" for p in validate_object(reg["inputs"], version)] for reg in built.k8s
    }
    assert {name: found for name, found in problems.items() if found} == {}
