"""Closed-world red team: leak vectors for the registry of kinds, the ecosystem's data paths and the new rules.

Each vector is ``closed_world/<id>/`` (the format of ``vectors/``, see ``redteam_support``; optional
``policy_config`` and ``provider``): every leak must be rejected (exit 1) by each named rule with a mandatory
violation whose message contains the ``expect`` fragment; every twin must pass (exit 0, no mandatory violation from
any rule). Every case runs once per session (``redteam_support.run_all``); the tests below only judge the outcomes.

Areas (the ``class`` prefix of each vector): a) pod specs wherever they are, b) the ecosystem's data paths,
c) storage and secret paths, d) accelerators of every vendor, e) the closed world itself, f) system namespaces,
g) region ids that are ambiguous across providers. ``docs/red-team.md`` lists the vectors.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from redteam_support import CLOSED_WORLD_DIR, SIDES, Outcome, Vector, load_vectors, run_all

VECTORS = load_vectors(CLOSED_WORLD_DIR)
BY_ID = {v.id: v for v in VECTORS}

AREAS: Mapping[str, tuple[tuple[str, ...], int]] = {
    "a": (("pod specs:",), 5),
    "b": (("ecosystem data paths:",), 5),
    "c": (("storage paths:", "secret paths:"), 5),
    "d": (("accelerators:",), 5),
    "e": (("closed world:",), 5),
    "f": (("system namespaces:",), 3),
    "g": (("regions:",), 3),
}
"""Area -> (``class`` prefixes, minimum number of vectors)."""

KNOWN_BUGS: Mapping[tuple[str, str], str] = {
    # (vector id, side) -> reason; bugs found by this suite and left to the rules' owners (strict xfail: the test
    # fails as soon as the bug is fixed, so the entry is removed with the fix).
}


def _params() -> list[object]:
    out: list[object] = []
    for v in VECTORS:
        for side in SIDES:
            reason = KNOWN_BUGS.get((v.id, side))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            out.append(pytest.param(v, side, id=f"{v.id}-{side}", marks=marks))
    return out


@pytest.fixture(scope="session")
def closed_world_outcomes() -> dict[tuple[str, str], Outcome]:
    return run_all(VECTORS)


def _objects(value: Any) -> Iterator[dict[str, Any]]:
    """The objects kubectl would apply: a List's items (any object with ``items``), to any depth."""
    if isinstance(value, dict) and "items" in value:
        for item in value["items"] or []:
            yield from _objects(item)
    elif isinstance(value, dict):
        yield value


def _documents(side: Path) -> list[dict[str, Any]]:
    return [obj for f in sorted(side.glob("*.yaml"))
            for doc in yaml.safe_load_all(f.read_text(encoding="utf-8")) if doc for obj in _objects(doc)]


def test_at_least_forty_distinct_vectors() -> None:
    assert len(VECTORS) >= 40
    assert len({v.id for v in VECTORS}) == len(VECTORS)
    for v in VECTORS:
        for side in SIDES:
            assert sorted(v.side(side).glob("*.yaml")), f"{v.id}/{side} has no manifests"


def test_every_area_is_covered() -> None:
    for area, (prefixes, minimum) in AREAS.items():
        count = sum(1 for v in VECTORS if v.cls.startswith(prefixes))
        assert count >= minimum, f"area {area} ({', '.join(prefixes)}): {count} vectors, at least {minimum} wanted"
    unclassified = [v.id for v in VECTORS if not any(v.cls.startswith(p) for p, _ in AREAS.values())]
    assert not unclassified, f"vectors of no area: {unclassified}"


def test_known_bugs_name_existing_cases() -> None:
    for vector_id, side in KNOWN_BUGS:
        assert vector_id in BY_ID and side in SIDES, (vector_id, side)


def test_cases_are_self_contained() -> None:
    """Every side declares the namespaces its namespaced objects live in, each labelled with the jurisdiction
    (except the leak of the unlabelled-namespace vector) and isolated by a default-deny egress NetworkPolicy."""
    from sovereign.core.labels import JURISDICTION

    for v in VECTORS:
        for side in SIDES:
            docs = _documents(v.side(side))
            namespaces = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Namespace"}
            used = {str(n) for d in docs if (n := (d.get("metadata") or {}).get("namespace")) is not None}
            assert used <= set(namespaces), f"{v.id}/{side}: namespaces {sorted(used - set(namespaces))} missing"
            for name, ns in namespaces.items():
                label = (ns["metadata"].get("labels") or {}).get(JURISDICTION)
                if not (v.rules == ("namespace-jurisdiction-label",) and side == "leak"):
                    assert label == v.jurisdiction, (v.id, side, name)
                denies = [d for d in docs if d.get("kind") == "NetworkPolicy"
                          and d["metadata"].get("namespace") == name and d["spec"].get("podSelector") == {}
                          and "Egress" in (d["spec"].get("policyTypes") or []) and not d["spec"].get("egress")]
                assert denies, f"{v.id}/{side}: namespace {name} has no default-deny egress NetworkPolicy"


def test_policy_configs_name_rules_of_the_pack() -> None:
    from policies.pack import load_rules

    rule_ids = {r.id for r in load_rules()}
    for v in VECTORS:
        for side in SIDES:
            config = v.policy_config(side) or {}
            assert set(config) <= rule_ids, (v.id, side, sorted(set(config) - rule_ids))


@pytest.mark.parametrize(("vector", "side"), _params())
def test_vector(vector: Vector, side: str, closed_world_outcomes: dict[tuple[str, str], Outcome]) -> None:
    outcome = closed_world_outcomes[(vector.id, side)]
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
