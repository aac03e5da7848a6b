"""Red-team leak vectors: each leak must be rejected by its rule, each near-miss twin must pass.

Every case is run once per session, in parallel (``redteam_support.run_all``); the tests below only judge the
outcomes, so a failure message shows the exact command and every violation the pack reported.
"""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from redteam_support import FROM_LABELS, SIDES, Outcome, Vector, load_vectors, run_all

VECTORS = load_vectors()
KNOWN_BUGS: Mapping[tuple[str, str], str] = {
    # (vector id, side) -> reason; filled only for bugs the owner cannot fix before the deadline (strict xfail).
}


@pytest.fixture(scope="session")
def outcomes() -> dict[tuple[str, str], Outcome]:
    return run_all(VECTORS)


def _params() -> list[object]:
    out: list[object] = []
    for v in VECTORS:
        for side in SIDES:
            marks = []
            reason = KNOWN_BUGS.get((v.id, side))
            if reason:
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            out.append(pytest.param(v, side, id=f"{v.id}-{side}", marks=marks))
    return out


def test_at_least_twenty_distinct_vectors() -> None:
    assert len(VECTORS) >= 20
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    for v in VECTORS:
        for side in SIDES:
            assert sorted(v.side(side).glob("*.yaml")), f"{v.id}/{side} has no manifests"


def test_cases_are_self_contained() -> None:
    """Every side declares the namespaces its namespaced objects live in, labelled with the jurisdiction."""
    import yaml

    from sovereign.core.labels import JURISDICTION

    for v in VECTORS:
        for side in SIDES:
            docs = [d for f in sorted(v.side(side).glob("*.yaml"))
                    for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d]
            namespaces = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Namespace"}
            used = {d["metadata"].get("namespace") for d in docs} - {None}
            assert used <= set(namespaces), f"{v.id}/{side}: namespaces {sorted(used - set(namespaces))} missing"
            if (v.id != "namespace-unlabelled" or side == "twin") and v.jurisdiction != FROM_LABELS:
                for name, ns in namespaces.items():
                    assert ns["metadata"].get("labels", {}).get(JURISDICTION) == v.jurisdiction, (v.id, side, name)
            for name, ns in namespaces.items():
                if v.id != "namespace-unlabelled" or side == "twin":
                    assert ns["metadata"].get("labels", {}).get(JURISDICTION), (v.id, side, name)


@pytest.mark.parametrize(("vector", "side"), _params())
def test_vector(vector: Vector, side: str, outcomes: dict[tuple[str, str], Outcome]) -> None:
    outcome = outcomes[(vector.id, side)]
    if side == "leak" and vector.leak_exit == 2:
        assert outcome.code == 2, f"{vector.id}: leak not refused as bad input\n{outcome.describe()}"
        assert vector.expect in outcome.stderr, outcome.describe()
        assert "Traceback" not in outcome.stderr, outcome.describe()
        # The report still says it, as its one finding (never an empty or stale report).
        assert outcome.report is not None and outcome.report["summary"]["result"] == "error", outcome.describe()
        assert [v["policy"] for v in outcome.violations()] == ["invalid-input"], outcome.describe()
        return
    assert outcome.report is not None, f"no JSON report\n{outcome.describe()}"
    if side == "leak":
        assert outcome.code == 1, f"{vector.id}: leak not rejected ({vector.cls})\n{outcome.describe()}"
        for rule in vector.rules:
            hits = [v for v in outcome.violations() if v.get("policy") == rule]
            assert hits, f"{vector.id}: rule {rule} did not reject the leak\n{outcome.describe()}"
            assert all(h.get("enforcement") == "mandatory" for h in hits), outcome.describe()
            assert any(vector.expect in str(h.get("message")) for h in hits), (
                f"{vector.id}: no {rule} message contains {vector.expect!r}\n{outcome.describe()}"
            )
    else:
        assert outcome.code == 0, f"{vector.id}: false positive on the compliant twin\n{outcome.describe()}"
        assert not [v for v in outcome.violations() if v.get("enforcement") == "mandatory"], outcome.describe()
