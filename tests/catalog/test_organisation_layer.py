"""The two layers and their merge: the organisation file names jurisdictions and legal categories of the public
layer, narrows a category's rule and never widens it, and conflicts with the public layer only where two
jurisdictions would claim the same fact; a public update that repeats the organisation's fact changes nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from catalog_copies import ORG, copy_catalog, edit, load_fails, load_ok, sub_errors

from sovereign.catalog import ExportMode, load_public_layer


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    return copy_catalog(tmp_path)


def messages(directory: Path) -> list[str]:
    return [e.message.replace(str(directory) + "/", "") for e in sub_errors(load_fails(directory))]


def _org_class(doc: dict[str, Any], jurisdiction: str, class_id: str) -> dict[str, Any]:
    return doc["jurisdictions"][jurisdiction]["data_classes"][class_id]  # type: ignore[no-any-return]


def test_the_merged_model_keeps_both_layers_identity_and_the_example_rules(cat: Path) -> None:
    catalog = load_ok(cat)
    assert catalog.version and catalog.organisation.version == "2026.12.06"
    assert catalog.organisation.example and "eu-prod" in catalog.organisation.example_stacks
    eu = catalog.jurisdictions["eu"]
    video = eu.data_classes["raw-camera-video"]
    assert (video.category, video.export, video.destinations) == ("personal-data", ExportMode.APPROVED_TRANSFER,
                                                                 ("us",))
    assert video.provenance == eu.data_categories["personal-data"].provenance  # the legal rule's date and source
    assert "*.eu-central-1.amazonaws.com" in eu.domains and "*.automaker.eu" in eu.domains  # both layers
    assert catalog.jurisdiction_of_domain("s3.eu-central-1.amazonaws.com") is eu
    assert catalog.layers().startswith(f"public {catalog.version} (as of ")


def test_the_public_layer_alone_holds_no_organisation_facts() -> None:
    public = load_public_layer()
    for jur in public.jurisdictions.values():
        assert jur.networks == () and jur.registries == () and dict(jur.data_classes) == {}
        assert jur.data_categories
        assert not any("automaker" in d for d in jur.domains)
    assert public.organisation.path == ""


def test_unknown_jurisdiction_id_in_the_organisation_file(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"].update(uk={"registries": ["registry.example.co.uk"]}))
    assert messages(cat) == ["organisation.yaml: jurisdictions.uk: expected a jurisdiction id of the public layer "
                             "(cn, eu, hk, us); found unknown jurisdiction 'uk'"]


def test_unknown_category(cat: Path) -> None:
    edit(cat, ORG, lambda doc: _org_class(doc, "eu", "model-weights").update(category="trade-secret"))
    assert messages(cat) == ["organisation.yaml: jurisdictions.eu.data_classes.model-weights.category: expected a "
                             "data category of eu in the public layer (non-personal-data, personal-data); found "
                             "unknown category 'trade-secret'"]


def test_an_organisation_narrows_a_rule_and_never_widens_it(cat: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        _org_class(doc, "cn", "raw-camera-video").update(export="free")  # never -> free: wider
        _org_class(doc, "us", "raw-camera-video").update(destinations=["hk"])  # the category allows eu only
        _org_class(doc, "eu", "model-weights").update(export="never")  # free -> never: narrower, fine

    edit(cat, ORG, change)
    assert messages(cat) == [
        "organisation.yaml: jurisdictions.cn.data_classes.raw-camera-video.export: expected 'never' or stricter "
        "(the category 'important-data-localised' allows no more; an organisation narrows a legal rule, never "
        "widens it); found 'free'",
        "organisation.yaml: jurisdictions.us.data_classes.raw-camera-video.destinations[0]: expected a destination "
        "the category 'bulk-sensitive-data' allows (eu); found 'hk'",
    ]


def test_a_stricter_export_mode_is_the_organisations_choice(cat: Path) -> None:
    edit(cat, ORG, lambda doc: _org_class(doc, "eu", "model-weights").update(export="never"))
    weights = load_ok(cat).jurisdictions["eu"].data_classes["model-weights"]
    assert weights.export is ExportMode.NEVER and weights.destinations == ()


def test_a_public_update_repeating_an_organisation_fact_changes_nothing(cat: Path) -> None:
    """The public layer adds a provider endpoint domain the organisation already lists for the same jurisdiction:
    no conflict, one domain in the merged model."""
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["eu"]["domains"].append("*.eu-west-3.amazonaws.com"))
    edit(cat, "jurisdictions/eu.yaml", lambda doc: doc["domains"].append("*.eu-west-3.amazonaws.com"))
    domains = load_ok(cat).jurisdictions["eu"].domains
    assert domains.count("*.eu-west-3.amazonaws.com") == 1


def test_a_conflict_between_the_layers_names_both_files(cat: Path) -> None:
    """The organisation claims for us a name the public layer places in eu."""
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["us"]["domains"].append("*.s3.eu-central-1.amazonaws.com"))
    assert messages(cat) == ["organisation.yaml: jurisdictions.us.domains[2]: expected domains that belong to one "
                             "jurisdiction only; found 'us' '*.s3.eu-central-1.amazonaws.com' overlaps "
                             "'*.eu-central-1.amazonaws.com' of 'eu' domains[0] in jurisdictions/eu.yaml"]


def test_public_facts_are_refused_in_the_organisation_file(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["eu"].update(regions={"aws": ["us-east-1"]}))
    [message] = messages(cat)
    assert message.startswith("organisation.yaml: jurisdictions.eu: expected only the keys data_classes, domains, "
                              "named_networks, networks, registries; found unexpected key(s) 'regions'")


def test_a_jurisdiction_the_organisation_does_not_list_has_no_organisation_facts(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"].pop("hk"))
    hk = load_ok(cat).jurisdictions["hk"]
    assert hk.networks == () and hk.registries == () and dict(hk.data_classes) == {}
    assert set(hk.data_categories) == {"non-personal-data", "personal-data"}


def test_named_networks_are_part_of_the_address_space_and_never_overlap(cat: Path) -> None:
    catalog = load_ok(cat)
    cn = catalog.jurisdictions["cn"]
    uplink = cn.named_networks["fleet-uplink"]
    assert [str(n) for n in uplink.networks] == ["10.13.0.0/16"] and uplink.description
    assert all(net in cn.networks for net in uplink.networks)  # attributed to cn like every other network
    assert catalog.jurisdiction_of_address(uplink.networks[0]) is cn
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["eu"].update(
        named_networks={"ops": {"description": "EU operations", "networks": ["10.13.128.0/17"]}}))
    assert messages(cat) == [
        "organisation.yaml: jurisdictions.eu.named_networks.ops.networks[0]: expected networks that never overlap "
        "(each address belongs to one jurisdiction); found 'eu' 10.13.128.0/17 overlaps 10.13.0.0/16 of 'cn' "
        "jurisdictions.cn.named_networks.fleet-uplink.networks[0]"]


def test_every_provider_with_an_internal_load_balancer_names_its_annotation() -> None:
    """The program renders these; the pack's service-endpoint rule must accept what the program renders."""
    from policies.rules.service_endpoint.rule import INTERNAL_LOAD_BALANCER

    accepted = dict(INTERNAL_LOAD_BALANCER)
    public = load_public_layer()
    assert {p.id for p in public.providers.values() if p.internal_load_balancer} >= {"aws-cn", "aws", "alibaba"}
    for provider in public.providers.values():
        for key, value in provider.internal_load_balancer:
            assert key in accepted and (not accepted[key] or value in accepted[key]), provider.id
