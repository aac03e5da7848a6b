"""Smoke tests of the benchmark's fleet generator: its stacks load, its manifests validate. No timing here."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from sovereign.catalog import default_catalog
from sovereign.render.schemas import validate_object
from sovereign.stackconfig import load_stack_file

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import fleet  # noqa: E402

SHAPE = fleet.FleetShape(stacks=4, namespaces=3, workloads=10)
AT = fleet.evaluation_time("2026-11-25T12:00:00Z")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> fleet.GeneratedFleet:
    return fleet.generate(tmp_path_factory.mktemp("fleet"), SHAPE, at=AT)


def test_every_stack_loads_and_covers_every_catalog_jurisdiction(generated: fleet.GeneratedFleet) -> None:
    catalog = default_catalog()
    seen = set()
    for name in generated.stacks:
        config = load_stack_file(generated.root / "stacks" / f"Pulumi.{name}.yaml", catalog=catalog)
        seen.add(config.jurisdiction)
        assert len(config.tenants) == SHAPE.namespaces
        assert len(config.workloads) == SHAPE.workloads_per_stack
        assert config.storage and config.backups
        assert any(w.accelerator for w in config.workloads)
        assert any(need.workload for w in config.workloads for need in w.egress)
    assert seen == set(catalog.jurisdictions)


def test_transfers_only_where_the_catalog_lets_data_leave(generated: fleet.GeneratedFleet) -> None:
    catalog = default_catalog()
    transfers = 0
    for name in generated.stacks:
        config = load_stack_file(generated.root / "stacks" / f"Pulumi.{name}.yaml", catalog=catalog)
        jur = catalog.jurisdictions[config.jurisdiction]
        for t in config.transfers:
            transfers += 1
            for dc in t.data_classes:
                assert jur.data_classes[dc].may_leave_to(t.destination.jurisdiction, approved=True)
            assert t.valid_from <= AT < t.valid_until
    assert transfers > 0


def test_project_root_points_at_the_real_program(generated: fleet.GeneratedFleet) -> None:
    assert (generated.root / "Pulumi.yaml").is_file()
    assert (generated.root / "infra" / "__main__.py").is_file()
    assert (generated.root / "policies" / "catalog").is_dir()
    assert (generated.root / "stacks" / "stack.schema.json").is_file()


def test_plain_manifests_are_schema_valid_and_complete(generated: fleet.GeneratedFleet) -> None:
    files = sorted(generated.manifests.rglob("*.yaml"))
    assert len(files) == generated.objects
    kinds: Counter[str] = Counter()
    for path in files:
        obj = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert validate_object(obj, fleet.KUBERNETES_VERSION) == [], path.name
        kinds[obj["kind"]] += 1
    assert kinds["Namespace"] == SHAPE.stacks * SHAPE.namespaces
    assert kinds["NetworkPolicy"] >= 2 * kinds["Namespace"]  # default deny + DNS per namespace, plus allows
    for kind in (
        "Deployment",
        "StatefulSet",
        "Job",
        "CronJob",
        "Service",
        "StorageClass",
        "PersistentVolumeClaim",
        "BackupStorageLocation",
    ):
        assert kinds[kind] > 0, kind


def test_generation_is_deterministic(tmp_path: Path, generated: fleet.GeneratedFleet) -> None:
    again = fleet.generate(tmp_path, SHAPE, at=AT, with_manifests=False)
    for name in generated.stacks:
        first = (generated.root / "stacks" / f"Pulumi.{name}.yaml").read_bytes()
        assert (again.root / "stacks" / f"Pulumi.{name}.yaml").read_bytes() == first


def test_shape_for_objects_lands_near_the_target() -> None:
    shape = fleet.shape_for_objects(250)
    count = len(fleet.plain_manifests(*fleet.stack_config(0, shape, default_catalog(), at=AT), default_catalog()))
    assert abs(count - 250) <= 25
