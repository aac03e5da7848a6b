"""The rules give the same findings whichever way they are reached.

``sovereign check`` runs the pack's rules directly (``--pack-transport in-process``, policies/framework/runner.py);
``pulumi preview --policy-pack`` runs them as CrossGuard policies in a pack process over gRPC
(policies/framework/guard.py), which ``--pack-transport grpc`` reproduces. Both get the same inputs here (every rule
sample, every red-team vector side of both suites, the example stacks' renders) and must return identical
diagnostics, field by field, in the same order, and identical reports.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR, PackPool, vector_targets

from policies.framework.samples import SAMPLE_STACK_NAME, Sample, all_samples, pulumi_config_shape, rule_of
from policies.pack import open_direct
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import resource_from_manifest
from sovereign.analyzer.session import AnalyzerError
from sovereign.check.policy_run import PackRun, prepared_pack, run_pack, target_from_render
from sovereign.core.clock import parse_instant
from sovereign.render.rendered import load_render

SAMPLES = all_samples()
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_STACKS = ("cn-prod", "eu-prod", "us-prod")


def _analysis(pack: object, sample: Sample) -> list[Diagnostic]:
    pack.configure_stack(stack=SAMPLE_STACK_NAME, project="sovereign-clusters")  # type: ignore[attr-defined]
    pack.get_analyzer_info()  # type: ignore[attr-defined]
    config = {rule_of(sample.rule_pkg).id: dict(sample.policy_config)} if sample.policy_config else {}
    pack.configure(config)  # type: ignore[attr-defined]
    resources = [resource_from_manifest(m, stack=SAMPLE_STACK_NAME) for m in sample.manifests]
    diagnostics = [d for r in resources for d in pack.analyze(r)]  # type: ignore[attr-defined]
    return diagnostics + pack.analyze_stack(resources)  # type: ignore[attr-defined]


def _same(direct: PackRun, grpc: PackRun) -> None:
    assert (direct.transport, grpc.transport) == ("in-process", "grpc")
    only_direct = set(direct.result.violations) - set(grpc.result.violations)
    only_grpc = set(grpc.result.violations) - set(direct.result.violations)
    assert (only_direct, only_grpc) == (set(), set())
    assert direct.result == grpc.result
    assert direct.policies == grpc.policies
    assert (direct.pack_name, direct.pack_version) == (grpc.pack_name, grpc.pack_version)


def test_the_pack_describes_itself_alike(packs: PackPool) -> None:
    remote = packs.get({"sovereign-clusters:jurisdiction": "cn"}).get_analyzer_info()
    local = open_direct(stack=SAMPLE_STACK_NAME, config={"sovereign-clusters:jurisdiction": "cn"}).get_analyzer_info()
    assert local == remote


@pytest.mark.parametrize("sample", SAMPLES, ids=[s.id for s in SAMPLES])
def test_every_rule_sample_gets_the_same_diagnostics(sample: Sample, packs: PackPool) -> None:
    expected = _analysis(packs.get(sample.stack_config), sample)
    local = open_direct(stack=SAMPLE_STACK_NAME, config=pulumi_config_shape(sample.stack_config),
                        now=parse_instant(EVALUATION_AT))
    got = _analysis(local, sample)
    assert got == expected
    if sample.verdict == "disallowed":
        assert got, f"{sample.id}: the comparison must cover a real finding"


@pytest.mark.parametrize("suite", ["vectors", "closed_world"])
def test_every_red_team_vector_gets_the_same_report(suite: str) -> None:
    targets = vector_targets(ROOT / "tests" / "redteam" / suite)
    assert len(targets) >= 40
    findings = 0
    for label, target in targets:
        grpc = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="grpc")
        direct = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="in-process")
        _same(direct, grpc)
        findings += len(direct.result.violations)
        assert label
    assert findings > 0


@pytest.fixture(scope="module")
def example_renders(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("examples")
    run = subprocess.run([sys.executable, "-m", "sovereign", "render", *EXAMPLE_STACKS, "--out", str(out),
                          "--at", EVALUATION_AT], capture_output=True, text=True, check=False, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return out


@pytest.mark.parametrize("stack", EXAMPLE_STACKS)
def test_the_example_stacks_get_the_same_report(stack: str, example_renders: Path) -> None:
    target = target_from_render(load_render(example_renders / stack), ROOT)
    grpc = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="grpc")
    direct = run_pack(target, PACK_DIR, at=EVALUATION_AT, catalog=None, transport="in-process")
    _same(direct, grpc)
    assert direct.result.inventory is not None and direct.result.inventory.objects > 20


def test_a_config_the_cli_could_not_pass_is_refused_directly_too() -> None:
    huge = {"sovereign-clusters:jurisdiction": "cn", "sovereign-clusters:workloads": '["' + "x" * 140_000 + '"]'}
    for transport in ("in-process", "grpc"):
        with pytest.raises(AnalyzerError, match="over the 131072-byte limit"), \
                prepared_pack(transport, PACK_DIR, config=huge, stack="big", project="p", catalog=None, at=None):
            pass


def test_a_pack_without_a_direct_entry_point_runs_over_grpc(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "__main__.py").write_text(
        "from pulumi_policy import PolicyPack, ResourceValidationPolicy\n"
        "PolicyPack('tiny', [ResourceValidationPolicy(name='never', description='d', validate=lambda a, r: None)])\n")
    (pack / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {sys.prefix}\n")
    with prepared_pack("in-process", pack, config={}, stack="s", project="p", catalog=None, at=None) as prepared:
        assert prepared.transport == "grpc" and prepared.info.name == "tiny"
