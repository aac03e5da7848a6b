"""The manifest helper (sovereign/render/manifest_helper.py) changes where manifests are validated and written,
never what is written: renders with and without it are byte-identical, schema problems are the same, a name
clash is the same error, and a helper that fails fails the render."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import AT, FIXTURE_STACK, REPO

from sovereign.render.manifest_helper import ManifestHelper, ManifestHelperFailed
from sovereign.render.manifests import ManifestNameError, collect, dump_yaml
from sovereign.render.registration import Registration
from sovereign.render.runner import helpers_fit


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run_worker(root: Path, stack: str, out: Path, *, helper: bool) -> dict[str, Any]:
    env = dict(os.environ, SOVEREIGN_ROOT=str(root), SOVEREIGN_AT=AT)
    result_file = out.parent / f".{out.name}.result.json"
    argv = [sys.executable, "-m", "sovereign.render.worker", "--stack", stack, "--out", str(out),
            "--result", str(result_file)] + (["--manifest-helper"] if helper else [])
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600, check=False)
    result: dict[str, Any] = json.loads(result_file.read_text(encoding="utf-8"))
    result["exit"] = done.returncode
    result.pop("seconds", None)
    return result


@pytest.mark.parametrize("stack", ["cn-prod", "eu-prod", "us-prod"])
def test_example_renders_are_byte_identical_with_and_without_the_helper(stack: str, tmp_path: Path) -> None:
    alone = run_worker(REPO, stack, tmp_path / "alone", helper=False)
    helped = run_worker(REPO, stack, tmp_path / "helped", helper=True)
    assert alone == helped and alone["ok"] and alone["manifests"] > 20
    assert tree(tmp_path / "helped") == tree(tmp_path / "alone")


def test_schema_problems_are_reported_alike(project: Path, tmp_path: Path) -> None:
    program = project / "infra" / "__main__.py"
    program.write_text(program.read_text().replace('"replicas": workload["replicas"]', '"replicas": "three"'))
    alone = run_worker(project, FIXTURE_STACK, tmp_path / "alone", helper=False)
    helped = run_worker(project, FIXTURE_STACK, tmp_path / "helped", helper=True)
    assert alone == helped and alone["schemaErrors"] == 1
    assert tree(tmp_path / "helped") == tree(tmp_path / "alone")
    preview = json.loads((tmp_path / "helped" / "preview.json").read_text())
    (problem,) = [d for d in preview["diagnostics"] if d["prefix"] == "schema"]
    assert "spec.replicas" in problem["message"] and "'three' is not of type 'integer'" in problem["message"]


def _deployment(urn: str, name: str, op: str = "create") -> Registration:
    inputs = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "ns"},
              "spec": {"selector": {"matchLabels": {"a": "b"}},
                       "template": {"metadata": {"labels": {"a": "b"}},
                                    "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    return Registration(op=op, type="kubernetes:apps/v1:Deployment", name=name, urn=urn, id="", custom=True,
                        remote=False, parent="", provider="", dependencies=[], property_dependencies={},
                        inputs=inputs, version="", protect=False, arrival=0)


@pytest.fixture
def helper(tmp_path: Path) -> Iterator[ManifestHelper]:
    started = ManifestHelper(tmp_path / "stack", "1.34")
    try:
        yield started
    finally:
        started.close()


def test_a_name_clash_is_the_error_collect_raises(helper: ManifestHelper) -> None:
    records = [_deployment("urn:a", "same"), _deployment("urn:b", "same")]
    with pytest.raises(ManifestNameError) as batch:
        collect(records)
    for record in records:
        helper.send(record)
    with pytest.raises(ManifestNameError) as helped:
        helper.finish()
    assert str(helped.value) == str(batch.value)


def test_the_helper_writes_what_it_was_sent_and_skips_what_is_no_manifest(
    helper: ManifestHelper, tmp_path: Path
) -> None:
    helper.send(_deployment("urn:a", "a"))
    helper.send(_deployment("urn:r", "r", op="read"))
    (checked,) = helper.finish()
    assert (checked.relative_path, checked.urn, checked.problems) == (
        "1-manifest/apps_v1-deployment-ns-a.yaml", "urn:a", ())
    expected = dump_yaml(_deployment("urn:a", "a").inputs).encode()
    assert tree(tmp_path / "stack") == {"manifests/1-manifest/apps_v1-deployment-ns-a.yaml": expected}


def test_an_unexpected_message_fails_the_render(helper: ManifestHelper) -> None:
    assert helper._proc.stdin is not None
    helper._proc.stdin.write(pickle.dumps({"not": "a registration"}))
    with pytest.raises(ManifestHelperFailed, match="expected a registration or the end, got dict"):
        helper.finish()


def test_a_helper_that_dies_fails_the_render(helper: ManifestHelper) -> None:
    helper.send(_deployment("urn:a", "a"))
    helper._proc.kill()
    helper._proc.wait()
    for i in range(200):  # past the pipe's buffer: sending notices, and stays quiet
        helper.send(_deployment(f"urn:{i}", f"d{i}"))
    with pytest.raises(ManifestHelperFailed, match="manifest helper failed"):
        helper.finish()


def test_a_helper_that_cannot_read_its_input_fails_the_render(helper: ManifestHelper) -> None:
    assert helper._proc.stdin is not None
    helper._proc.stdin.write(b"not a pickle" + pickle.dumps(None))
    with pytest.raises(ManifestHelperFailed, match="exit status 1"):
        helper.finish()


@pytest.mark.parametrize(
    ("jobs", "stacks", "cores", "fits"),
    [(1, 1, 2, True), (2, 1, 2, True), (2, 3, 2, False), (1, 5, 2, True), (2, 2, 2, False), (4, 3, 8, True),
     (1, 1, 1, False), (0, 1, 2, True)],
)
def test_helpers_only_where_workers_leave_a_core_idle(jobs: int, stacks: int, cores: int, fits: bool) -> None:
    assert helpers_fit(jobs, stacks, cores) is fits
