"""Unit tests of the render/diff building blocks: URNs, wire values, Check() emulation, CRD schemas, paths."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2

from sovereign.check.policy_run import mask_secret_data, scrub
from sovereign.core.errors import InputError
from sovereign.diff.properties import diff_values
from sovereign.render import urns, wire
from sovereign.render.k8s_check import check_inputs, mark_secret_data
from sovereign.render.recorder import LogEntry, RecordingEngine
from sovereign.render.schemas import crd_scope, validate_object
from sovereign.stackconfig.stack_file import SECRET_PLACEHOLDER, read_stack_config

STACK_URN = "urn:pulumi:cn-prod::proj::pulumi:pulumi:Stack::proj-cn-prod"


def test_engine_urns_skip_the_root_stack_and_keep_the_whole_chain() -> None:
    comp = urns.engine_urn("cn-prod", "proj", STACK_URN, "pkg:index:Cluster", "c")
    assert comp == "urn:pulumi:cn-prod::proj::pkg:index:Cluster::c"
    inner = urns.engine_urn("cn-prod", "proj", comp, "pkg:index:Tenancy", "t")
    leaf = urns.engine_urn("cn-prod", "proj", inner, "kubernetes:core/v1:Namespace", "ns")
    assert leaf == "urn:pulumi:cn-prod::proj::pkg:index:Cluster$pkg:index:Tenancy$kubernetes:core/v1:Namespace::ns"
    # The mock monitor's form differs exactly as docs/pulumi-runtime.md §5.1 says.
    assert urns.mock_urn("cn-prod", "proj", inner, "kubernetes:core/v1:Namespace", "ns") == (
        "urn:pulumi:cn-prod::proj::pkg:index:Tenancy$kubernetes:core/v1:Namespace::ns")
    assert urns.mock_urn("cn-prod", "proj", STACK_URN, "pkg:index:Cluster", "c").count("pulumi:pulumi:Stack$") == 1
    assert urns.urn_name("urn:pulumi:s::p::t::a::b") == "a::b"


@pytest.mark.parametrize(("version", "name"), [
    ("4.34.2", "default_4_34_2"), ("", "default"), ("1.2.3-alpha.1+build5", "default_1_2_3_alpha_1_build5"),
])
def test_default_provider_names(version: str, name: str) -> None:
    assert urns.default_provider_name(version) == name


def test_provider_references_and_ids_are_deterministic() -> None:
    urn = "urn:pulumi:s::p::pulumi:providers:kubernetes::k8s"
    ref = urns.provider_reference(urn, urns.deterministic_id(urn))
    assert urns.split_provider_reference(ref) == (urn, urns.deterministic_id(urn))
    assert urns.deterministic_id(urn) != urns.deterministic_id(urn + "x")
    with pytest.raises(ValueError):
        urns.split_provider_reference("not-a-reference")


def test_wire_values_keep_integers_and_secret_positions() -> None:
    struct = struct_pb2.Struct()
    struct.update({"port": 8443, "ratio": 0.5, "data": {"a": {wire.SIG_KEY: wire.SECRET_SIG, "value": "s3"}}})
    value = wire.struct_to_value(struct)
    assert value["port"] == 8443 and isinstance(value["port"], int) and value["ratio"] == 0.5
    assert wire.redact_secrets(value)["data"] == {"a": "[secret]"}
    assert wire.reveal_secrets(value)["data"] == {"a": "s3"}
    whole = {"stringData": wire.secret({"token": "t", "n": 1})}
    assert wire.redact_secrets(whole) == {"stringData": "[secret]"}
    assert wire.redact_secret_leaves(whole) == {"stringData": {"token": "[secret]", "n": "[secret]"}}


def test_check_emulation_autonames_only_nameless_objects() -> None:
    urn = "urn:pulumi:s::p::kubernetes:core/v1:ConfigMap::cm"
    inputs = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"namespace": "a"}}
    checked = check_inputs("kubernetes:core/v1:ConfigMap", True, urn, "cm", inputs)
    assert checked["metadata"]["name"] == check_inputs("kubernetes:core/v1:ConfigMap", True, urn, "cm",
                                                       inputs)["metadata"]["name"]
    assert checked["metadata"]["name"].startswith("cm-") and "name" not in inputs["metadata"]
    named = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    assert check_inputs("kubernetes:core/v1:ConfigMap", True, urn, "cm", named) is named
    generated = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "x-"}}
    assert check_inputs("kubernetes:core/v1:ConfigMap", True, urn, "cm", generated) is generated
    assert check_inputs("pkg:index:Comp", False, urn, "c", {"kind": "X", "apiVersion": "v1"}) == {
        "kind": "X", "apiVersion": "v1"}


VALID_CRS = [
    {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy", "metadata": {"name": "a"},
     "spec": {"priority": 10, "subject": {"namespaces": {}},
              "egress": [{"name": "deny-world", "action": "Deny", "to": [{"networks": ["0.0.0.0/0", "::/0"]}]}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
     "metadata": {"name": "default"},
     "spec": {"subject": {"pods": {"namespaceSelector": {}, "podSelector": {"matchLabels": {"a": "b"}}}},
              "egress": [{"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}],
                          "ports": [{"portNumber": {"port": 443, "protocol": "TCP"}}]}]}},
    {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "c"},
     "spec": {"tier": "Admin", "priority": 5, "subject": {"namespaces": {"matchLabels": {"x": "y"}}},
              "egress": [{"action": "Accept", "to": [{"domainNames": ["*.automaker.eu"]}],
                          "protocols": [{"tcp": {"destinationPort": {"number": 443}}}]}]}},
    {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "n", "namespace": "a"},
     "spec": {"endpointSelector": {"matchLabels": {"app": "x"}},
              "egress": [{"toFQDNs": [{"matchPattern": "*.automaker.eu"}],
                          "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]},
                         {"toCIDRSet": [{"cidr": "10.20.0.0/16", "except": ["10.20.9.0/24"]}]}]}},
    {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "n"},
     "spec": {"endpointSelector": {}, "egressDeny": [{"toEntities": ["world"]}]}},
    {"apiVersion": "velero.io/v1", "kind": "BackupStorageLocation", "metadata": {"name": "p", "namespace": "velero"},
     "spec": {"provider": "aws", "objectStorage": {"bucket": "b", "prefix": "x"}, "config": {"region": "eu-west-1"},
              "default": True}},
]


@pytest.mark.parametrize("obj", VALID_CRS, ids=lambda o: o["kind"])
def test_vendored_crd_schemas_accept_real_objects(obj: dict) -> None:
    assert validate_object(obj, "1.34") == []


@pytest.mark.parametrize(("index", "mutate", "where"), [
    (0, lambda o: o["spec"]["egress"][0].update(action="Accept"), "spec.egress[0].action"),
    (0, lambda o: o["spec"]["egress"][0]["to"][0].update(namespaces={}), "spec.egress[0].to[0]"),
    (1, lambda o: o["metadata"].update(name="other"), "metadata.name"),
    (2, lambda o: o["spec"].update(tier="Gold"), "spec.tier"),
    (3, lambda o: o["spec"]["egress"][1].update(toCIDRs=["10.0.0.0/8"]), "spec.egress[1]"),
    (4, lambda o: o["spec"]["egressDeny"][0].update(toEntities=["planet"]), "spec.egressDeny[0].toEntities[0]"),
    (5, lambda o: o["spec"]["objectStorage"].pop("bucket"), "spec.objectStorage"),
])
def test_vendored_crd_schemas_reject_mistakes(index: int, mutate: Callable[[dict[str, Any]], object],
                                              where: str) -> None:
    import copy

    obj = copy.deepcopy(VALID_CRS[index])
    mutate(obj)
    problems = validate_object(obj, "1.34")
    assert problems and problems[0].path == where


def test_crd_scopes() -> None:
    assert crd_scope("velero.io/v1", "BackupStorageLocation") == "Namespaced"
    assert crd_scope("policy.networking.k8s.io/v1alpha1", "AdminNetworkPolicy") == "Cluster"
    assert crd_scope("example.com/v1", "Thing") == "Unknown"


def test_builtin_kinds_are_validated_strictly_for_the_cluster_version() -> None:
    ok = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}
    assert validate_object(ok, "1.34") == []
    typo = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "lables": {}}}
    assert validate_object(typo, "1.34")[0].path == "metadata"
    assert "not supported" in validate_object(ok, "1.12")[0].message
    assert "no schema" in validate_object({"apiVersion": "x.io/v1", "kind": "Y", "metadata": {}}, "1.34")[0].message


def test_property_paths_quote_non_identifier_keys() -> None:
    old = {"metadata": {"labels": {"sovereign-clusters.dev/jurisdiction": "cn"}}, "spec": {"egress": [{"a": 1}]}}
    new = {"metadata": {"labels": {"sovereign-clusters.dev/jurisdiction": "eu"}},
           "spec": {"egress": [{"a": 1}, {"b": 2}]}}
    changes = diff_values(old, new)
    assert [(c.path, c.kind) for c in changes] == [
        ('metadata.labels["sovereign-clusters.dev/jurisdiction"]', "update"), ("spec.egress[1]", "add")]


def test_secret_values_are_compared_but_never_shown() -> None:
    old = {"kubeconfig": wire.secret("a"), "same": wire.secret("s"), "placeholder": "[secret]",
           "nested": {"x": wire.secret("gone")}}
    new = {"kubeconfig": wire.secret("b"), "same": wire.secret("s"), "placeholder": "[secret]",
           "nested": {"y": {"z": wire.secret("new-value")}}, "added": "[secret]"}
    changes = diff_values(old, new)
    assert [(c.path, c.kind, c.old, c.new, c.secret) for c in changes] == [
        ("added", "add", None, "[secret]", True),
        ("kubeconfig", "update", "[secret]", "[secret]", True),
        ("nested.x", "delete", "[secret]", None, True),
        ("nested.y", "add", None, {"z": "[secret]"}, False),
    ]
    assert diff_values("[secret]", "plain-now") == [diff_values("[secret]", "plain-now")[0]]
    assert diff_values("[secret]", "plain-now")[0].new == "[secret]"


def test_diff_treats_plain_secret_data_and_provider_kubeconfig_as_secret() -> None:
    from sovereign.diff.resources import comparable_inputs
    from sovereign.render.rendered import Step

    def step(type_: str, inputs: dict[str, Any]) -> Step:
        return Step("create", "urn:pulumi:s::p::" + type_ + "::x", type_, True, inputs, "", "", (), {})

    provider = step("pulumi:providers:kubernetes", {"kubeconfig": "plain", "renderYamlToDirectory": "d"})
    assert comparable_inputs(provider) == {"kubeconfig": wire.secret("plain"), "renderYamlToDirectory": "d"}
    sec = step("kubernetes:core/v1:Secret", {"apiVersion": "v1", "kind": "Secret", "data": {"a": "b", "c": ["d"]}})
    assert comparable_inputs(sec)["data"] == {"a": wire.secret("b"), "c": [wire.secret("d")]}
    config_map = step("kubernetes:core/v1:ConfigMap", {"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}})
    assert comparable_inputs(config_map) is config_map.inputs


def test_check_emulation_marks_secret_data_secret() -> None:
    urn = "urn:pulumi:s::p::kubernetes:core/v1:Secret::s"
    inputs = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "Opaque",
              "stringData": {"token": "t", "other": wire.secret("o")}, "data": {"k": "dg=="}}
    checked = check_inputs("kubernetes:core/v1:Secret", True, urn, "s", inputs)
    assert checked["stringData"] == wire.secret({"token": "t", "other": "o"})
    assert checked["data"] == wire.secret({"k": "dg=="}) and checked["type"] == "Opaque"
    assert wire.redact_secrets(checked)["stringData"] == "[secret]"
    assert mark_secret_data(checked) == checked  # idempotent
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    assert mark_secret_data(config_map) is config_map


def test_pack_input_masks_secret_data_and_findings_never_quote_it() -> None:
    found: set[str] = set()
    obj = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
           "stringData": {"token": "plain-token"}, "data": {"key": "cGxhaW4ta2V5"}}  # base64("plain-key")
    masked = mask_secret_data(obj, found)
    assert masked["stringData"] == {"token": "[secret]"} and masked["data"] == {"key": "[secret]"}
    assert obj["stringData"] == {"token": "plain-token"}  # the caller's object is left alone
    assert found == {"plain-token", "cGxhaW4ta2V5", "plain-key"}
    assert scrub("env TOKEN=plain-token, key plain-key", frozenset(found)) == "env TOKEN=[secret], key [secret]"
    assert scrub("a b", frozenset({"a"})) == "a b"  # too short to scrub safely
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "data": {"x": "y"}}
    assert mask_secret_data(deployment, found) is deployment


def test_engine_records_program_log_messages_with_severity_and_urn() -> None:
    from pulumi.runtime.proto import engine_pb2

    engine = RecordingEngine()
    for severity, message, urn in ((engine_pb2.WARNING, "w", "urn:x"), (engine_pb2.DEBUG, "d", ""),
                                   (engine_pb2.ERROR, "e", ""), (engine_pb2.INFO, "i", "")):
        engine.Log(engine_pb2.LogRequest(severity=severity, message=message, urn=urn))
    assert sorted(engine.entries) == [LogEntry("", "error", "e"), LogEntry("", "info", "i"),
                                      LogEntry("urn:x", "warning", "w")]


def test_stack_file_config_as_the_language_host_passes_it(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  ns:plain: text\n  ns:num: 3\n  ns:flag: true\n  ns:obj: {b: 1, a: [x]}\n"
                    "  ns:token:\n    secure: v1:abc\n  ns:nested: {inner: {secure: v1:def}, other: 1}\n")
    cfg = read_stack_config(path)
    assert cfg.values["ns:plain"] == "text" and cfg.values["ns:num"] == "3" and cfg.values["ns:flag"] == "true"
    assert cfg.values["ns:obj"] == '{"a":["x"],"b":1}'
    assert cfg.values["ns:token"] == SECRET_PLACEHOLDER
    assert cfg.secret_keys == {"ns:token", "ns:nested"}
    assert cfg.display()["ns:nested"] == "[secret]" and cfg.display()["ns:plain"] == "text"
    path.write_text("config:\n  nonamespace: 1\n")
    with pytest.raises(InputError) as err:
        read_stack_config(path)
    assert err.value.key_path == ("config", "nonamespace")
