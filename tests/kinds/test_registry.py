"""The registry of kinds: it loads, it names only rules the pack has, every rule that judges kinds appears in it,
and a malformed registry is refused with the file and the entry (a wrong registry would open the closed world)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from policies.pack import load_rules
from sovereign.kinds.registry import REGISTRY_DIR, RegistryError, build_registry, default_registry, registry_files

COMPANIONS_AND_STACK_ONLY = {"transfer-expiry-warning", "operable-from-inside"}
"""Rules that judge the stack config (and the Pulumi project and stack files), not kinds."""


def _documents() -> list[tuple[str, Any]]:
    return [(p.name, yaml.safe_load(p.read_text(encoding="utf-8"))) for p in registry_files()]


def test_the_registry_loads_and_knows_the_built_in_kinds() -> None:
    registry = default_registry()
    assert len(registry.kinds) > 300
    for group, kind in (("", "Pod"), ("apps", "Deployment"), ("batch", "CronJob"), ("networking.k8s.io",
                        "NetworkPolicy"), ("", "ConfigMap"), ("rbac.authorization.k8s.io", "Role")):
        assert registry.entry(group, kind) is not None, (group, kind)
    assert registry.entry("core", "Pod") is registry.entry("", "Pod")  # Pulumi type tokens say core


def test_every_rule_the_registry_names_exists_and_every_kind_rule_is_named() -> None:
    registry = default_registry()
    rules = {r.id for r in load_rules()}
    named = registry.all_rule_ids()
    assert named <= rules, f"the registry names rules the pack lacks: {sorted(named - rules)}"
    judges_kinds = rules - COMPANIONS_AND_STACK_ONLY - {"unjudged-object"}
    assert judges_kinds <= named, f"rules no role names: {sorted(judges_kinds - named)}"


def test_inert_and_unjudged_entries_give_a_reason_and_judged_ones_name_a_source() -> None:
    for entry in default_registry().kinds.values():
        if entry.inert is not None or entry.unjudged is not None:
            assert len((entry.inert or entry.unjudged or "").split()) >= 4, entry
        else:
            assert entry.roles and entry.source, entry


def test_no_local_path_in_a_source() -> None:
    for path in REGISTRY_DIR.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        assert "/work/" not in text and "reference/" not in text, path


def _break(mutate: Any) -> str:
    documents = _documents()
    mutate(documents)
    with pytest.raises(RegistryError) as err:
        build_registry(documents)
    return str(err.value)


def _entry(documents: list[tuple[str, Any]], group: str, kind: str) -> dict[str, Any]:
    for _name, doc in documents[1:]:
        for entry in doc["kinds"]:
            if entry["group"] == group and (entry.get("kind") == kind or kind in entry.get("kinds", [])):
                return entry  # type: ignore[no-any-return]
    raise AssertionError((group, kind))


def test_a_duplicate_kind_is_refused() -> None:
    message = _break(lambda docs: docs[1][1]["kinds"].append({"group": "apps", "kind": "Deployment",
                                                               "versions": ["v1"], "inert": "a second entry here"}))
    assert "apps/Deployment is already listed in builtin.yaml" in message


def test_roles_and_inert_together_are_refused() -> None:
    def both(docs: list[tuple[str, Any]]) -> None:
        _entry(docs, "apps", "Deployment")["inert"] = "cannot be both"
    assert "give exactly one of roles, inert" in _break(both)


def test_an_unknown_role_is_refused() -> None:
    def unknown(docs: list[tuple[str, Any]]) -> None:
        _entry(docs, "", "Service")["roles"] = ["teleports-data"]
    assert "unknown role 'teleports-data'" in _break(unknown)


def test_a_bad_path_is_refused() -> None:
    def bad(docs: list[tuple[str, Any]]) -> None:
        _entry(docs, "batch", "Job")["pods"] = [{"at": "spec..template"}]
    assert "has an empty key" in _break(bad)


def test_pods_only_for_kinds_that_make_pods() -> None:
    def pods(docs: list[tuple[str, Any]]) -> None:
        _entry(docs, "", "Service")["pods"] = [{"at": "spec.template"}]
    assert "pods are given only for kinds with role runs-pods or pod-template" in _break(pods)


def test_images_elsewhere_must_name_listed_containers() -> None:
    def stray(docs: list[tuple[str, Any]]) -> None:
        _entry(docs, "serving.kserve.io", "InferenceService")["pods"][0]["imagesElsewhere"] = ["spec.containers[*]"]
    assert "imagesElsewhere: expected paths listed under containers" in _break(stray)


def test_the_connectivity_engine_models_exactly_the_registry_policy_kinds() -> None:
    from sovereign.connectivity.engine import API_OF_KIND, modelled_policy_kinds

    modelled = modelled_policy_kinds()
    assert set(modelled) == set(API_OF_KIND)
    assert modelled["NetworkPolicy"] == "networking.k8s.io" and modelled["CiliumNetworkPolicy"] == "cilium.io"
