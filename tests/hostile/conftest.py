"""Hypothesis profiles for the hostile-input suite.

The tests here take their example counts from ``hostile_support.examples()`` (per-test ``@settings``), so loading
a profile globally is not needed and other suites' settings are left alone. ``long`` is registered for the
documented command ``HYPOTHESIS_PROFILE=long pytest tests/hostile`` (>= 10,000 generated inputs in total;
see docs/red-team.md); if another conftest registered ``long`` first, its definition is kept.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hostile_support import LONG_EXAMPLES
from hypothesis import HealthCheck, settings
from hypothesis.errors import InvalidArgument

try:
    settings.get_profile("long")
except InvalidArgument:
    settings.register_profile(
        "long", max_examples=LONG_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck)
    )


@pytest.fixture(autouse=True)
def _fresh_alias_budget() -> Iterator[None]:
    """Every test starts with a fresh budget of YAML alias expansion (sovereign/core/yamlio.py counts it per process,
    and this session is one process running many tests)."""
    from sovereign.core import yamlio

    yamlio.reset_alias_budget()
    yield


def pytest_terminal_summary(terminalreporter: object) -> None:
    from hostile_support import GENERATED, LONG

    if GENERATED["inputs"]:
        profile = "long" if LONG else "default"
        terminalreporter.write_line(  # type: ignore[attr-defined]
            f"hostile inputs generated: {GENERATED['inputs']} (profile {profile})")
