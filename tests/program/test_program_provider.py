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
    assert provider["inputs"] == {"renderYamlToDirectory": config.render_dir}
    assert built.outputs["kubernetesTarget"] == {"mode": "render", "renderYamlToDirectory": config.render_dir}


def test_kubeconfig_is_passed_as_secret(capture: Any) -> None:
    built = capture("cn-prod", overrides=with_kubeconfig(secret=True))
    assert built.error is None
    (provider,) = built.providers
    kubeconfig = provider["inputs"]["kubeconfig"]
    assert isinstance(kubeconfig, dict) and SECRET_SIG in kubeconfig, "kubeconfig must be a secret on the wire"
    assert "renderYamlToDirectory" not in provider["inputs"]
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
    assert provider["inputs"] == {"renderYamlToDirectory": "elsewhere/us"}


def test_mock_run_without_injected_config_reads_the_stack_file(capture: Any) -> None:
    """Only mock runs can lack config (the CLI always passes the stack file's); the program then loads the
    stack file itself and builds the same graph."""
    without = capture("cn-prod", overrides={key: None for key in stack_config_values("cn-prod")})
    with_config = capture("cn-prod")
    assert without.error is None
    assert sorted((r["type"], r["name"]) for r in without.registrations) == sorted(
        (r["type"], r["name"]) for r in with_config.registrations
    )
