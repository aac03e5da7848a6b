"""A good bundle verifies; each kind of tampering is detected and named (which file, which check)."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from evidence_support import AT, STACK, resign, run

from sovereign.evidence import layout


def test_a_good_bundle_verifies(bundle: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "evidence", "verify", str(bundle), "--key", str(keys[1]))
    assert result.code == 0, result.out + result.err
    assert f"{bundle}: VERIFIED: stack {STACK}: PASS: 0 mandatory" in result.out
    index = json.loads((bundle / layout.INDEX).read_text(encoding="utf-8"))
    assert index["stack"] == STACK and index["at"] == AT and index["verdict"]["result"] == "pass"
    roles = {entry["role"] for entry in index["inputs"]}
    assert roles == {"stack", "catalog-public", "organisation"}
    assert {layout.RESULTS, layout.RENDER, layout.CONNECTIVITY, layout.REGISTER} <= set(index["derived"])
    render = json.loads((bundle / layout.RENDER).read_text(encoding="utf-8"))["files"]
    assert "preview.json" in render and any(name.startswith("manifests/") for name in render)


def _payload(bundle: Path) -> dict:
    return json.loads((bundle / layout.ENVELOPE).read_text(encoding="utf-8"))


def _edit_json(path: Path, change: Callable[[dict], None]) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def _append(name: str, text: str) -> Callable[[Path], None]:
    def tamper(bundle: Path) -> None:
        with (bundle / name).open("a", encoding="utf-8") as handle:
            handle.write(text)
    return tamper


def _change_statement(bundle: Path) -> None:
    envelope = _payload(bundle)
    statement = json.loads(base64.b64decode(envelope["payload"]))
    statement["predicate"]["verdict"]["result"] = "pass-tampered"
    envelope["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    (bundle / layout.ENVELOPE).write_text(json.dumps(envelope), encoding="utf-8")


def _change_signature(bundle: Path) -> None:
    envelope = _payload(bundle)
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 1
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    (bundle / layout.ENVELOPE).write_text(json.dumps(envelope), encoding="utf-8")


def _change_manifest_hash(bundle: Path) -> None:
    def change(doc: dict) -> None:
        name = next(n for n in sorted(doc["files"]) if n.startswith("manifests/"))
        doc["files"][name] = "0" * 64
    _edit_json(bundle / layout.RENDER, change)


def _change_result(bundle: Path) -> None:
    def change(doc: dict) -> None:
        doc["summary"]["mandatory"] = 0
        doc["summary"]["resources"] += 1
    _edit_json(bundle / layout.RESULTS, change)


TAMPERING: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "input file": (_append("inputs/catalog/public/jurisdictions/cn.yaml", "\n# edited\n"),
                   "inputs/catalog/public/jurisdictions/cn.yaml", "digest"),
    "stack file": (_append(f"inputs/stack/Pulumi.{STACK}.yaml", "\n"), f"inputs/stack/Pulumi.{STACK}.yaml", "digest"),
    "result": (_change_result, layout.RESULTS, "digest"),
    "manifest hash": (_change_manifest_hash, layout.RENDER, "digest"),
    "connectivity proof": (_append(layout.CONNECTIVITY, " "), layout.CONNECTIVITY, "digest"),
    "statement": (_change_statement, layout.ENVELOPE, "signature"),
    "signature": (_change_signature, layout.ENVELOPE, "signature"),
    "missing file": (lambda b: (b / layout.REGISTER).unlink(), layout.REGISTER, "missing"),
    "missing envelope": (lambda b: (b / layout.ENVELOPE).unlink(), layout.ENVELOPE, "missing"),
    "extra file": (lambda b: (b / "inputs" / "notes.txt").write_text("x", encoding="utf-8"), "inputs/notes.txt",
                   "extra"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_detected_and_named(kind: str, bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    tamper, file, check = TAMPERING[kind]
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    tamper(copy)
    result = run(capsys, "evidence", "verify", str(copy), "--key", str(keys[1]))
    assert result.code == 1, result.out + result.err
    assert f"{copy}/{file}: {check}: " in result.out, result.out
    assert f"{copy}: NOT VERIFIED" in result.out


def test_a_wrong_key_is_named(bundle: Path, project: Path, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "evidence", "keygen", "--out", str(tmp_path / "other")).code == 0
    result = run(capsys, "evidence", "verify", str(bundle), "--key", str(tmp_path / "other" / "evidence-key.pub.pem"))
    assert result.code == 1
    assert f"{bundle}/{layout.ENVELOPE}: signature: signed by key " in result.out
    assert "not by the key given" in result.out


def test_a_resigned_false_result_fails_the_re_derivation(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """An insider with the key changes the results and signs again: the signature and digests hold, the verdict
    derived from the bundled inputs does not."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    _change_result(copy)
    resign(copy, keys[0])
    result = run(capsys, "evidence", "verify", str(copy), "--key", str(keys[1]))
    assert result.code == 1, result.out + result.err
    assert f"{copy}/{layout.RESULTS}: re-derivation: " in result.out
    assert "summary.resources: bundled" in result.out
    assert "signature" not in result.out and "digest" not in result.out


def test_a_resigned_changed_input_fails_the_re_derivation(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """A stack input swapped for another whose render differs (a transfer's approval window), with the index and
    the statement made to match: the re-derived results name what changed."""
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    stack = copy / "inputs" / "stack" / f"Pulumi.{STACK}.yaml"
    text = stack.read_text(encoding="utf-8")
    assert "validUntil: 2027-" in text or "validUntil: \"2027-" in text, "cn-prod's transfer window moved"
    stack.write_text(text.replace("2026-", "2025-", 1), encoding="utf-8")

    def fix_index(doc: dict) -> None:
        for entry in doc["inputs"]:
            if entry["role"] == "stack":
                entry["sha256"] = hashlib.sha256(stack.read_bytes()).hexdigest()
    _edit_json(copy / layout.INDEX, fix_index)
    resign(copy, keys[0])
    result = run(capsys, "evidence", "verify", str(copy), "--key", str(keys[1]))
    assert result.code == 1, result.out + result.err
    assert ": re-derivation: " in result.out, result.out


def test_verify_bad_input_exits_2(bundle: Path, keys: tuple[Path, Path], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "evidence", "verify", str(tmp_path / "none"), "--key", str(keys[1])).code == 2
    assert run(capsys, "evidence", "verify", str(bundle)).code == 2
    result = run(capsys, "evidence", "verify", str(bundle), "--key", str(keys[0]))  # the private key
    assert result.code == 2 and "Ed25519 public key" in result.err
    not_a_key = tmp_path / "key.pem"
    not_a_key.write_text("hello\n", encoding="utf-8")
    result = run(capsys, "evidence", "verify", str(bundle), "--key", str(not_a_key))
    assert result.code == 2 and str(not_a_key) in result.err


def test_exemptions_and_carve_outs_are_bundled_and_re_derived(project: Path, keys: tuple[Path, Path], tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"unjudged-object": {"exemptions": [{
        "kind": "Widget", "apiGroup": "example.com", "namespace": "analytics", "reason": "inert, reviewed in SEC-142",
        "approver": "platform-security@automaker.cn", "expires": "2027-03-31"}]}}), encoding="utf-8")
    out = tmp_path / "bundle"
    made = run(capsys, "evidence", STACK, "--at", AT, "--out", str(out), "--key", str(keys[0]),
               "--policy-pack-config", str(config))
    assert made.code == 0, made.err
    index = json.loads((out / layout.INDEX).read_text(encoding="utf-8"))
    assert [(e["rule"], e["carveOut"]) for e in index["exemptions"]] == [("unjudged-object", True)]
    assert run(capsys, "evidence", "verify", str(out), "--key", str(keys[1])).code == 0
    bundled = out / "inputs" / "policy-pack-config" / config.name
    bundled.write_text(bundled.read_text(encoding="utf-8").replace("2027-03-31", "2099-03-31"), encoding="utf-8")
    result = run(capsys, "evidence", "verify", str(out), "--key", str(keys[1]))
    assert result.code == 1 and f"{out}/inputs/policy-pack-config/{config.name}: digest: " in result.out
