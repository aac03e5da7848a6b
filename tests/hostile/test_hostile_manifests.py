"""Hostile manifests for ``sovereign check --manifests``: exit 2 with a clear error, no traceback, and the
``--output`` report not written. Inputs that still load are not hostile; they are only checked to load."""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_support import (
    CliResult,
    alias_bomb,
    assert_bad_input,
    counted,
    deep,
    fuzz,
    run_bounded,
    run_main,
    text_mutation,
    write_bytes,
)
from hypothesis import given
from hypothesis import strategies as st

from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifests

VALID = """apiVersion: v1
kind: Namespace
metadata:
  name: fleet-ingest
  labels: {sovereign-clusters.dev/jurisdiction: cn}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingest-gateway, namespace: fleet-ingest}
spec:
  selector: {matchLabels: {app: ingest-gateway}}
  template:
    metadata: {labels: {app: ingest-gateway}}
    spec:
      containers:
        - {name: app, image: registry.automaker.cn/fleet/ingest-gateway:2.4.1}
"""


def check(path: Path, output: Path, *extra: str) -> CliResult:
    return run_main(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", "json",
                     "--output", str(output), *extra])


def _expect_bad(content: bytes | str, name: str = "in.yaml", *extra: str) -> CliResult:
    with tempfile.TemporaryDirectory(prefix="hostile-manifests-") as tmp:
        path = write_bytes(Path(tmp) / "manifests" / name, content)
        output = Path(tmp) / "report" / "check.json"
        result = check(path, output, *extra)
        assert_bad_input(result, "check", not_written=[output, output.parent])
        assert name in result.stderr or "--" in result.stderr, result.stderr
        return result


# --------------------------------------------------------------------------- generated, always bad at load time
NOT_A_STRING = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False), st.booleans(),
                         st.lists(st.integers(), max_size=2), st.just(""))


@st.composite
def bad_object(draw: st.DrawFn) -> Any:
    """A document the loader must refuse: not a mapping, or apiVersion/kind missing or not a non-empty string,
    or a List whose items are not all mappings."""
    shape = draw(st.sampled_from(["scalar", "list", "bad-api", "bad-kind", "no-api", "no-kind", "bad-items"]))
    good = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": draw(st.text(max_size=10))}}
    if shape == "scalar":
        return draw(st.one_of(st.integers(), st.text(min_size=1, max_size=20).filter(lambda t: t.strip()),
                              st.floats(allow_nan=False), st.booleans()))
    if shape == "list":
        return draw(st.lists(st.just(good), min_size=0, max_size=2))
    if shape in ("bad-api", "bad-kind"):
        good["apiVersion" if shape == "bad-api" else "kind"] = draw(NOT_A_STRING)
        return good
    if shape in ("no-api", "no-kind"):
        del good["apiVersion" if shape == "no-api" else "kind"]
        return good
    return {"apiVersion": "v1", "kind": "List", "items": [good, draw(NOT_A_STRING.filter(lambda v: v != ""))]}


@fuzz()
@given(docs=st.lists(st.one_of(st.just({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "ok"}}),
                               bad_object()), min_size=1, max_size=4).filter(
    lambda ds: any(not (isinstance(d, dict) and d.get("kind") == "ConfigMap" and d.get("apiVersion") == "v1")
                   for d in ds)))
@counted
def test_wrong_types_are_bad_input(docs: list[Any]) -> None:
    text = "---\n".join(yaml.safe_dump(d, allow_unicode=True) for d in docs)
    if not text.strip():
        return
    _expect_bad(text)


@fuzz()
@given(depth=st.integers(min_value=65, max_value=3000), style=st.sampled_from(["flow", "block", "map"]))
@counted
def test_deep_nesting_is_bad_input(depth: int, style: str) -> None:
    if style == "flow":
        text = deep(depth)
    elif style == "map":
        text = "a: " + "{b: " * depth + "1" + "}" * depth + "\n"
    else:
        text = "".join("  " * i + "- \n" for i in range(depth)) + "  " * depth + "x\n"
    _expect_bad("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\n" + text.replace("a: ", "data: ", 1))


@fuzz()
@given(data=st.data())
@counted
def test_duplicate_keys_are_bad_input(data: st.DataObject) -> None:
    """A key line repeated (same or a different value, same indentation) anywhere in a valid document."""
    lines = VALID.splitlines(keepends=True)
    keyed = [i for i, line in enumerate(lines) if ":" in line and not line.strip().startswith(("-", "---"))
             and not line.rstrip().endswith(":")]
    i = data.draw(st.sampled_from(keyed))
    key, _, value = lines[i].partition(":")
    if data.draw(st.booleans()):
        replacement = data.draw(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=20))
        value = " " + json.dumps(replacement) + "\n"
    duplicate = key + ":" + value
    _expect_bad("".join(lines[: i + 1] + [duplicate] + lines[i + 1:]))


@fuzz()
@given(blob=st.binary(min_size=1, max_size=200).filter(lambda b: _not_utf8(b)))
@counted
def test_undecodable_bytes_are_bad_input(blob: bytes) -> None:
    _expect_bad(VALID.encode() + blob)


def _not_utf8(b: bytes) -> bool:
    try:
        b.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@fuzz()
@given(data=st.data())
@counted
def test_damaged_manifest_text(data: st.DataObject) -> None:
    """Damaged text either still loads (then it is not hostile: the loader returned objects) or the CLI refuses
    it with exit 2 and writes nothing."""
    text = data.draw(st.one_of(text_mutation(VALID), st.text(max_size=300)))
    with tempfile.TemporaryDirectory(prefix="hostile-manifests-") as tmp:
        path = write_bytes(Path(tmp) / "in.yaml", text)
        try:
            docs = load_manifests(path)
        except InputError:
            output = Path(tmp) / "out" / "check.json"
            result = check(path, output)
            assert_bad_input(result, "check", not_written=[output])
            return
        assert all(isinstance(obj, dict) for _, _, obj in docs)


# --------------------------------------------------------------------------- fixed hostile cases
FIXED: dict[str, bytes | str] = {
    "huge": "# " + "x" * (17 * 1024 * 1024) + "\n" + VALID,
    "bom-then-garbage": "\ufeff" + "{{{{",
    "python-tag": "apiVersion: v1\nkind: ConfigMap\nmetadata: !!python/object/apply:os.system [echo owned]\n",
    "recursive-alias": "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x, self: *m}\n",
    "tab-indent": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: x\n",
    "nul": "apiVersion: v1\x00\nkind: ConfigMap\n",
    "unicode-kind-missing": "apiVersion: v1\n\u212aind: ConfigMap\n",
    "merge-key-junk": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  <<: 5\n",
    "document-is-list": "- apiVersion: v1\n  kind: ConfigMap\n",
}


@pytest.mark.parametrize("case", sorted(FIXED))
def test_fixed_hostile_manifest(case: str) -> None:
    _expect_bad(FIXED[case])


def test_missing_path_and_empty_directory(tmp_path: Path) -> None:
    out = tmp_path / "o.json"
    assert_bad_input(check(tmp_path / "nope", out), "check", not_written=[out])
    (tmp_path / "empty").mkdir()
    assert_bad_input(check(tmp_path / "empty", out), "check", not_written=[out])


@pytest.mark.parametrize("at", ["2026-13-45", "yesterday", "2026-02-30T00:00:00Z", "", "\u0662\u0660\u0662\u0666"])
def test_bad_at_is_bad_input(at: str, tmp_path: Path) -> None:
    if not at:
        pytest.skip("an empty --at means 'not given' (evaluation time: now)")
    path = write_bytes(tmp_path / "in.yaml", VALID)
    out = tmp_path / "o.json"
    assert_bad_input(check(path, out, "--at", at), "check", not_written=[out])


@pytest.mark.parametrize("jurisdiction", ["xx", "CN", "c n", "\u212acn"])
def test_unknown_jurisdiction_is_bad_input(jurisdiction: str, tmp_path: Path) -> None:
    """An unknown jurisdiction is a usage error (exit 2, nothing written), not a list of fail-closed findings."""
    import json

    labelled = VALID.replace("jurisdiction: cn}", f"jurisdiction: {json.dumps(jurisdiction)}}}")
    path = write_bytes(tmp_path / "in.yaml", labelled)
    out = tmp_path / "o.json"
    result = run_main(["check", "--manifests", str(path), "--jurisdiction", jurisdiction, "--format", "json",
                       "--output", str(out)])
    assert result.code != 0, "an unknown jurisdiction must never pass"
    assert_bad_input(result, "check", not_written=[out])


def test_alias_bomb_is_bad_input_and_fast(tmp_path: Path) -> None:
    """410 bytes expanding to a million scalars: must be refused quickly (exit 2), not fed to the pack."""
    path = write_bytes(tmp_path / "bomb.yaml", alias_bomb(levels=5))
    out = tmp_path / "o.json"
    started = time.monotonic()
    result = run_bounded([sys.executable, "-m", "sovereign", "check", "--manifests", str(path), "--jurisdiction",
                          "cn", "--format", "json", "--output", str(out)], timeout=20)
    if result is None:
        pytest.fail(f"sovereign check on a {path.stat().st_size}-byte alias bomb ran > 20 s (RT-6)")
    elapsed = time.monotonic() - started
    assert_bad_input(result, "check", not_written=[out])
    assert elapsed < 10, f"took {elapsed:.1f} s"


def _nested(draw: Any, levels: int) -> Any:
    value: Any = draw(st.sampled_from([1, "a", None, "k: v", "- x"]))
    for _ in range(levels):
        siblings = draw(st.integers(min_value=0, max_value=1))
        if draw(st.booleans()):
            value = {"k": value, **{f"s{i}": i for i in range(siblings)}}
        else:
            value = [value, *range(siblings)]
    return value


@fuzz()
@given(data=st.data(), levels=st.integers(min_value=1, max_value=90),
       flow=st.sampled_from([False, True, None]), indent=st.sampled_from([2, 3, 4]))
@counted
def test_the_nesting_bound_that_lets_the_parser_skip_measuring_is_safe(
    data: st.DataObject, levels: int, flow: bool | None, indent: int
) -> None:
    """The parser skips the depth walk when 2 * bound + 2 <= MAX_DEPTH; that needs depth <= 2 * bound + 2."""
    from sovereign.core import yamlio

    text = yaml.safe_dump(_nested(data.draw, levels), default_flow_style=flow, indent=indent)
    node = yaml.SafeLoader(text).get_single_node()

    def depth(n: yaml.Node) -> int:
        children = list(n.value) if isinstance(n, yaml.SequenceNode) else (
            [c for pair in n.value for c in pair] if isinstance(n, yaml.MappingNode) else [])
        return 1 + max((depth(c) for c in children), default=0)

    assert depth(node) <= 2 * yamlio._nesting_upper_bound(text) + 2
