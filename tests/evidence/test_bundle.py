"""Bundles are deterministic, carry no secret value, and their building blocks follow their specs (DSSE PAE, key
files, redaction that keeps every line)."""

from __future__ import annotations

import argparse
import base64
import json
import os
import stat
from pathlib import Path

import pytest
from evidence_support import AT, STACK, run, tree
from hypothesis import given
from hypothesis import strategies as st

from sovereign.evidence import layout
from sovereign.evidence.dsse import pae
from sovereign.evidence.redact import redact_stack_text
from sovereign.evidence.statement import PREDICATE_TYPE, STATEMENT_TYPE


def test_the_same_inputs_give_byte_identical_bundles(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    again = tmp_path / "again"
    assert run(capsys, "evidence", STACK, "--at", AT, "--out", str(again), "--key", str(keys[0])).code == 0
    first, second = tree(bundle), tree(again)
    assert sorted(first) == sorted(second)
    different = sorted(name for name in first if first[name] != second[name])
    assert different == [], different  # Ed25519 is deterministic: the envelope too, with the same key


def test_the_statement_is_an_in_toto_statement_over_every_file(bundle: Path) -> None:
    envelope = json.loads((bundle / layout.ENVELOPE).read_text(encoding="utf-8"))
    assert envelope["payloadType"] == "application/vnd.in-toto+json"
    statement = json.loads(base64.b64decode(envelope["payload"]))
    assert statement["_type"] == STATEMENT_TYPE and statement["predicateType"] == PREDICATE_TYPE
    files, others = layout.bundle_files(bundle)
    assert others == [] and [s["name"] for s in statement["subject"]] == files
    assert statement["predicate"]["verdict"]["result"] == "pass"
    assert statement["predicate"]["versions"]["policyPack"]["name"] == "sovereign-residency"


def test_pae_matches_the_dsse_test_vector() -> None:
    expected = b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"  # protocol.md, "Test Vectors"
    assert pae("http://example.com/HelloWorld", b"hello world") == expected


# ------------------------------------------------------------------------------------------------ secrets
CIPHERTEXT = "v1:UExBTlRFRC1OT05DRQ==:" + base64.b64encode(b"PLANTED-KUBECONFIG-CIPHERTEXT-7f3a").decode()
SALT = "v1:PLANTEDSALTc2FsdA==:v1:PLANTEDNONCE:PLANTEDSALTCIPHERTEXT0b0e"
ENV_SECRETS = {"AWS_SECRET_ACCESS_KEY": "PLANTED-ENV-AWS-SECRET-5e1f",
               "PULUMI_CONFIG_PASSPHRASE": "PLANTED-ENV-PASSPHRASE-0b0e"}
SECRET_STRING, SECRET_DATA = "PLANTED-STRINGDATA-TOKEN-c0de", "PLANTED-DATA-KEY-b33f"


def _needles() -> dict[str, bytes]:
    values = [CIPHERTEXT, "PLANTED-KUBECONFIG-CIPHERTEXT-7f3a", "PLANTEDSALTCIPHERTEXT0b0e", *ENV_SECRETS.values(),
              SECRET_STRING, SECRET_DATA, "sovereign-render-placeholder-secret"]
    out = {}
    for v in values:
        out[v] = v.encode()
        out[f"base64({v})"] = base64.b64encode(v.encode())
    return out


def _assert_clean(blob: bytes, where: str) -> None:
    found = sorted(name for name, needle in _needles().items() if needle in blob)
    assert not found, f"{where} holds planted secret(s): {found}"


def test_a_secret_kubeconfig_and_secrets_in_the_environment_never_enter_a_bundle(
        project: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stack_file = project / "stacks" / f"Pulumi.{STACK}.yaml"
    original = stack_file.read_text(encoding="utf-8")
    marker = "  sovereign-clusters:jurisdiction: cn\n"
    assert marker in original
    planted = (f"encryptionsalt: {SALT}\n" + original.replace(
        marker, marker + f"  sovereign-clusters:kubeconfig:\n    secure: {CIPHERTEXT}\n", 1))
    for name, value in ENV_SECRETS.items():
        monkeypatch.setenv(name, value)
    try:
        stack_file.write_text(planted, encoding="utf-8")
        out = tmp_path / "secret-bundle"
        result = run(capsys, "evidence", STACK, "--at", AT, "--out", str(out), "--key", str(keys[0]))
        assert result.code == 0, result.err
        _assert_clean((result.out + result.err).encode(), "the command's output")
        for name, blob in tree(out).items():
            _assert_clean(blob, name)
        bundled = (out / "inputs" / "stack" / stack_file.name).read_text(encoding="utf-8")
        assert bundled.count("\n") == planted.count("\n") and '"[secret]"' in bundled
        index = json.loads((out / layout.INDEX).read_text(encoding="utf-8"))
        entry = next(e for e in index["inputs"] if e["role"] == "stack")
        assert entry["redacted"] == ["encryptionsalt", "config.sovereign-clusters:kubeconfig.secure"]
        verified = run(capsys, "evidence", "verify", str(out), "--key", str(keys[1]))
        assert verified.code == 0, verified.out + verified.err  # the redacted file renders and checks the same
    finally:
        stack_file.write_text(original, encoding="utf-8")


def test_a_secret_manifest_and_an_env_value_never_enter_the_derived_documents(
        project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A render holding a core/v1 Secret with data and a Deployment with a literal env value (as a program of
    one's own may declare them): results, digests, connectivity summary and register hold neither value."""
    from sovereign.catalog import default_catalog
    from sovereign.cli import check
    from sovereign.cli.progress import Progress
    from sovereign.evidence.derive import derive

    render = tmp_path / "render"
    assert run(capsys, "render", STACK, "--out", str(render), "--at", AT).code == 0
    preview_path = render / STACK / "preview.json"
    doc = json.loads(preview_path.read_text(encoding="utf-8"))
    provider = next(s for s in doc["steps"] if s["newState"]["type"] == "pulumi:providers:kubernetes")
    namespace = "training"
    objects = {
        "core/v1:Secret": {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "upload-token",
                           "namespace": namespace}, "type": "Opaque", "stringData": {"token": SECRET_STRING},
                           "data": {"key": base64.b64encode(SECRET_DATA.encode()).decode()}},
        "apps/v1:Deployment": {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {
            "name": "planted", "namespace": namespace}, "spec": {"selector": {"matchLabels": {"app": "planted"}},
            "template": {"metadata": {"labels": {"app": "planted"}}, "spec": {"containers": [{
                "name": "app", "image": "registry.automaker.cn/planted:1", "env": [
                    {"name": "TOKEN", "value": SECRET_STRING}]}]}}}},
    }
    for token, inputs in objects.items():
        urn = f"urn:pulumi:{STACK}::sovereign-clusters::kubernetes:{token}::{namespace}/{inputs['metadata']['name']}"
        doc["steps"].append({"op": "create", "urn": urn, "newState": {
            "custom": True, "type": f"kubernetes:{token}", "urn": urn, "inputs": inputs,
            "parent": provider["newState"]["parent"], "provider": provider["urn"] + "::provider-id"}})
    preview_path.write_text(json.dumps(doc, sort_keys=True), encoding="utf-8")
    parser = argparse.ArgumentParser()
    check.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["check", STACK, "--render-dir", str(render), "--no-render", "--at", AT])
    report = check.build_report(args, Progress(False))
    derived = derive(report, render / STACK, default_catalog(), AT)
    assert b"planted" in derived.files[layout.RESULTS]  # the Deployment was judged: there was something to leak
    for name, blob in derived.files.items():
        _assert_clean(blob, name)


# ------------------------------------------------------------------------------------------------ keys, input
def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "evidence", "keygen", "--out", str(tmp_path)).code == 0
    private = tmp_path / "evidence-key.pem"
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    before = private.read_bytes()
    result = run(capsys, "evidence", "keygen", "--out", str(tmp_path))
    assert result.code == 2 and "--force" in result.err and private.read_bytes() == before
    assert run(capsys, "evidence", "keygen", "--out", str(tmp_path), "--force").code == 0
    assert private.read_bytes() != before


def test_creation_without_a_time_a_key_or_a_readable_stack_writes_nothing(
        project: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "b"
    for argv in ([STACK, "--out", str(out), "--key", str(keys[0])],
                 [STACK, "--at", AT, "--out", str(out)],
                 [STACK, "--at", AT, "--out", str(out), "--key", str(keys[1])],
                 ["no-such-stack", "--at", AT, "--out", str(out), "--key", str(keys[0])],
                 [STACK, "--at", "yesterday", "--out", str(out), "--key", str(keys[0])]):
        result = run(capsys, "evidence", *argv)
        assert result.code == 2, (argv, result.err)
        assert not out.exists(), argv


def test_an_unrelated_directory_is_never_replaced(project: Path, keys: tuple[Path, Path], tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine.txt").write_text("keep\n", encoding="utf-8")
    result = run(capsys, "evidence", STACK, "--at", AT, "--out", str(tmp_path), "--key", str(keys[0]))
    assert result.code == 2 and (tmp_path / "mine.txt").read_text(encoding="utf-8") == "keep\n"


SECURE_VALUES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:", min_size=1,
                        max_size=60)


@given(value=SECURE_VALUES, inline=st.booleans())
def test_redaction_keeps_every_line_and_no_value(value: str, inline: bool) -> None:
    secure = f"{{secure: \"{value}\"}}" if inline else f"\n    secure: \"{value}\""
    text = f"# head\nconfig:\n  a:b: 1\n  a:secret: {secure}\n  a:c: [x, y]\n"
    redacted = redact_stack_text(text)
    assert redacted.text.count("\n") == text.count("\n")
    assert f'"{value}"' not in redacted.text
    assert redacted.paths == ("config.a:secret.secure",)
    assert "a:c: [x, y]" in redacted.text
