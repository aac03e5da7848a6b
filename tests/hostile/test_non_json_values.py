"""Values JSON cannot carry are bad input, named by file, line and key path: never a crash, never converted.

Kubernetes reads manifests as JSON and Pulumi passes config and props as JSON (numbers as doubles): YAML's
``.inf``, ``-.inf`` and ``.nan`` (and a float literal too large for a double, which YAML reads as infinity) have no
JSON form. Before: a NaN passed the protobuf ``Struct`` encoding and the policy pack failed on it ("the policy pack
failed: Remediate failed: ValueError: Fail to serialize NaN ..."), naming neither file nor key.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hostile_support import assert_bad_input, project_copy, run_main, write_bytes

from sovereign.check.policy_run import target_from_manifests
from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifests
from sovereign.core.yamlio import parse_yaml_documents

MANIFEST = """\
apiVersion: v1
kind: Namespace
metadata:
  name: fleet-ingest
  labels: {sovereign-clusters.dev/jurisdiction: cn}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingest-gateway, namespace: fleet-ingest}
spec:
  replicas: VALUE
  selector: {matchLabels: {app: ingest-gateway}}
  template:
    metadata: {labels: {app: ingest-gateway}}
    spec:
      containers:
        - name: app
          image: registry.automaker.cn/fleet/ingest-gateway:2.4.1
          args: [--rate, VALUE]
"""

NON_FINITE = [".nan", ".NaN", ".inf", "-.inf", "+.Inf", "1.0e+400", "-1.5e+999"]


@pytest.mark.parametrize("value", NON_FINITE)
def test_a_non_finite_number_in_a_manifest_is_bad_input(value: str, tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "m" / "in.yaml", MANIFEST.replace("VALUE", value, 1).replace("VALUE", "1"))
    with pytest.raises(InputError) as info:
        load_manifests(path)
    assert info.value.message == (
        f"{path}: document 2.spec.replicas: expected a finite number (JSON, which Kubernetes and Pulumi read, has "
        f"no NaN or Infinity); found {value} at line 11, column 13")
    out = tmp_path / "out" / "report.json"
    result = run_main(["check", "--manifests", str(path), "--jurisdiction", "cn", "--format", "json",
                       "--output", str(out)])
    assert_bad_input(result, "check", not_written=[out, out.parent])
    assert f"{path}: document 2.spec.replicas: expected a finite number" in result.stderr, result.stderr
    assert "policy pack failed" not in result.stderr


def test_in_a_list_and_as_a_key(tmp_path: Path) -> None:
    path = write_bytes(tmp_path / "in.yaml", MANIFEST.replace("VALUE", "1", 1).replace("VALUE", "-.inf"))
    with pytest.raises(InputError) as info:
        load_manifests(path)
    assert info.value.message.startswith(
        f"{path}: document 2.spec.template.spec.containers[0].args[1]: expected a finite number"), info.value.message
    assert info.value.message.endswith("found -.inf at line 19, column 26"), info.value.message
    with pytest.raises(InputError) as info:
        parse_yaml_documents("a:\n  b:\n    .nan: x\n", "keys.yaml")
    assert info.value.message.startswith("keys.yaml: document 1.a.b: expected a finite number"), info.value.message
    assert info.value.message.endswith("found the key .nan at line 3, column 5"), info.value.message


def test_through_an_alias_the_anchor_is_named() -> None:
    with pytest.raises(InputError) as info:
        parse_yaml_documents("---\nx: 1\n---\nlimits: &l {cpu: .inf}\nrequests: *l\n", "alias.yaml")
    assert info.value.message.startswith("alias.yaml: document 2.limits.cpu: expected a finite number")
    assert info.value.message.endswith("found .inf at line 4, column 18"), info.value.message


def test_finite_floats_still_load() -> None:
    [doc] = parse_yaml_documents("a: [1.5, -0.0, 1e3, 6.02e+23, .5, 1.7976931348623157e+308]\nb: '.nan'\n", "f")
    assert doc["a"][0] == 1.5 and doc["a"][5] == 1.7976931348623157e308 and doc["b"] == ".nan"


def test_a_stack_file_with_infinity_is_bad_input() -> None:
    with project_copy() as root:
        stack = root / "stacks" / "Pulumi.cn-prod.yaml"
        text = stack.read_text(encoding="utf-8")
        write_bytes(stack, text.replace("    kubernetesVersion: \"1.34\"\n",
                                        "    kubernetesVersion: \"1.34\"\n    maxPods: .inf\n", 1))
        result = run_main(["validate", "cn-prod"], root=root)
    assert_bad_input(result, "validate")
    assert "Pulumi.cn-prod.yaml: document 1.config.sovereign-clusters:cluster.maxPods: expected a finite number" \
        in result.stderr, result.stderr


# ------------------------------------------------------------------ objects that did not come from YAML
def _deployment(replicas: Any) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"name": "c", "args": ["x", replicas]}]}}}}


@pytest.mark.parametrize("value", [math.nan, -math.nan, math.inf, -math.inf])
def test_the_encoding_of_plain_manifests_refuses_non_finite_numbers(value: float) -> None:
    """Objects built elsewhere (not by the YAML reader) are checked where manifests are encoded for the pack."""
    with pytest.raises(InputError) as info:
        target_from_manifests("s", "p", "cn", [("f.yaml", 7, _deployment(value))])
    message = info.value.message
    assert message.startswith("f.yaml: document at line 7.spec.template.spec.containers[0].args[1]: expected a "
                              "JSON value"), message
    assert "non-finite number" in message, message


def test_a_huge_integer_is_named_too() -> None:
    with pytest.raises(InputError) as info:
        target_from_manifests("s", "p", "cn", [("f.yaml", 3, _deployment(10**400))])
    assert info.value.message.startswith(
        "f.yaml: document at line 3.spec.template.spec.containers[0].args[1]: expected a JSON value"), \
        info.value.message


def test_finite_objects_are_accepted_as_before() -> None:
    obj = _deployment(2.5)
    target = target_from_manifests("s", "p", "cn", [("f.yaml", 1, obj)])
    assert [r.props for r in target.resources] == [obj]
