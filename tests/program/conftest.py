"""Session fixture: each distinct (stack, evaluation time, config overrides) is captured once per session."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from program_support import DEFAULT_AT, Capture, run_capture


@pytest.fixture(scope="session")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Capture]]:
    cache: dict[str, Capture] = {}
    # Import once here so every forked build reuses the modules (the runtime itself stays unconfigured).
    import program_capture  # noqa: F401
    import pulumi_kubernetes  # noqa: F401

    import infra.cluster  # noqa: F401
    from sovereign.catalog import default_catalog

    default_catalog()

    def get(stack: str, *, at: str = DEFAULT_AT, overrides: dict[str, Any] | None = None) -> Capture:
        key = json.dumps([stack, at, overrides], sort_keys=True)
        if key not in cache:
            cache[key] = run_capture(tmp_path_factory.mktemp("capture"), stack, at, overrides)
        return cache[key]

    yield get
