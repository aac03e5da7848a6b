"""Every report kind's formats, as the registry lists them for ``--format``, are exactly its module's renderers."""

from __future__ import annotations

import pytest

from sovereign.output.registry import REPORTS, formats, renderers


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_formats_are_the_renderers(report: str) -> None:
    assert tuple(renderers(report)) == formats(report)
