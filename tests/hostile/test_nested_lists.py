"""Lists inside Lists: kubectl applies the objects of a ``List`` (any object with ``items``) to any depth
(cli-runtime ``FlattenListVisitor``), so ``sovereign check --manifests`` and the connectivity proof must judge every
object however deep it sits, keep where it came from (file, its own line, key path ``document 3.items[1].items[0]``)
and refuse what kubectl refuses, or what cannot be placed, as bad input (exit 2)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hostile_support import assert_bad_input, run_main, write_bytes

from sovereign.connectivity.inventory import to_manifests
from sovereign.core import manifests as manifest_input
from sovereign.core.errors import InputError
from sovereign.core.manifests import MAX_LIST_NESTING, load_manifests

PROBE = Path(__file__).resolve().parent / "helper_probe.py"

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "fleet-ingest", "labels": {"sovereign-clusters.dev/jurisdiction": "cn"}}}


def config_map(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "fleet-ingest"}}


def host_network_deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "buried", "namespace": "fleet-ingest"},
        "spec": {"selector": {"matchLabels": {"app": "buried"}},
                 "template": {"metadata": {"labels": {"app": "buried"}},
                              "spec": {"hostNetwork": True, "containers": [
                                  {"name": "app", "image": "registry.automaker.cn/fleet/buried:1.0"}]}}},
    }


def a_list(*items: Any, kind: str = "List") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "items": list(items)}


def nested(depth: int, leaf: Any) -> dict[str, Any]:
    """``depth`` Lists, each holding the next; the innermost holds ``leaf``."""
    value = a_list(leaf)
    for _ in range(depth - 1):
        value = a_list(value)
    return value


# ----------------------------------------------------------------------------------------- what is expanded
NESTED_TEXT = """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
- apiVersion: v1
  kind: List
  items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: b}
  - apiVersion: v1
    kind: ConfigMapList
    items:
    - apiVersion: v1
      kind: ConfigMap
      metadata: {name: c}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: d}
"""


def test_lists_are_expanded_to_any_depth_in_file_order_with_each_objects_line(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "in.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: first}\n---\n"
                       + NESTED_TEXT)
    docs = load_manifests(path)
    assert [(line, obj["metadata"]["name"]) for _f, line, obj in docs] == [
        (1, "first"), (8, "a"), (14, "b"), (20, "c"), (23, "d")]
    assert all(obj["kind"] == "ConfigMap" for _f, _l, obj in docs)


def test_a_deeply_nested_list_is_expanded(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "in.json", json.dumps(nested(MAX_LIST_NESTING, config_map("deep"))))
    [(_file, _line, obj)] = load_manifests(path)
    assert obj == config_map("deep")


def test_kubectls_rules_for_what_is_a_list(tmp_path: Path) -> None:
    """An object is a List when it has ``items`` (whatever its kind, as kubectl's decoder decides); a kind ending
    in ``List`` without ``items`` is an ordinary object; an empty List holds nothing."""
    documents = [
        {"apiVersion": "v1", "kind": "ConfigMapList", "metadata": {"name": "no-items"}},
        a_list(),
        a_list(a_list(), config_map("in-a-custom-list"), kind="Deployment"),
    ]
    path = write_bytes(tmp_path / "in.yaml", yaml.safe_dump_all(documents))
    assert [(obj["kind"], obj["metadata"]["name"]) for _f, _l, obj in load_manifests(path)] == [
        ("ConfigMapList", "no-items"), ("ConfigMap", "in-a-custom-list")]


def test_a_workload_two_lists_down_is_judged(tmp_path: Path) -> None:
    """Before: the inner List was judged as an object of kind List and the Deployment in it was never seen."""
    path = write_bytes(tmp_path / "in.yaml", yaml.safe_dump_all(
        [NAMESPACE, a_list(config_map("x"), a_list(a_list(host_network_deployment())))]))
    out = tmp_path / "out" / "report.json"
    result = run_main(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", "json",
                       "--output", str(out)])
    assert result.code == 1, result.stderr
    report = out.read_text(encoding="utf-8")
    assert "no-host-access" in report and "buried" in report


# ----------------------------------------------------------------------------------------- what is refused
BAD: dict[str, tuple[Any, str, str]] = {
    "scalar-two-down": (a_list(config_map("a"), a_list("oops")), "document 1.items[1].items[0]",
                        "a Kubernetes object (a mapping)"),
    "items-not-a-list-two-down": (a_list(config_map("a"), {"apiVersion": "v1", "kind": "List", "items": "x"}),
                                  "document 1.items[1].items", "a list of objects"),
    "items-null": ({"apiVersion": "v1", "kind": "List", "items": None}, "document 1.items", "a list of objects"),
    "items-a-mapping-on-any-kind": ({"apiVersion": "v1", "kind": "Service", "items": {"a": 1}},
                                    "document 1.items", "a list of objects"),
    "no-kind-three-down": (nested(3, {"apiVersion": "v1", "metadata": {"name": "x"}}),
                           "document 1.items[0].items[0].items[0].kind", "a non-empty string"),
    "list-without-kind": ({"apiVersion": "v1", "items": [config_map("a")]}, "document 1.kind", "a non-empty string"),
    "too-deep": (nested(MAX_LIST_NESTING + 1, config_map("x")),
                 "document 1" + ".items[0]" * MAX_LIST_NESTING, f"Lists nested at most {MAX_LIST_NESTING} deep"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_nested_lists_are_bad_input_naming_the_key_path(case: str, tmp_path: Path) -> None:
    document, key_path, expected = BAD[case]
    path = write_bytes(tmp_path / "m" / "in.yaml", yaml.safe_dump(document))
    with pytest.raises(InputError) as info:
        load_manifests(path)
    assert info.value.message.startswith(f"{path}: {key_path}: expected {expected}"), info.value.message
    out = tmp_path / "out" / "report.json"
    result = run_main(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", "json",
                       "--output", str(out)])
    assert_bad_input(result, "check", not_written=[out, out.parent])
    assert f"{path}: {key_path}: expected {expected}" in result.stderr, result.stderr


def test_list_nesting_is_bounded_whatever_the_yaml_depth_bound(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    """The bound is the loader's own, not a side effect of the YAML nesting bound."""
    monkeypatch.setattr(manifest_input, "MAX_LIST_NESTING", 2)
    path = write_bytes(tmp_path / "in.yaml", yaml.safe_dump(nested(3, config_map("x"))))
    with pytest.raises(InputError) as info:
        load_manifests(path)
    assert info.value.message.startswith(f"{path}: document 1.items[0].items[0]: expected Lists nested at most 2")


# ----------------------------------------------------------------------------------------- the connectivity proof
def test_to_manifests_expands_lists_to_any_depth_with_key_paths() -> None:
    objects = [config_map("top"), a_list(config_map("a"), a_list(config_map("b"), a_list(config_map("c"))))]
    sources = [("f.yaml", ("document 1",)), ("f.yaml", ("document 2",))]
    manifests = to_manifests(objects, sources)
    assert [(m.obj["metadata"]["name"], m.index, m.path()) for m in manifests] == [
        ("top", 0, ["document 1"]),
        ("a", 1, ["document 2", "items", 0]),
        ("b", 1, ["document 2", "items", 1, "items", 0]),
        ("c", 1, ["document 2", "items", 1, "items", 1, "items", 0]),
    ]
    assert [m.obj["metadata"]["name"] for m in to_manifests(objects)] == ["top", "a", "b", "c"]


@pytest.mark.parametrize(("objects", "key_path", "expected"), [
    ([a_list(config_map("a"), a_list(5))], "[0].items[1].items[0]", "a Kubernetes object (a mapping)"),
    ([a_list(a_list({"kind": "List", "items": {}}))], "[0].items[0].items[0].items", "a list of objects"),
    ([nested(MAX_LIST_NESTING + 1, config_map("x"))], "[0]" + ".items[0]" * MAX_LIST_NESTING,
     f"Lists nested at most {MAX_LIST_NESTING} deep"),
])
def test_to_manifests_refuses_bad_nested_lists(objects: list[Any], key_path: str, expected: str) -> None:
    with pytest.raises(InputError) as info:
        to_manifests(objects, source="objs")
    assert info.value.message.startswith(f"objs: {key_path}: expected {expected}"), info.value.message


# ----------------------------------------------------------------------------------------- the parse helper
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper forks on Linux only")
def test_the_parse_helper_expands_lists_as_the_sequential_load_does(tmp_path: Path) -> None:
    """The forked child parses most files of a large directory; run apart (helper_probe.py) because the helper forks
    only from a single-threaded process."""
    done = subprocess.run([sys.executable, str(PROBE), "lists", str(tmp_path)], capture_output=True, text=True,
                          timeout=600, check=False, cwd=PROBE.parent)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr
