"""Requests built from a resource's wire (sovereign/analyzer/props_encoding.py, analyzer session) are the messages
the constructors would build from its ``Struct``, and ``Analyze`` and ``AnalyzeStack`` deliver the same bytes, so
the pack decodes a resource once per process. Plain manifests are encoded once, with bad input named."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from google.protobuf import struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime import proto

import sovereign.analyzer.session as session_module
from sovereign.analyzer.props_encoding import encode_props, props_struct, props_wire
from sovereign.analyzer.resource import AnalyzerResource
from sovereign.analyzer.session import AnalyzerSession
from sovereign.errors import InputError
from sovereign.report.policy_run import target_from_manifests

_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10), st.floats(allow_nan=False), st.text(max_size=5)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=6)),
    max_leaves=25,
)
_props = st.dictionaries(st.text(max_size=8), _json, max_size=12)


class Recording(AnalyzerSession):
    """A session whose RPCs are only recorded (no pack)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, Any]] = []

    def _call(self, method: str, request: Any) -> Any:
        self.sent.append((method, request))
        return proto.AnalyzeResponse() if method != "Remediate" else proto.RemediateResponse()

    def stop(self) -> None:
        return None


def _resource(props: dict[str, Any], provider: bool) -> AnalyzerResource:
    return AnalyzerResource(
        type="kubernetes:core/v1:ConfigMap", name="n", urn="urn:pulumi:s::p::kubernetes:core/v1:ConfigMap::n",
        props=props, parent="urn:parent", dependencies=("urn:a",), property_dependencies={"k": ("urn:a",)},
        provider_urn="urn:pulumi:s::p::pulumi:providers:kubernetes::k8s" if provider else "",
        provider_props={"kubeconfig": "x", "namespace": "team"} if provider else {},
    )


@settings(max_examples=200, deadline=None)
@given(_props, st.booleans())
def test_a_request_is_the_message_its_constructor_builds_from_the_struct(props: dict[str, Any], provider: bool) -> None:
    res = _resource(props, provider)
    session = Recording()
    session.analyze(res)
    expected = proto.AnalyzeRequest(type=res.type, properties=props_struct(props), urn=res.urn, name=res.name,
                                    options=proto.AnalyzerResourceOptions(parent=res.parent))
    if provider:
        expected.provider.CopyFrom(proto.AnalyzerProviderResource(
            type="pulumi:providers:kubernetes", properties=props_struct(res.provider_props), urn=res.provider_urn,
            name="k8s"))
    assert [m for m, _r in session.sent] == ["Remediate", "Analyze"]
    for _method, request in session.sent:
        assert request.SerializeToString() == expected.SerializeToString()


@settings(max_examples=200, deadline=None)
@given(st.lists(_props, min_size=1, max_size=3))
def test_analyze_and_analyze_stack_deliver_the_same_bytes(many: list[dict[str, Any]]) -> None:
    session = Recording()
    resources = [_resource(p, provider=False) for p in many]
    for res in resources:
        session.analyze(res, remediate=False)
    session.analyze_stack(resources)
    analyzed = [type(r).FromString(r.SerializeToString()).properties for m, r in session.sent if m == "Analyze"]
    [stack] = [r for m, r in session.sent if m == "AnalyzeStack"]
    received = type(stack).FromString(stack.SerializeToString())
    assert [p.SerializeToString() for p in analyzed] == [r.properties.SerializeToString() for r in received.resources]


def test_adopted_wires_are_used_and_props_are_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    props = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}
    other = {"apiVersion": "v1", "kind": "ConfigMap", "data": {"c": "d"}}
    encoded: list[Any] = []
    monkeypatch.setattr(session_module, "props_wire", lambda p: encoded.append(p) or props_wire(p))
    session = Recording()
    session.adopt_wires([(props, props_wire(props))])
    session.analyze(_resource(props, provider=False))
    session.analyze(_resource(other, provider=False))
    session.analyze_stack([_resource(props, provider=False), _resource(other, provider=False)])
    assert encoded == [other]


def test_encode_props_gives_the_wire_or_none() -> None:
    assert encode_props({"a": [1, "x"]}) == props_wire({"a": [1, "x"]})
    assert encode_props({"when": object()}) is None
    assert encode_props({"big": 10**400}) is None


DOC = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "team"}}


def test_manifest_targets_take_the_given_wires_for_those_objects_only() -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "team"},
              "stringData": {"token": "secret-value"}}
    docs = [("a.yaml", 1, DOC), ("b.yaml", 1, secret)]
    planted = b"\x0a\x00"  # a wire the target must use as given (it was computed for that very object)
    wires = {id(DOC): (DOC, planted), id(secret): (secret, props_wire(secret))}
    target = target_from_manifests("s", "p", "cn", docs, wires)
    by_kind = {r.props["kind"]: r for r in target.resources}
    assert target.wires[by_kind["ConfigMap"].urn] == planted
    # The Secret's props are masked: its wire is that of the masked props, not of the object given.
    assert target.wires[by_kind["Secret"].urn] == props_wire(by_kind["Secret"].props) != props_wire(secret)
    # An entry for another object with the same id is not taken (it holds its object).
    stale = dict(DOC)
    target = target_from_manifests("s", "p", "cn", [("a.yaml", 1, stale)], {id(stale): (DOC, planted)})
    assert target.wires[target.resources[0].urn] == props_wire(stale)


@pytest.mark.parametrize(("value", "path", "found"), [
    ({"creationTimestamp": datetime.date(2024, 1, 1)}, ("metadata", "creationTimestamp"), "date"),
    ({"labels": {"a": [1, b"\x00"]}}, ("metadata", "labels", "a", 1), "bytes"),
    ({"labels": {("t", 1): "x"}}, ("metadata", "labels", "('t', 1)"), "the key ('t', 1)"),
])
def test_a_value_json_cannot_carry_is_bad_input_with_its_path(value: dict[str, Any], path: tuple[Any, ...],
                                                               found: str) -> None:
    doc = {**DOC, "metadata": {**DOC["metadata"], **value}}
    with pytest.raises(InputError) as raised:
        target_from_manifests("s", "p", "cn", [("dir/x.yaml", 7, doc)])
    assert raised.value.file == "dir/x.yaml" and raised.value.key_path == ("document at line 7", *path)
    assert found in raised.value.message and "JSON" in raised.value.message


def test_json_convertible_keys_stay_accepted() -> None:
    doc = {**DOC, "data": {2: "a", True: "b", None: "c"}}  # JSON turns them into "2", "true", "null"
    target = target_from_manifests("s", "p", "cn", [("x.yaml", 1, doc)])
    received = struct_pb2.Struct.FromString(target.wires[target.resources[0].urn])
    assert sorted(received["data"].keys()) == ["2", "null", "true"]

