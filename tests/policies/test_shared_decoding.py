"""The in-process transport's shared decoding gives the servicer what pulumi_policy's own decoding gives it.

``_SharedDecoding`` (sovereign/analyzer/in_process.py) hands a resource's decoded dict itself to the servicer where
the library would build a plain copy of it (no signature key on the wire), and skips ``Remediate``'s secrets tree
when no policy remediates. Here: random properties (secrets, assets, archives, the signature text inside values,
unknown sentinels) through both decodings; and a pack that remediates, over gRPC and in process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import deserialize as library

from sovereign.analyzer import PolicyPackProcess, resource_from_manifest
from sovereign.analyzer.in_process import _SIG_KEY_BYTES, InProcessPolicyPack, _remediates, _SharedDecoding
from sovereign.analyzer.props_encoding import props_struct as _struct
from sovereign.paths import project_root
from sovereign.render.wire import UNKNOWN

SIG = library.SPECIAL_SIG_KEY


def test_the_signature_bytes_are_the_librarys_key() -> None:
    assert SIG.encode() == _SIG_KEY_BYTES


_leaves = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=6), st.just(UNKNOWN),
    st.just(f"text with {SIG} inside"),
)
_special = st.one_of(
    st.builds(lambda v: {SIG: library.SPECIAL_SECRET_SIG, "value": v}, _leaves),
    st.builds(lambda t: {SIG: library.SPECIAL_ASSET_SIG, "text": t}, st.text(max_size=4)),
    st.builds(lambda p: {SIG: library.SPECIAL_ARCHIVE_SIG, "path": p}, st.text(max_size=4)),
)


def _props(signed: bool) -> Any:
    leaves = st.one_of(_leaves, _special) if signed else _leaves
    tree = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=4), inner, max_size=3)),
                        max_leaves=12)
    return st.dictionaries(st.text(max_size=5), tree, max_size=4)


def _received(props: dict[str, Any]) -> Any:
    """The properties as the servicer gets them: the session's Struct, through the wire."""
    return struct_pb2.Struct.FromString(_struct(props).SerializeToString())


def _shape(value: Any) -> Any:
    """Types, key order and values, through proxies, secrets and assets (which have no ``==``)."""
    if isinstance(value, dict) or type(value).__name__ in ("_DictSecretsProxy",):
        target = value["__target"] if not isinstance(value, dict) else value
        return (type(value).__name__, [(k, _shape(target[k])) for k in target])
    if isinstance(value, list) or type(value).__name__ in ("_ListSecretsProxy",):
        target = value["__target"] if not isinstance(value, list) else value
        return (type(value).__name__, [_shape(v) for v in target])
    if type(value).__module__.startswith("pulumi"):
        return (type(value).__name__, sorted((k, _shape(v)) for k, v in vars(value).items()
                                             if not k.startswith("_") or k in ("_value",)))
    return (type(value).__name__, value)


def _resource_rpc_decoding(remediation_unused: bool) -> _SharedDecoding:
    """The shared decoding as a resource RPC (Remediate, Analyze, AnalyzeStack) installs it."""
    shared = _SharedDecoding(json_format, library.deserialize_properties)
    shared.lasting, shared.remediation_unused = True, remediation_unused
    return shared


def _library_view(struct: Any, proxy_secrets: bool) -> Any:
    return library.deserialize_properties(json_format.MessageToDict(struct), proxy_secrets)


def _shared_view(shared: _SharedDecoding, struct: Any, proxy_secrets: bool) -> tuple[Any, Any]:
    decoded = shared.MessageToDict(struct)
    return decoded, shared.deserialize_properties(decoded, proxy_secrets)


@settings(max_examples=250, deadline=None)
@given(_props(signed=True), st.booleans())
def test_analyze_gets_the_librarys_tree(props: dict[str, Any], unused: bool) -> None:
    struct = _received(props)
    shared = _resource_rpc_decoding(remediation_unused=unused)
    try:
        expected = _shape(_library_view(struct, False))
    except Exception as exc:  # noqa: BLE001 - an invalid signature object: the same error either way
        with pytest.raises(type(exc)):
            _shared_view(shared, struct, False)
        return
    for _ in range(2):  # the second time from the session's caches
        decoded, tree = _shared_view(shared, struct, False)
        assert _shape(tree) == expected
        assert (tree is decoded) == (_SIG_KEY_BYTES not in struct.SerializeToString())


@settings(max_examples=250, deadline=None)
@given(_props(signed=True))
def test_remediate_gets_the_librarys_secrets_tree_whenever_a_policy_remediates(props: dict[str, Any]) -> None:
    struct = _received(props)
    shared = _resource_rpc_decoding(remediation_unused=False)
    try:
        expected = _shape(_library_view(struct, True))
    except Exception:  # noqa: BLE001 - an invalid signature object
        return
    _decoded, tree = _shared_view(shared, struct, True)
    assert _shape(tree) == expected and type(tree).__name__ == "_DictSecretsProxy"


@settings(max_examples=150, deadline=None)
@given(_props(signed=True))
def test_remediate_skips_the_tree_only_when_nothing_reads_it_and_nothing_can_fail(props: dict[str, Any]) -> None:
    struct = _received(props)
    shared = _resource_rpc_decoding(remediation_unused=True)
    signed = _SIG_KEY_BYTES in struct.SerializeToString()
    if signed:
        try:
            expected = _shape(_library_view(struct, True))
        except Exception as exc:  # noqa: BLE001 - the library's error, raised here too
            with pytest.raises(type(exc)):
                _shared_view(shared, struct, True)
            return
        assert _shape(_shared_view(shared, struct, True)[1]) == expected
    else:
        decoded, tree = _shared_view(shared, struct, True)
        assert tree is decoded


REMEDIATING_PACK = '''
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy

def add_label(args):
    props = args.props
    labels = dict(props["metadata"].get("labels") or {})
    labels["fixed-by"] = "pack:" + str(props["spec"]["region"])
    labels["tree"] = type(props).__name__  # the secrets tree the servicer built, as a remediation sees it
    props["metadata"]["labels"] = labels
    return props

def check_label(args, report):
    labels = args.props["metadata"].get("labels") or {}
    if "fixed-by" not in labels:
        report("not remediated")
    if isinstance(args.props["spec"].get("token"), str) and "secret" in args.props["spec"]["token"]:
        report("token seen: " + args.props["spec"]["token"])

PolicyPack("remediating", [
    ResourceValidationPolicy("label", "adds a label", remediate=add_label,
                             enforcement_level=EnforcementLevel.REMEDIATE),
    ResourceValidationPolicy("labelled", "checks the label", check_label, EnforcementLevel.MANDATORY),
])
'''


def _observed(pack: Any, objects: list[dict[str, Any]], config: dict[str, Any]) -> list[Any]:
    pack.configure(config)
    if isinstance(pack, InProcessPolicyPack):
        assert _remediates(pack._servicer) == (config == {})
    out = []
    for obj in objects:
        res = resource_from_manifest(obj, stack="s")
        props, notes = pack.remediate(res)
        out.append((props, [(d.policy_name, d.message) for d in notes],
                    sorted((d.policy_name, d.message, d.enforcement_level) for d in pack.analyze(res))))
    return out


@pytest.mark.parametrize("config", [{}, {"label": {"enforcementLevel": "advisory"}}],
                         ids=["remediating", "remediation-configured-off"])
def test_a_remediating_pack_answers_alike_over_grpc_and_in_process(tmp_path: Path, config: dict[str, Any]) -> None:
    (tmp_path / "PulumiPolicy.yaml").write_text(
        f"runtime:\n  name: python\n  options:\n    virtualenv: {project_root() / '.venv'}\n")
    (tmp_path / "__main__.py").write_text(REMEDIATING_PACK)
    objects = [
        {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "plain"}, "spec": {"region": "eu"}},
        {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": "secret", "labels": {"a": "b"}},
         "spec": {"region": "cn", "token": {SIG: library.SPECIAL_SECRET_SIG, "value": "the secret"}}},
    ]
    with PolicyPackProcess.start(tmp_path, stack_config={}) as pack:
        over_grpc = _observed(pack, objects, config)
    with InProcessPolicyPack.start(tmp_path, stack_config={}) as pack:
        in_process = _observed(pack, objects, config)
    assert in_process == over_grpc
    remediated = config == {}
    assert all(("fixed-by" in str(props)) == remediated for props, _n, _d in in_process)
    if remediated:
        assert all(props["metadata"]["labels"]["tree"] == "_DictSecretsProxy" for props, _n, _d in in_process)


def test_the_shipped_pack_remediates_nothing() -> None:
    with InProcessPolicyPack.start(project_root() / "policies", stack_config={
            "sovereign-clusters:jurisdiction": "cn"}) as pack:
        pack.configure({})
        assert not _remediates(pack._servicer)
