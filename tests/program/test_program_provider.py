"""One explicit provider per stack; kubeconfig only as a secret; bad input is a clean RunError."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

from program_overrides import NS, with_kubeconfig
from program_support import DEFAULT_AT, HERE, SECRET_SIG, stack_config_values

from sovereign.stackconfig.loader import load_stack


def test_render_mode_without_kubeconfig(capture: Any) -> None:
    built = capture("cn-prod")
    (provider,) = built.providers
    config = load_stack("cn-prod")
    assert provider["name"] == "k8s-cn-prod"
    assert provider["inputs"] == {
        "renderYamlToDirectory": config.render_dir,
        # Every `pulumi up` rewrites every manifest, so the directory comes back after `make clean`.
        "alwaysRender": "true",
        # Replacement follows the target, not the kubeconfig's text.
        "clusterIdentifier": f"render:{config.render_dir}",
        # The SDK fills the kubeconfig from $KUBECONFIG; the harness runs as users must (NO_AMBIENT_CLUSTER).
        "kubeconfig": os.devnull,
    }
    assert built.outputs["kubernetesTarget"] == {"mode": "render", "renderYamlToDirectory": config.render_dir}


def test_kubeconfig_is_passed_as_secret(capture: Any) -> None:
    built = capture("cn-prod", overrides=with_kubeconfig(secret=True))
    assert built.error is None
    (provider,) = built.providers
    kubeconfig = provider["inputs"]["kubeconfig"]
    assert isinstance(kubeconfig, dict) and SECRET_SIG in kubeconfig, "kubeconfig must be a secret on the wire"
    assert "renderYamlToDirectory" not in provider["inputs"] and "alwaysRender" not in provider["inputs"]
    assert provider["inputs"]["clusterIdentifier"] == "cn/cn-prod", "a kubeconfig rotation must not replace"
    assert built.outputs["kubernetesTarget"]["mode"] == "cluster"
    assert all(r["provider"].startswith(provider["urn"]) for r in built.k8s)


def test_plaintext_kubeconfig_rejected_before_any_resource(capture: Any) -> None:
    built = capture("cn-prod", overrides=with_kubeconfig(secret=False))
    assert built.error is not None and "kubeconfig" in built.error
    assert "clusters: []" not in built.error, "the credential must not be echoed"
    assert not built.k8s and not built.providers


def test_bad_input_is_a_run_error_naming_file_and_key(capture: Any) -> None:
    cluster = copy.deepcopy(stack_config_values("cn-prod")[NS + "cluster"])
    cluster["regions"] = ["cn-north-1", "eu-central-1"]
    built = capture("cn-prod", overrides={NS + "cluster": cluster})
    assert built.error is not None
    assert "Pulumi.cn-prod.yaml" in built.error and "regions" in built.error
    assert not built.k8s and not built.providers


def test_bad_evaluation_time_is_a_run_error(capture: Any) -> None:
    built = capture("cn-prod", at="not-a-date")
    assert built.error is not None and "SOVEREIGN_AT" in built.error
    assert not built.k8s


def test_missing_install_says_run_make_venv(tmp_path: Path) -> None:
    """Like the language host with a venv that lacks the project: cwd infra/, root not on sys.path. ``-S``
    skips site (and with it the editable-install finder) while PYTHONPATH still provides the SDK."""
    site_packages = sysconfig.get_paths()["purelib"]
    out = tmp_path / "capture.json"
    env = {**os.environ, "PYTHONPATH": site_packages, "SOVEREIGN_AT": DEFAULT_AT}
    cmd = [sys.executable, "-S", str(HERE / "program_capture.py"), "cn-prod", str(out)]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    error = json.loads(out.read_text())["error"]
    assert error is not None and "make venv" in error and "pulumi install" in error


def test_render_dir_from_config(capture: Any) -> None:
    built = capture("us-prod", overrides={NS + "renderDir": "elsewhere/us"})
    (provider,) = built.providers
    assert provider["inputs"]["renderYamlToDirectory"] == "elsewhere/us"
    assert provider["inputs"]["clusterIdentifier"] == "render:elsewhere/us", "another directory replaces"


def test_mock_run_without_injected_config_reads_the_stack_file(capture: Any) -> None:
    """Only mock runs can lack config (the CLI always passes the stack file's); the program then loads the
    stack file itself and builds the same graph."""
    without = capture("cn-prod", overrides={key: None for key in stack_config_values("cn-prod")})
    with_config = capture("cn-prod")
    assert without.error is None
    assert sorted((r["type"], r["name"]) for r in without.registrations) == sorted(
        (r["type"], r["name"]) for r in with_config.registrations
    )


def _capture_with_env(tmp_path: Path, env_extra: dict[str, str]) -> dict[str, Any]:
    """program_capture.py as a script, keeping the given KUBECONFIG (the guard's input) instead of the harness's."""
    out = tmp_path / "capture.json"
    env = {**os.environ, "SOVEREIGN_AT": DEFAULT_AT, "CAPTURE_KEEP_AMBIENT_KUBECONFIG": "1", **env_extra}
    cmd = [sys.executable, str(HERE / "program_capture.py"), "cn-prod", str(out)]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(out.read_text()))


AMBIENT_KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: other, cluster: {server: "https://kube.other-jurisdiction.example:6443"}}]
contexts: [{name: other, context: {cluster: other, user: other}}]
current-context: other
users: [{name: other, user: {}}]
"""


def test_render_mode_refuses_an_ambient_cluster(tmp_path: Path) -> None:
    """With KUBECONFIG naming a cluster the provider would contact it even in render mode; the program stops
    before registering anything and says how to run."""
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(AMBIENT_KUBECONFIG)
    result = _capture_with_env(tmp_path, {"KUBECONFIG": str(kubeconfig)})
    assert result["error"] is not None and "render mode" in result["error"]
    assert f"KUBECONFIG={os.devnull}" in result["error"] and str(kubeconfig) in result["error"]
    assert not [r for r in result["registrations"] if r["type"].startswith(("kubernetes:", "pulumi:providers:"))]


def test_render_mode_runs_with_an_empty_kubeconfig(tmp_path: Path) -> None:
    result = _capture_with_env(tmp_path, {"KUBECONFIG": os.devnull})
    assert result["error"] is None


def test_ambient_cluster_sources(tmp_path: Path) -> None:
    """Where client-go (and so the provider) would find a cluster, as the guard models it."""
    from infra.provider import render_mode_refusal

    home = tmp_path / "home"
    token = tmp_path / "token"
    (home / ".kube").mkdir(parents=True)
    assert render_mode_refusal({}, home) is None, "nothing ambient: nothing to contact"
    (home / ".kube" / "config").write_text(AMBIENT_KUBECONFIG)
    refusal = render_mode_refusal({}, home)
    assert refusal is not None and ".kube/config" in refusal
    assert render_mode_refusal({"KUBECONFIG": os.devnull}, home) is None, "KUBECONFIG wins over ~/.kube/config"
    empty = tmp_path / "empty.yaml"
    empty.write_text("apiVersion: v1\nkind: Config\nclusters: []\n")
    assert render_mode_refusal({"KUBECONFIG": str(empty)}, home) is None
    both = f"{empty}{os.pathsep}{os.devnull}"
    assert render_mode_refusal({"KUBECONFIG": both}, home) is not None, "a list is read as one path or as text"
    unreadable = tmp_path / "garbled"
    unreadable.write_text("{not: [yaml")
    assert render_mode_refusal({"KUBECONFIG": str(unreadable)}, home) is not None, "unknown: fail closed"

    from sovereign.core.ambient_cluster import ambient_cluster

    (home / ".kube" / "config").unlink()
    pod_env = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    assert ambient_cluster(pod_env, home, token) is None, "no service account token: not in a pod"
    token.write_text("t")
    assert ambient_cluster(pod_env, home, token) is not None
