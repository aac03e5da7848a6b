"""Manifests read as kubectl reads them: plain scalars resolved by go-yaml v2's rules (sigs.k8s.io/yaml), not
PyYAML's YAML 1.1 ones; stack files and the catalog keep their reading (sovereign/core/kubectl_scalars.py,
docs/cli.md "Input as kubectl reads it")."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign.check.policy_run import target_from_manifests
from sovereign.core.errors import InputError
from sovereign.core.kubectl_scalars import go_yaml_tag
from sovereign.core.manifests import load_manifests
from sovereign.core.yamlio import parse_yaml_documents

# (plain text, what kubectl reads, what PyYAML's YAML 1.1 reading gives): from go-yaml v2's resolve() (the map of
# exact texts, ParseFloat for a leading ".", ParseInt/ParseUint base 0 without "_", yamlStyleFloat, else a string;
# a timestamp decoded into an untyped value is its text).
AS_KUBECTL: list[tuple[str, Any, Any]] = [
    ("=", "=", None),  # the kube-prometheus CRD: PyYAML cannot construct its `value` tag at all
    ("1:20", "1:20", 80),  # no sexagesimal numbers
    ("190:20:30", "190:20:30", 685230),
    ("1:20.5", "1:20.5", 80.5),
    ("y", True, "y"), ("Y", True, "Y"), ("n", False, "n"), ("N", False, "N"),
    ("yes", True, True), ("No", False, False), ("on", True, True), ("OFF", False, False), ("yEs", "yEs", "yEs"),
    ("0o17", 15, "0o17"), ("0O17", 15, "0O17"),
    ("0777", 511, 511), ("0x1F", 31, 31), ("0b101", 5, 5), ("-0b101", -5, -5), ("1_000", 1000, 1000),
    ("08", 8.0, "08"),  # not octal: Go falls through to the decimal float
    ("1e3", 1000.0, "1e3"), ("1.0e3", 1000.0, "1.0e3"), ("1E-2", 0.01, "1E-2"), ("+.5", 0.5, "+.5"),
    (".5", 0.5, 0.5), (".5e1", 5.0, ".5e1"), ("1.", 1.0, 1.0), ("._5", "._5", "._5"), (".5_0", ".5_0", 0.5),
    ("2024-01-01", "2024-01-01", None), ("2024-01-01T10:00:00Z", "2024-01-01T10:00:00Z", None),
    ("2001-12-14 21:59:43.10 -5", "2001-12-14 21:59:43.10 -5", None),
    ("~", None, None), ("null", None, None), ("NULL", None, None),
    ("9223372036854775807", 9223372036854775807, 9223372036854775807),
    ("18446744073709551615", 18446744073709551615, 18446744073709551615),  # ParseUint
    ("-9223372036854775809", -9.223372036854775809e18, -9223372036854775809),  # the decimal float
    ("+18446744073709551615", 1.8446744073709552e19, 18446744073709551615),  # ParseUint takes no sign
    ("_1", "_1", "_1"), ("-x", "-x", "-x"), ("0x", "0x", "0x"), ("0b2", "0b2", "0b2"),
    ("Infinity", "Infinity", "Infinity"),
    ("10.0.0.0/8", "10.0.0.0/8", "10.0.0.0/8"), ("8080", 8080, 8080),
]


def _kubectl(text: str) -> Any:
    return parse_yaml_documents(f"v: {text}\n", "m.yaml", kubectl=True)[0]["v"]


@pytest.mark.parametrize(("text", "expected", "yaml11"), AS_KUBECTL, ids=[t for t, _, _ in AS_KUBECTL])
def test_a_plain_scalar_reads_as_kubectl_reads_it(text: str, expected: Any, yaml11: Any) -> None:
    found = _kubectl(text)
    assert found == expected and type(found) is type(expected), (text, found)
    assert parse_yaml_documents(f"v: '{text}'\n", "m.yaml", kubectl=True)[0]["v"] == text  # quoted: the text
    assert parse_yaml_documents(f"- {text}\n", "m.yaml", kubectl=True) == [[expected]]  # in a list too
    if yaml11 is not None:  # the reading stack files keep, where it differs (None: PyYAML gives no JSON value)
        assert parse_yaml_documents(f"v: {text}\n", "Pulumi.s.yaml")[0]["v"] == yaml11


def test_stack_files_and_the_catalog_keep_the_yaml_1_1_reading() -> None:
    docs = parse_yaml_documents("a: 1:20\nb: y\nc: 0o17\nd: 1e3\n", "Pulumi.s.yaml")
    assert docs == [{"a": 80, "b": "y", "c": "0o17", "d": "1e3"}]


def test_keys_resolve_the_same_way() -> None:
    # kubectl's JSON conversion writes a boolean key as "true"/"false": `y:` and `n:` are such keys to it
    assert parse_yaml_documents("y: 1\nn: 2\n=: 3\n1:20: 4\n", "m.yaml", kubectl=True) == [
        {True: 1, False: 2, "=": 3, "1:20": 4}]


def test_the_kube_prometheus_crd_parses(tmp_path: Path) -> None:
    crd = tmp_path / "crd.yaml"
    crd.write_text(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
        "metadata: {name: alertmanagerconfigs.monitoring.coreos.com}\n"
        "spec:\n  group: monitoring.coreos.com\n  scope: Namespaced\n  names: {kind: AlertmanagerConfig}\n"
        "  versions:\n  - name: v1alpha1\n    schema:\n      openAPIV3Schema:\n        properties:\n"
        "          matchType:\n            enum:\n            - '!='\n            - =\n            - =~\n"
        "            - '!~'\n            type: string\n")
    [(_file, line, obj)] = load_manifests(crd)
    enum = obj["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["matchType"]["enum"]
    assert (line, enum) == (1, ["!=", "=", "=~", "!~"])


def test_an_unquoted_date_in_a_manifest_is_its_text_for_the_check(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: a, "
                    "creationTimestamp: 2024-01-01T10:00:00Z}\ndata: {since: 2024-01-01}\n")
    docs = load_manifests(path)
    target = target_from_manifests("s", "p", "cn", docs)
    props = target.resources[0].props
    assert props["metadata"]["creationTimestamp"] == "2024-01-01T10:00:00Z"
    assert props["data"] == {"since": "2024-01-01"}


@pytest.mark.parametrize(("document", "problem"), [
    ("v: !!int 1:20\n", "'1:20' is not an integer as kubectl reads YAML (go-yaml v2) at line 1, column 4"),
    ("v: !!bool si\n", "'si' is not a boolean as kubectl reads YAML (go-yaml v2) at line 1, column 4"),
    ("v: !!float 1:20\n", "'1:20' is not a finite number as kubectl reads YAML (go-yaml v2) at line 1, column 4"),
])
def test_an_explicit_tag_kubectl_cannot_decode_is_bad_input(document: str, problem: str) -> None:
    with pytest.raises(InputError) as info:
        parse_yaml_documents(document, "m.yaml", kubectl=True)
    assert info.value.message == f"m.yaml: (top level): expected well-formed YAML; found {problem}"


@pytest.mark.parametrize("text", [".inf", "-.Inf", ".NaN", "1e400", "-1.5e+999"])
def test_a_number_json_cannot_carry_is_still_refused(text: str) -> None:
    with pytest.raises(InputError) as info:
        _kubectl(text)
    assert info.value.message.startswith("m.yaml: document 1.v: expected a finite number")


def test_merge_keys_merge_and_a_key_set_twice_is_refused() -> None:
    base = "a: &x {p: 1, q: 2}\nb:\n  <<: *x\n"
    assert parse_yaml_documents(base + "  r: 3\n", "m.yaml", kubectl=True)[0]["b"] == {"p": 1, "q": 2, "r": 3}
    # go-yaml lets whichever comes later win (the YAML merge spec: the explicit key); refused, never guessed
    for doc in (base + "  p: 3\n", "b:\n  p: 3\n  <<: {p: 1}\n"):
        with pytest.raises(InputError) as info:
            parse_yaml_documents(doc, "m.yaml", kubectl=True)
        assert "duplicate key 'p'" in info.value.message


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_integers_in_every_base_kubectl_takes(value: int) -> None:
    sign = "-" if value < 0 else ""
    for text in (str(value), f"{sign}0x{abs(value):x}", f"{sign}0o{abs(value):o}", f"{sign}0b{abs(value):b}"):
        found = _kubectl(text)
        assert found == value and type(found) is int, text


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_finite_floats_read_back(value: float) -> None:
    text = repr(value)
    found = _kubectl(text)
    assert isinstance(found, float) and (found == value or math.isclose(found, value)), text


@given(st.text(alphabet="0123456789+-._:eExXoObBaf=yYnN~<", min_size=1, max_size=8))
def test_every_plain_text_is_read_as_its_tag_says(text: str) -> None:
    try:
        found = _kubectl(text)
    except InputError as exc:  # a non-finite float, or text YAML cannot hold plain
        assert "finite number" in exc.message or "well-formed YAML" in exc.message
        return
    if isinstance(found, list | dict):
        return  # flow syntax or a merge: not a scalar
    tag = go_yaml_tag(text.strip())
    kinds = {"str": str, "int": int, "float": float, "bool": bool, "null": type(None)}
    kind = tag.rsplit(":", 1)[-1]
    if kind in kinds and text == text.strip():
        assert type(found) is kinds[kind], (text, found, tag)
        if kind == "str":
            assert found == text
