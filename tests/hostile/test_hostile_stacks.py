"""Hostile stack files: ``sovereign validate`` and ``sovereign render`` on damaged copies of the example stack,
in a throw-away project root (``SOVEREIGN_ROOT``). Exit 0 or 2, never a traceback; render writes nothing."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_support import (
    ROOT,
    CliResult,
    assert_bad_input,
    assert_no_traceback,
    counted,
    dump,
    fuzz,
    mutated_document,
    project_copy,
    run_main,
    text_mutation,
    write_bytes,
)
from hypothesis import given
from hypothesis import strategies as st

STACK = "cn-prod"
STACK_FILE = f"stacks/Pulumi.{STACK}.yaml"


@cache
def original_text() -> str:
    return (ROOT / STACK_FILE).read_text(encoding="utf-8")


@cache
def original() -> Any:
    return yaml.safe_load(original_text())


def _validate(root: Path) -> CliResult:
    result = run_main(["validate", STACK], root=root)
    assert_no_traceback(result)
    if result.code == 2:
        assert_bad_input(result, "validate")
        assert STACK_FILE.split("/")[-1] in result.stderr, result.stderr
    return result


@fuzz()
@given(data=st.data())
@counted
def test_mutated_stack_config(data: st.DataObject) -> None:
    doc = data.draw(mutated_document(original()))
    with project_copy() as root:
        write_bytes(root / STACK_FILE, dump(doc))
        _validate(root)


@fuzz()
@given(data=st.data())
@counted
def test_damaged_stack_text(data: st.DataObject) -> None:
    text = data.draw(text_mutation(original_text()))
    with project_copy() as root:
        write_bytes(root / STACK_FILE, text)
        _validate(root)


@fuzz()
@given(value=st.recursive(st.one_of(st.none(), st.integers(), st.text(max_size=30), st.floats()),
                          lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=8),
       key=st.sampled_from(["jurisdiction", "cluster", "tenants", "workloads", "storage", "backups", "transfers",
                            "kubeconfig", "renderDir", "unknownKey"]))
@counted
def test_config_key_of_any_type(value: Any, key: str) -> None:
    doc = yaml.safe_load(original_text())
    doc["config"][f"sovereign-clusters:{key}"] = value
    with project_copy() as root:
        write_bytes(root / STACK_FILE, dump(doc))
        _validate(root)


BAD_STACKS: dict[str, bytes | str] = {
    "malformed": "config:\n  sovereign-clusters:jurisdiction: [cn\n",
    "duplicate-key": "config:\n  sovereign-clusters:jurisdiction: cn\n  sovereign-clusters:jurisdiction: eu\n",
    "wrong-type": "config:\n  sovereign-clusters:jurisdiction: 7\n",
    "not-a-mapping": "- config\n",
    "deep-nesting": "config:\n  sovereign-clusters:cluster: " + "[" * 150 + "]" * 150 + "\n",
    "invalid-utf8": b"config:\n  sovereign-clusters:jurisdiction: \xff\xfe\n",
    "huge": "# " + "x" * (17 * 1024 * 1024) + "\nconfig: {}\n",
    "empty": "",
}


def _bad_stack(case: str) -> bytes | str:
    if case == "unicode-region":
        return original_text().replace("cn-northwest-1]", "cn-n\u043erthwest-1]")  # Cyrillic o
    if case == "foreign-region":
        return original_text().replace("cn-northwest-1]", "eu-central-1]")
    return BAD_STACKS[case]


CASES = sorted([*BAD_STACKS, "foreign-region", "unicode-region"])


@pytest.mark.parametrize("case", CASES)
def test_validate_bad_stack(case: str) -> None:
    with project_copy() as root:
        write_bytes(root / STACK_FILE, _bad_stack(case))
        assert_bad_input(run_main(["validate", STACK], root=root), "validate")


def _render_bad(root: Path, out: Path) -> None:
    before = sorted(os.listdir(out.parent))
    result = run_main(["render", STACK, "--out", str(out)], root=root)
    assert_bad_input(result, "render", not_written=[out])
    assert sorted(os.listdir(out.parent)) == before, "render left files next to --out"


@pytest.mark.parametrize("case", ["malformed", "duplicate-key", "wrong-type", "deep-nesting", "invalid-utf8",
                                  "unicode-region", "foreign-region", "empty"])
def test_render_bad_stack_writes_nothing(case: str, tmp_path: Path) -> None:
    with project_copy() as root:
        write_bytes(root / STACK_FILE, _bad_stack(case))
        _render_bad(root, tmp_path / "out")


def test_render_unknown_stack_writes_nothing(tmp_path: Path) -> None:
    result = run_main(["render", "no-such-stack", "--out", str(tmp_path / "out")])
    assert_bad_input(result, "render", not_written=[tmp_path / "out"])


@fuzz(default=4, long=60)
@given(data=st.data())
@counted
def test_render_on_damaged_stack(data: st.DataObject) -> None:
    """Only inputs ``validate`` rejects: render must reject them too, and write nothing."""
    import tempfile

    text = data.draw(st.one_of(text_mutation(original_text()), mutated_document(original()).map(dump)))
    with project_copy() as root:
        write_bytes(root / STACK_FILE, text)
        if run_main(["validate", STACK], root=root).code != 2:
            return
        with tempfile.TemporaryDirectory(prefix="hostile-out-") as tmp:
            _render_bad(root, Path(tmp) / "out")
