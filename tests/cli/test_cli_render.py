"""``sovereign render``: golden output, determinism, engine URNs, secrets, validation, exit codes."""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from cli_support import AT, FIXTURE_STACK, GOLDEN, REPO, run_cli

from sovereign.core.pulumi_config_env import MAX_ENV_STRING_BYTES, env_string_bytes, over_limit_message
from sovereign.stackconfig.loader import list_stacks
from sovereign.stackconfig.stack_file import read_stack_config

GOLDEN_RENDER = GOLDEN / "render" / FIXTURE_STACK
UPDATE = os.environ.get("SOVEREIGN_UPDATE_GOLDEN") == "1"


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_render_matches_golden_files(rendered: Path) -> None:
    produced = tree(rendered / FIXTURE_STACK)
    if UPDATE:
        shutil.rmtree(GOLDEN_RENDER, ignore_errors=True)
        shutil.copytree(rendered / FIXTURE_STACK, GOLDEN_RENDER)
    expected = tree(GOLDEN_RENDER)
    assert sorted(produced) == sorted(expected)
    for name, content in expected.items():
        assert produced[name] == content, f"{name} differs from tests/golden (SOVEREIGN_UPDATE_GOLDEN=1 to update)"


def test_render_is_byte_identical_across_runs_and_hash_seeds(session_project: Path, tmp_path: Path,
                                                              rendered: Path) -> None:
    out = tmp_path / "again"
    result = run_cli("render", FIXTURE_STACK, "--out", out, "--at", AT, root=session_project,
                     env={"PYTHONHASHSEED": "12345"})
    assert result.returncode == 0, result.stderr
    assert tree(out / FIXTURE_STACK) == tree(rendered / FIXTURE_STACK)
    # The program's warnings are printed with the summary; info and debug messages only land in preview.json.
    assert "fixture-cn: 12 resources, 9 manifests, 0 schema errors, 1 program warning(s)" in result.stdout
    assert result.stderr.splitlines() == [
        "fixture-cn: program warning: tenant model-registry: fixture warning about this tenant"]


def test_program_log_messages_and_exports_are_in_the_preview(rendered: Path) -> None:
    """What `pulumi preview --json` carries besides steps: the program's diagnostics and the Stack's outputs."""
    doc = json.loads((rendered / FIXTURE_STACK / "preview.json").read_text())
    prefix = f"urn:pulumi:{FIXTURE_STACK}::sovereign-clusters::"
    program = [d for d in doc["diagnostics"] if d["prefix"] == "program"]
    assert program == [
        {"urn": "", "prefix": "program", "severity": "info", "message": "fixture: program ran"},
        {"urn": prefix + "fixture:index:Tenant::model-registry", "prefix": "program", "severity": "warning",
         "message": "tenant model-registry: fixture warning about this tenant"},
    ]
    assert not any("debug" in d["message"] for d in doc["diagnostics"])
    stack = doc["steps"][0]["newState"]
    assert stack["type"] == "pulumi:pulumi:Stack"
    assert stack["outputs"] == {"namespace": "model-registry", "exportedToken": "[secret]"}
    assert all("outputs" not in s["newState"] for s in doc["steps"][1:])


def test_preview_has_engine_form_urns_providers_and_dependencies(rendered: Path) -> None:
    doc = json.loads((rendered / FIXTURE_STACK / "preview.json").read_text())
    steps = {s["urn"]: s for s in doc["steps"]}
    prefix = f"urn:pulumi:{FIXTURE_STACK}::sovereign-clusters::"
    stack_urn = prefix + "pulumi:pulumi:Stack::sovereign-clusters-fixture-cn"
    assert doc["steps"][0]["urn"] == stack_urn
    # A child of a component: the type chain names the component but not the root Stack (engine form).
    deployment = prefix + "fixture:index:Tenant$kubernetes:apps/v1:Deployment::registry"
    assert deployment in steps
    assert not any("pulumi:pulumi:Stack$" in urn for urn in steps)
    state = steps[deployment]["newState"]
    assert state["parent"] == prefix + "fixture:index:Tenant::model-registry"
    provider_urn, _, provider_id = state["provider"].rpartition("::")
    assert provider_urn == prefix + "pulumi:providers:kubernetes::k8s"
    assert len(provider_id) == 36 and provider_id.count("-") == 4
    # The SDK fills the kubeconfig from $KUBECONFIG; the render runs as a render must (KUBECONFIG=/dev/null).
    assert steps[provider_urn]["newState"]["inputs"] == {"renderYamlToDirectory": "rendered", "kubeconfig": os.devnull}
    # The namespace dependency recorded from the Output passed in metadata.namespace.
    namespace = prefix + "fixture:index:Tenant$kubernetes:core/v1:Namespace::model-registry"
    assert namespace in state["dependencies"]
    assert state["propertyDependencies"]["metadata"] == [namespace]
    # Steps come parent/provider/dependency first.
    order = [s["urn"] for s in doc["steps"]]
    assert order.index(namespace) < order.index(deployment)
    assert order.index(provider_urn) < order.index(deployment)
    assert doc["changeSummary"] == {"create": len(doc["steps"])}


def test_default_provider_is_synthesised_for_resources_without_one(rendered: Path) -> None:
    doc = json.loads((rendered / FIXTURE_STACK / "preview.json").read_text())
    urns = [s["urn"] for s in doc["steps"]]
    # Every Kubernetes object of the fixture uses the explicit provider, so no default provider is invented.
    assert not any("default_" in u for u in urns)


def test_autonaming_is_emulated_deterministically(rendered: Path) -> None:
    files = sorted((rendered / FIXTURE_STACK / "manifests" / "1-manifest").glob("*default-deny*"))
    assert len(files) == 1
    obj = yaml.safe_load(files[0].read_text())
    name = obj["metadata"]["name"]
    assert name.startswith("default-deny-") and len(name) == len("default-deny-") + 8
    assert obj["metadata"]["annotations"]["pulumi.com/autonamed"] == "true"
    assert files[0].name == f"networking.k8s.io_v1-networkpolicy-model-registry-{name}.yaml"


def test_manifest_file_names_follow_render_yaml_to_directory(rendered: Path) -> None:
    names = {p.name for p in (rendered / FIXTURE_STACK / "manifests" / "1-manifest").iterdir()}
    assert "v1-namespace-default-model-registry.yaml" in names  # cluster-scoped: "default"
    assert "apps_v1-deployment-model-registry-registry.yaml" in names
    assert "velero.io_v1-backupstoragelocation-velero-primary.yaml" in names
    assert "storage.k8s.io_v1-storageclass-default-regulated-ssd.yaml" in names


def test_secrets_never_reach_disk(rendered: Path) -> None:
    doc = json.loads((rendered / FIXTURE_STACK / "preview.json").read_text())
    assert doc["config"]["sovereign-clusters:kubeconfig"] == "[secret]"
    secret = yaml.safe_load(
        (rendered / FIXTURE_STACK / "manifests" / "1-manifest" / "v1-secret-model-registry-registry-token.yaml")
        .read_text())
    assert secret["stringData"] == {"token": "[secret]"}
    # Plain values in a Secret's data/stringData are secret too (the provider's Check() marks them).
    pull = yaml.safe_load(
        (rendered / FIXTURE_STACK / "manifests" / "1-manifest" / "v1-secret-model-registry-registry-pull.yaml")
        .read_text())
    assert (pull["data"], pull["stringData"]) == ({"key": "[secret]"}, {"user": "[secret]"})
    pull_step = next(s for s in doc["steps"] if s["urn"].endswith("Secret::registry-pull"))
    assert pull_step["newState"]["inputs"]["data"] == pull_step["newState"]["inputs"]["stringData"] == "[secret]"
    for content in tree(rendered / FIXTURE_STACK).values():
        for needle in (b"not-a-real-token", b"ZmFrZS1jaXBoZXJ0ZXh0", b"fixture-plain-data-value",
                       base64.b64encode(b"fixture-plain-data-value"), b"fixture-plain-user-value",
                       b"fixture-exported-secret-value"):
            assert needle not in content


def test_invalid_manifest_fails_render_with_exit_1(project: Path, tmp_path: Path) -> None:
    program = project / "infra" / "__main__.py"
    program.write_text(program.read_text().replace('"replicas": workload["replicas"]', '"replicas": "three"'))
    out = tmp_path / "out"
    result = run_cli("render", FIXTURE_STACK, "--out", out, root=project)
    assert result.returncode == 1, result.stderr
    doc = json.loads((out / FIXTURE_STACK / "preview.json").read_text())
    problems = [d for d in doc["diagnostics"] if d["prefix"] == "schema"]
    assert len(problems) == 1
    assert "spec.replicas" in problems[0]["message"] and "'three' is not of type 'integer'" in problems[0]["message"]
    assert problems[0]["urn"].endswith("kubernetes:apps/v1:Deployment::registry")


def test_bad_stack_file_exits_2_names_file_and_key_and_writes_nothing(project: Path, tmp_path: Path) -> None:
    stack_file = project / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml"
    stack_file.write_text(stack_file.read_text().replace("kubernetesVersion: \"1.34\"", "kubernetesVersion: 1.34"))
    out = tmp_path / "out"
    result = run_cli("render", FIXTURE_STACK, "--out", out, root=project)
    assert result.returncode == 2
    assert str(stack_file) in result.stderr
    assert "kubernetesVersion" in result.stderr
    assert not out.exists()
    assert result.stdout == ""


def test_config_over_the_env_string_limit_exits_2_before_running_the_program(project: Path, tmp_path: Path) -> None:
    """`pulumi up` could not start a program whose PULUMI_CONFIG exceeds MAX_ARG_STRLEN; render refuses it too."""
    (project / "infra" / "__main__.py").write_text("raise RuntimeError('the program must not run')\n")
    stack_file = project / "stacks" / f"Pulumi.{FIXTURE_STACK}.yaml"
    padding = "x" * MAX_ENV_STRING_BYTES  # another namespace's key: valid for the loader, still part of the env
    stack_file.write_text(stack_file.read_text() + f"  fixture:padding: {padding}\n")
    out = tmp_path / "out"
    result = run_cli("render", FIXTURE_STACK, "--out", out, root=project)
    assert result.returncode == 2, result.stderr
    size = env_string_bytes(read_stack_config(stack_file).values)
    assert over_limit_message(FIXTURE_STACK, size) in result.stderr
    assert f"{stack_file}: config: expected a config that fits in one environment string" in result.stderr
    assert "must not run" not in result.stderr
    assert not out.exists()
    assert result.stdout == ""


def test_bad_stack_in_all_leaves_previous_render_untouched(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_cli("render", "--all", "--out", out, root=project).returncode == 0
    before = tree(out)
    broken = project / "stacks" / "Pulumi.broken.yaml"
    broken.write_text("config:\n  sovereign-clusters:jurisdiction: cn\n  sovereign-clusters:jurisdiction: eu\n")
    result = run_cli("render", "--all", "--out", out, root=project)
    assert result.returncode == 2
    assert "duplicate key" in result.stderr and str(broken) in result.stderr
    assert tree(out) == before


def test_program_failure_exits_2_with_the_traceback(project: Path, tmp_path: Path) -> None:
    (project / "infra" / "__main__.py").write_text("raise RuntimeError('boom in the program')\n")
    result = run_cli("render", FIXTURE_STACK, "--out", tmp_path / "out", root=project)
    assert result.returncode == 2
    assert "boom in the program" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["render", "check", "diff"])
def test_every_subcommand_has_help(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert f"usage: sovereign {command}" in result.stdout


def test_bad_at_is_bad_input(project: Path, tmp_path: Path) -> None:
    result = run_cli("render", FIXTURE_STACK, "--out", tmp_path / "out", "--at", "yesterday", root=project)
    assert result.returncode == 2
    assert "--at" in result.stderr and "yesterday" in result.stderr


def test_progress_goes_to_stderr_only(session_project: Path, tmp_path: Path) -> None:
    result = run_cli("render", FIXTURE_STACK, "--out", tmp_path / "out", "--progress", root=session_project)
    assert result.returncode == 0
    assert "render [1/1] fixture-cn" in result.stderr
    assert "render [" not in result.stdout


def test_the_example_estate_renders_with_valid_manifests(tmp_path: Path) -> None:
    """Integration with the project's program and stacks: every example stack renders, every manifest valid."""
    out = tmp_path / "out"
    result = run_cli("render", "--all", "--out", out, root=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    for stack in list_stacks():
        doc = json.loads((out / stack / "preview.json").read_text())
        assert [d for d in doc.get("diagnostics", []) if d["severity"] == "error"] == []
        assert doc["steps"][0]["newState"]["type"] == "pulumi:pulumi:Stack"
        assert any((out / stack / "manifests" / "1-manifest").iterdir())
