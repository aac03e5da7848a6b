"""Smoke tests of the benchmark's fleet generator: its stacks load, its manifests validate. No timing here."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

from sovereign.catalog import default_catalog
from sovereign.core.pulumi_config_env import MAX_ENV_STRING_BYTES, env_string_bytes
from sovereign.render.runner import render_stacks
from sovereign.render.schemas import validate_object
from sovereign.stackconfig.loader import load_stack_file

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


BENCH_SHAPE = fleet.FleetShape(stacks=1, namespaces=10, workloads=20)
"""The benchmark's stack size (bench/run_all.py FLEET_SHAPE): 200 workloads, inline ~158 KB as PULUMI_CONFIG."""


def test_a_200_workload_stack_fits_in_pulumi_config_loads_and_renders(tmp_path: Path) -> None:
    gen = fleet.generate(tmp_path / "fleet", BENCH_SHAPE, at=AT, with_manifests=False)
    (name,) = gen.stacks
    path = gen.root / "stacks" / f"Pulumi.{name}.yaml"
    size = env_string_bytes(yaml.safe_load(path.read_text(encoding="utf-8"))["config"])
    assert size == gen.config_bytes[0]
    assert size <= 0.9 * MAX_ENV_STRING_BYTES, f"{size} bytes leaves too little room under the limit"

    config = load_stack_file(path, catalog=default_catalog())
    assert len(config.workloads) == BENCH_SHAPE.workloads_per_stack
    for w in config.workloads:  # names and defaults were written out: the model is the inline one
        assert w.resources.cpu_limit == fleet.WORKLOAD_RESOURCES["limits"]["cpu"]
        assert [n.name for n in w.egress][1] == fleet.OBJECTS_API
        assert w.egress[0].cidrs and w.egress[1].domains

    (rendered,) = render_stacks([name], tmp_path / "out", root=gen.root, at="2026-11-25T12:00:00Z", jobs=1)
    assert rendered.schema_errors == 0
    assert rendered.manifests > BENCH_SHAPE.workloads_per_stack
