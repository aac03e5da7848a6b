"""Fixtures: policy pack processes started exactly as the CLI starts them, one per stack config."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from residency_testkit import EVALUATION_AT, PackPool

from sovereign.core.clock import AT_ENV


@pytest.fixture(scope="session")
def packs() -> Iterator[PackPool]:
    pool = PackPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(autouse=True)
def _fixed_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AT_ENV, EVALUATION_AT)
