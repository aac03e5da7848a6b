"""Secrets never leave: kubeconfig only as a Pulumi secret, and no byte of render, check (every format) or diff
output contains a planted secret value, its base64 form, the render's placeholder, or credentials from the
environment."""

from __future__ import annotations

import base64
import contextlib
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import ROOT, command_available, run_cli, tree_bytes

CIPHERTEXT_PAYLOAD = "PLANTED-KUBECONFIG-CIPHERTEXT-7f3a"
CIPHERTEXT = "v1:UExBTlRFRC1OT05DRQ==:" + base64.b64encode(CIPHERTEXT_PAYLOAD.encode()).decode()
PLAINTEXT_TOKEN = "PLANTED-PLAINTEXT-TOKEN-91c2"
SECRET_STRING = "PLANTED-STRINGDATA-TOKEN-c0de"
SECRET_DATA = "PLANTED-DATA-KEY-b33f"
ENV_CREDENTIALS = {
    "AWS_SECRET_ACCESS_KEY": "PLANTED-ENV-AWS-SECRET-5e1f",
    "ALICLOUD_SECRET_KEY": "PLANTED-ENV-ALI-SECRET-77aa",
    "PULUMI_CONFIG_PASSPHRASE": "PLANTED-ENV-PASSPHRASE-0b0e",
}
PLACEHOLDER = "sovereign-render-placeholder-secret"
FORMATS = ("text", "json", "sarif", "junit", "markdown")


def needles() -> dict[str, bytes]:
    """Every planted value, plain and base64-encoded."""
    values = [CIPHERTEXT, CIPHERTEXT_PAYLOAD, base64.b64encode(CIPHERTEXT_PAYLOAD.encode()).decode(), PLAINTEXT_TOKEN,
              SECRET_STRING, SECRET_DATA, PLACEHOLDER, *ENV_CREDENTIALS.values()]
    out = {}
    for v in values:
        out[v] = v.encode()
        out[f"base64({v})"] = base64.b64encode(v.encode())
    return out


def assert_clean(where: str, blob: bytes) -> None:
    found = sorted(name for name, needle in needles().items() if needle in blob)
    assert not found, f"{where} contains planted secret(s): {found}"


@contextlib.contextmanager
def secret_root(tmp: Path, *, kubeconfig: str | None) -> Iterator[Path]:
    """A project root whose cn-prod stack has ``kubeconfig`` inserted after the jurisdiction line."""
    root = tmp / "root"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", root / "stacks")
    for name in ("policies", "infra", "sovereign", "examples"):  # examples: the example organisation
        (root / name).symlink_to(ROOT / name, target_is_directory=True)
    if kubeconfig is not None:
        stack = root / "stacks" / "Pulumi.cn-prod.yaml"
        text = stack.read_text(encoding="utf-8")
        marker = "  sovereign-clusters:jurisdiction: cn\n"
        assert marker in text
        stack.write_text(text.replace(marker, marker + kubeconfig, 1), encoding="utf-8")
    yield root


SECURE = f"  sovereign-clusters:kubeconfig:\n    secure: {CIPHERTEXT}\n"
PLAINTEXT = ("  sovereign-clusters:kubeconfig: |\n    apiVersion: v1\n    kind: Config\n"
             f"    users: [{{name: admin, user: {{token: {PLAINTEXT_TOKEN}}}}}]\n")


def test_plaintext_kubeconfig_is_rejected_without_echoing_it(tmp_path: Path) -> None:
    with secret_root(tmp_path, kubeconfig=PLAINTEXT) as root:
        env = {"SOVEREIGN_ROOT": str(root), **ENV_CREDENTIALS}
        for args in (["validate", "cn-prod"], ["render", "cn-prod", "--out", str(tmp_path / "out")]):
            run = run_cli(args, env=env)
            assert run.code == 2, (args, run.stdout, run.stderr)
            assert "secret" in run.stderr
            assert_clean(f"{args[0]} output", (run.stdout + run.stderr).encode())
        assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def secure_renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """cn-prod without and with a secure kubeconfig, rendered with credentials in the environment."""
    out: dict[str, Path] = {}
    for label, kubeconfig in (("plain", None), ("secure", SECURE)):
        tmp = tmp_path_factory.mktemp(f"secrets-{label}")
        with secret_root(tmp, kubeconfig=kubeconfig) as root:
            render = tmp / "render"
            run = run_cli(["render", "cn-prod", "--out", str(render), "--at", "2026-12-01"],
                          env={"SOVEREIGN_ROOT": str(root), **ENV_CREDENTIALS})
            assert run.code == 0, run.stderr
            assert_clean(f"render ({label}) stdout/stderr", (run.stdout + run.stderr).encode())
            out[label] = render
            out[f"{label}-root"] = root
    return out


def test_render_output_has_no_secret(secure_renders: dict[str, Path]) -> None:
    files = tree_bytes(secure_renders["secure"])
    assert files, "render wrote nothing"
    for name, blob in files.items():
        assert_clean(f"render file {name}", blob)
    preview = json.loads(files["cn-prod/preview.json"])
    assert preview["config"]["sovereign-clusters:kubeconfig"] == "[secret]"


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_reports_have_no_secret(fmt: str, secure_renders: dict[str, Path], tmp_path: Path) -> None:
    output = tmp_path / f"report.{fmt}"
    run = run_cli(["check", "--render-dir", str(secure_renders["secure"]), "--at", "2026-12-01", "--format", fmt,
                   "--output", str(output)], env={"SOVEREIGN_ROOT": str(secure_renders["secure-root"]),
                                                  **ENV_CREDENTIALS})
    assert run.code in (0, 1), run.stderr
    assert_clean(f"check --format {fmt}", output.read_bytes() + run.stdout.encode() + run.stderr.encode())


@pytest.mark.skipif(not command_available("diff"), reason="sovereign diff not available")
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_diff_adding_a_secure_kubeconfig_shows_no_secret(fmt: str, secure_renders: dict[str, Path]) -> None:
    run = run_cli(["diff", str(secure_renders["plain"]), str(secure_renders["secure"]), "--at", "2026-12-01",
                   "--format", fmt], env=ENV_CREDENTIALS)
    assert run.code in (0, 1), run.stderr
    assert_clean(f"diff --format {fmt}", (run.stdout + run.stderr).encode())
    assert "kubeconfig" in run.stdout, "the provider change itself should be visible (as [secret])"


# ------------------------------------------------------------------------------ a Secret in plain manifests
SECRET_MANIFESTS = f"""apiVersion: v1
kind: Namespace
metadata: {{name: fleet-ingest}}
---
apiVersion: v1
kind: Secret
metadata: {{name: upload-token, namespace: fleet-ingest}}
type: Opaque
stringData: {{token: {SECRET_STRING}}}
data: {{key: {base64.b64encode(SECRET_DATA.encode()).decode()}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ingest-gateway, namespace: fleet-ingest}}
spec:
  selector: {{matchLabels: {{app: ingest-gateway}}}}
  template:
    metadata: {{labels: {{app: ingest-gateway}}}}
    spec:
      hostNetwork: true
      containers:
        - name: app
          image: docker.io/library/nginx:1.27
          env:
            - {{name: TOKEN, value: {SECRET_STRING}}}
            - {{name: KEY, valueFrom: {{secretKeyRef: {{name: upload-token, key: key}}}}}}
"""


@pytest.mark.parametrize("fmt", FORMATS)
def test_check_manifests_with_a_secret_reports_no_secret(fmt: str, tmp_path: Path) -> None:
    path = tmp_path / "in.yaml"
    path.write_text(SECRET_MANIFESTS, encoding="utf-8")
    output = tmp_path / f"report.{fmt}"
    run = run_cli(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", fmt, "--output",
                   str(output)], env=ENV_CREDENTIALS)
    assert run.code == 1, run.stderr  # the Deployment violates several rules: the report has content to leak into
    assert_clean(f"check --manifests --format {fmt}", output.read_bytes() + (run.stdout + run.stderr).encode())


# ------------------------------------------------------------------------------ diff of a changed Secret
def _with_secret(render: Path, target: Path, token: str, key: str) -> Path:
    shutil.copytree(render, target)
    preview_path = target / "cn-prod" / "preview.json"
    doc = json.loads(preview_path.read_text(encoding="utf-8"))
    provider = next(s for s in doc["steps"] if s["newState"]["type"] == "pulumi:providers:kubernetes")
    urn = "urn:pulumi:cn-prod::sovereign-clusters::kubernetes:core/v1:Secret::fleet-ingest/upload-token"
    inputs = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "upload-token", "namespace": "fleet-ingest"},
              "type": "Opaque", "stringData": {"token": token},
              "data": {"key": base64.b64encode(key.encode()).decode()}}
    doc["steps"].append({"op": "create", "urn": urn, "newState": {
        "custom": True, "type": "kubernetes:core/v1:Secret", "urn": urn, "inputs": inputs,
        "parent": provider["newState"]["parent"], "provider": provider["urn"] + "::provider-id"}})
    preview_path.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    return target


@pytest.mark.skipif(not command_available("diff"), reason="sovereign diff not available")
@pytest.mark.parametrize("fmt", ["markdown", "json"])
def test_diff_of_a_rotated_secret_shows_no_value(fmt: str, secure_renders: dict[str, Path], tmp_path: Path) -> None:
    """A Secret whose stringData/data rotate between BASE and HEAD: the diff may say they changed, never to
    what (a preview would carry them as [secret]; a render of renderYamlToDirectory output may not) (RT-10)."""
    base = _with_secret(secure_renders["plain"], tmp_path / "base", "PLANTED-OLD-TOKEN-1111", "PLANTED-OLD-KEY-2222")
    head = _with_secret(secure_renders["plain"], tmp_path / "head", SECRET_STRING, SECRET_DATA)
    run = run_cli(["diff", str(base), str(head), "--at", "2026-12-01", "--format", fmt, "--no-policy"])
    assert run.code in (0, 1), run.stderr
    blob = (run.stdout + run.stderr).encode()
    assert_clean(f"diff --format {fmt}", blob)
    for old in ("PLANTED-OLD-TOKEN-1111", "PLANTED-OLD-KEY-2222"):
        assert old.encode() not in blob and base64.b64encode(old.encode()) not in blob, f"diff shows {old}"
    assert "upload-token" in run.stdout
