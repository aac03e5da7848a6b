"""One broken catalog per check: each must fail with an InputError naming the file, key path and problem."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalog_copies import ORG, REAL_CATALOG, copy_catalog, edit, load_fails, load_ok, sub_errors

from sovereign.core.errors import InputErrors


@pytest.fixture
def cat(tmp_path: Path) -> Path:
    return copy_catalog(tmp_path)


def only_message(directory: Path) -> str:
    """The single error's message, with the temporary directory stripped for readable asserts."""
    error = load_fails(directory)
    errors = sub_errors(error)
    assert len(errors) == 1, error.message
    return errors[0].message.replace(str(directory) + "/", "")


def test_copy_of_real_catalog_loads(cat: Path) -> None:
    assert load_ok(cat).source_dir == str(cat)


# --- schema layer ---


def test_all_schema_errors_are_collected_with_file_key_path_expected_found(cat: Path) -> None:
    def damage(doc: dict[str, Any]) -> None:
        doc["countries"] = "CN"
        doc["surprise"] = True
        del doc["accelerators"]["rules"][0]["source"]
        doc["data_categories"]["personal-information"]["export"] = "sometimes"

    edit(cat, "jurisdictions/cn.yaml", damage)
    edit(cat, "jurisdictions/hk.yaml", lambda doc: doc.update(name=""))
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["cn"]["networks"].__setitem__(0, 10))
    error = load_fails(cat)
    assert isinstance(error, InputErrors)
    messages = [e.message.replace(str(cat) + "/", "") for e in error.errors]
    assert "jurisdictions/cn.yaml: countries: expected a list; found 'CN' (str)" in messages
    assert any(m.startswith("organisation.yaml: jurisdictions.cn.networks[0]: expected an IPv4 or IPv6 network") and
               m.endswith("found 10 (int)") for m in messages)
    assert any(m.startswith("jurisdictions/cn.yaml: (top level): expected only the keys accelerators, ") and
               "unexpected key(s) 'surprise'" in m for m in messages)
    missing_source = "jurisdictions/cn.yaml: accelerators.rules[0].source: expected required key 'source'"
    assert any(m.startswith(missing_source) for m in messages)
    assert ("jurisdictions/cn.yaml: data_categories.personal-information.export: expected one of 'never', "
            "'approved-transfer', 'free'; found 'sometimes' (str)") in messages
    assert any(m.startswith("jurisdictions/hk.yaml: name: expected a string of at least 1 characters")
               for m in messages)
    assert len(messages) == 6
    assert error.file.endswith("cn.yaml")  # the first error is also the exception's own file


@pytest.mark.parametrize(
    ("where", "path"),
    [
        (lambda doc: doc["accelerators"]["rules"][2], "accelerators.rules[2]"),
        (lambda doc: doc["accelerators"]["default"], "accelerators.default"),
        (lambda doc: doc["data_categories"]["personal-information"], "data_categories.personal-information"),
        (lambda doc: doc["legal_basis"][0], "legal_basis[0]"),
        (lambda doc: doc, ""),
    ],
)
@pytest.mark.parametrize("key", ["as_of", "source"])
def test_rule_without_as_of_or_source(cat: Path, where: Any, path: str, key: str) -> None:
    def drop(doc: dict[str, Any]) -> None:
        del where(doc)[key]

    edit(cat, "jurisdictions/cn.yaml", drop)
    message = only_message(cat)
    key_path = f"{path}.{key}" if path else key
    assert message.startswith(f"jurisdictions/cn.yaml: {key_path}: expected required key {key!r}")
    assert message.endswith("found nothing")


def test_rule_without_source_is_rejected_even_if_the_schema_is_relaxed(cat: Path) -> None:
    schema = json.loads((REAL_CATALOG / "catalog.schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["accelerator_rule"]["required"] = ["product", "decision"]
    (cat / "catalog.schema.json").write_text(json.dumps(schema), encoding="utf-8")

    def drop(doc: dict[str, Any]) -> None:
        del doc["accelerators"]["rules"][0]["source"]

    edit(cat, "jurisdictions/hk.yaml", drop)
    assert only_message(cat) == (
        "jurisdictions/hk.yaml: accelerators.rules[0].source: expected required key 'source' (every rule is "
        "dated and sourced); found nothing"
    )


def test_invalid_date(cat: Path) -> None:
    edit(cat, "jurisdictions/us.yaml", lambda doc: doc["accelerators"]["rules"][1].update(as_of="2026-02-30"))
    assert only_message(cat) == (
        "jurisdictions/us.yaml: accelerators.rules[1].as_of: expected a real calendar date "
        "YYYY-MM-DD; found '2026-02-30'"
    )


def test_unquoted_norway_is_explained(cat: Path) -> None:
    path = cat / "jurisdictions" / "eu.yaml"
    text = path.read_text(encoding="utf-8")
    assert ', "NO",' in text
    path.write_text(text.replace(', "NO",', ", NO,"), encoding="utf-8")
    message = only_message(cat)
    assert message.startswith("jurisdictions/eu.yaml: countries[23]: expected an ISO 3166-1 alpha-2 country")
    assert "found False (boolean) - YAML reads yes/no/on/off/NO as booleans; quote the value" in message


def test_non_string_key(cat: Path) -> None:
    text = 'version: "2026.11.25"\nas_of: 2026-11-25\njurisdictions: [cn, eu, hk, us]\n1: one\n'
    (cat / "catalog.yaml").write_text(text, encoding="utf-8")
    assert only_message(cat) == (
        "catalog.yaml: (top level): expected string keys; found key 1 (int) - quote it"
    )


def test_duplicate_yaml_key_names_the_file(cat: Path) -> None:
    path = cat / "jurisdictions" / "hk.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "\nid: hk\n", encoding="utf-8")
    message = only_message(cat)
    assert message.startswith("jurisdictions/hk.yaml: (top level): expected well-formed YAML; found "
                              "duplicate key 'id' at line")


def test_malformed_yaml_names_the_file(cat: Path) -> None:
    (cat / "providers.yaml").write_text("providers: [unclosed\n", encoding="utf-8")
    assert only_message(cat).startswith("providers.yaml: (top level): expected well-formed YAML")


def test_two_documents_in_one_file(cat: Path) -> None:
    path = cat / "catalog.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "---\nversion: x\n", encoding="utf-8")
    assert only_message(cat) == (
        "catalog.yaml: (top level): expected exactly one YAML document; found 2 documents"
    )


def test_missing_file(cat: Path) -> None:
    (cat / "providers.yaml").unlink()
    message = only_message(cat)
    assert message.startswith("providers.yaml: (top level): expected a readable file")


def test_broken_schema(cat: Path) -> None:
    (cat / "catalog.schema.json").write_text("{not json", encoding="utf-8")
    assert only_message(cat).startswith("catalog.schema.json: (top level): expected valid JSON")
    (cat / "catalog.schema.json").write_text(json.dumps({"$defs": {"catalog_file": {"type": 5}}}),
                                             encoding="utf-8")
    assert "expected a valid JSON Schema (draft 2020-12)" in only_message(cat)
    schema = json.loads((REAL_CATALOG / "catalog.schema.json").read_text(encoding="utf-8"))
    schema["$defs"]["region"]["properties"]["name"] = {"$ref": "#/$defs/nothing"}
    (cat / "catalog.schema.json").write_text(json.dumps(schema), encoding="utf-8")
    assert only_message(cat) == (
        "catalog.schema.json: (top level): expected a usable JSON Schema; found an unresolvable $ref "
        "'/$defs/nothing'"
    )


# --- providers and regions ---


def test_unknown_provider(cat: Path) -> None:
    edit(cat, "jurisdictions/cn.yaml", lambda doc: doc["regions"].update({"oracle": ["cn-beijing"]}))
    message = only_message(cat)
    assert message.startswith("jurisdictions/cn.yaml: regions.oracle: expected a provider of providers.yaml")
    assert message.endswith("found unknown provider 'oracle'")


def test_unknown_region_for_that_provider(cat: Path) -> None:
    # cn-north-1 exists on aws-cn and huawei, but not on the commercial aws partition.
    edit(cat, "jurisdictions/cn.yaml", lambda doc: doc["regions"].update({"aws": ["cn-north-1"]}))
    assert only_message(cat) == (
        "jurisdictions/cn.yaml: regions.aws[0]: expected a region of provider 'aws' in "
        "providers.yaml; found unknown region 'cn-north-1' for provider 'aws'"
    )


def test_region_outside_the_jurisdictions_countries_keeps_hong_kong_out_of_cn(cat: Path) -> None:
    edit(cat, "jurisdictions/hk.yaml", lambda doc: doc["regions"].pop("alibaba"))
    edit(cat, "jurisdictions/cn.yaml", lambda doc: doc["regions"]["alibaba"].append("cn-hongkong"))
    assert only_message(cat) == (
        "jurisdictions/cn.yaml: regions.alibaba[17]: expected a region in one of the jurisdiction's "
        "countries CN; found alibaba cn-hongkong (China (Hong Kong)) is in country HK"
    )


def test_region_claimed_by_two_jurisdictions_names_both(cat: Path) -> None:
    def claim_hk_region(doc: dict[str, Any]) -> None:
        doc["countries"].append("HK")
        doc["regions"]["aws"] = ["ap-east-1"]

    edit(cat, "jurisdictions/cn.yaml", claim_hk_region)
    assert only_message(cat) == (
        "jurisdictions/hk.yaml: regions.aws[0]: expected each region in one jurisdiction only; found "
        "aws ap-east-1 claimed by both 'cn' (cn.yaml) and 'hk' (hk.yaml)"
    )


def test_zone_in_two_regions_and_zone_named_after_another_region(cat: Path) -> None:
    edit(cat, "providers.yaml",
         lambda doc: doc["providers"]["aws"]["regions"]["us-west-2"]["zones"].append("us-east-1a"))
    error = load_fails(cat)
    messages = [e.message.replace(str(cat) + "/", "") for e in sub_errors(error)]
    assert messages == [
        "providers.yaml: providers.aws.regions.us-west-2.zones[4]: expected zones of region 'us-west-2' "
        "named after it (starting with 'us-west-2'); found 'us-east-1a'",
        "providers.yaml: providers.aws.regions.us-west-2.zones[4]: expected each zone in one region only; "
        "'us-east-1a' is already in region 'us-east-1'; found 'us-east-1a'",
    ]


# --- networks and domains ---


def test_networks_overlapping_across_jurisdictions_name_both(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["us"]["networks"].append("10.10.128.0/17"))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.us.networks[2]: expected networks that never overlap (each address "
        "belongs to one jurisdiction); found 'us' 10.10.128.0/17 overlaps 10.10.0.0/16 of 'cn' "
        "jurisdictions.cn.networks[0]"
    )


def test_ipv6_networks_overlapping_across_jurisdictions(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["eu"]["networks"].append("fd00::/16"))
    error = load_fails(cat)
    messages = [e.message for e in sub_errors(error)]
    assert len(messages) == 4  # fd00::/16 covers the cn, eu, hk and us IPv6 ranges
    assert any("'eu' fd00::/16 overlaps fd00:10::/32 of 'cn' jurisdictions.cn.networks[2]" in m for m in messages)
    assert any("'hk' fd00:15::/32 overlaps fd00::/16 of 'eu' jurisdictions.eu.networks[3]" in m for m in messages)


def test_networks_overlapping_inside_one_jurisdiction(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["cn"]["networks"].append("10.11.4.0/24"))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.cn.networks[3]: expected networks that never overlap (each address "
        "belongs to one jurisdiction); found 'cn' 10.11.4.0/24 overlaps 10.11.0.0/16 of this "
        "jurisdiction's jurisdictions.cn.networks[1]"
    )


def test_invalid_cidr(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["hk"]["networks"].append("10.256.0.0/16"))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.hk.networks[2]: expected a valid IPv4 or IPv6 CIDR network; found "
        "'10.256.0.0/16'"
    )


def test_cidr_with_host_bits_set(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["hk"]["networks"].__setitem__(1, "fd00:15::1/32"))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.hk.networks[1]: expected a network address without host bits set (did "
        "you mean fd00:15::/32?); found 'fd00:15::1/32'"
    )


def test_cidr_shape_is_checked_by_the_schema(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["hk"]["networks"].append("10.16.0.0"))
    message = only_message(cat)
    assert message.startswith("organisation.yaml: jurisdictions.hk.networks[2]: expected an IPv4 or IPv6 network "
                              "in CIDR notation (address/prefix) (pattern")


def test_domains_overlapping_across_jurisdictions(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["hk"]["domains"].append("*.s3.cn-north-1.amazonaws.com.cn"))
    assert only_message(cat) == ("organisation.yaml: jurisdictions.hk.domains[1]: expected domains that belong to "
                                 "one jurisdiction only; found 'hk' '*.s3.cn-north-1.amazonaws.com.cn' overlaps "
                                 "'*.amazonaws.com.cn' of 'cn' domains[0] in jurisdictions/cn.yaml")


# --- data classes and accelerators ---


def test_destination_naming_an_unknown_jurisdiction(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["cn"]["data_classes"]["model-weights"].update(
        destinations=["eu", "uk"]))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.cn.data_classes.model-weights.destinations[1]: expected a known "
        "jurisdiction id (cn, eu, hk, us); found unknown jurisdiction 'uk'"
    )


def test_destination_naming_the_jurisdiction_itself(cat: Path) -> None:
    edit(cat, ORG, lambda doc: doc["jurisdictions"]["eu"]["data_classes"]["raw-camera-video"].update(
        destinations=["eu"]))
    assert only_message(cat) == (
        "organisation.yaml: jurisdictions.eu.data_classes.raw-camera-video.destinations[0]: expected another "
        "jurisdiction (staying inside is not an export); found 'eu'"
    )


def test_never_with_destinations(cat: Path) -> None:
    edit(cat, "jurisdictions/cn.yaml",
         lambda doc: doc["data_categories"]["important-data-localised"].update(destinations=["eu"]))
    assert only_message(cat) == (
        "jurisdictions/cn.yaml: data_categories.important-data-localised.destinations: expected no "
        "destinations for export 'never'; found ['eu']"
    )


def test_duplicate_accelerator_products(cat: Path) -> None:
    def duplicate(doc: dict[str, Any]) -> None:
        rule = dict(doc["accelerators"]["rules"][3])  # NVIDIA-H100*, deny
        rule["decision"] = "allow"
        doc["accelerators"]["rules"].append(rule)

    edit(cat, "jurisdictions/cn.yaml", duplicate)
    assert only_message(cat) == (
        "jurisdictions/cn.yaml: accelerators.rules[20].product: expected each product once per vendor; "
        "'NVIDIA-H100*' is already at accelerators.rules[3]; found 'NVIDIA-H100*'"
    )


def test_the_same_product_name_of_another_vendor_is_not_a_duplicate(cat: Path) -> None:
    def other_vendor(doc: dict[str, Any]) -> None:
        rule = dict(doc["accelerators"]["rules"][3])  # NVIDIA-H100*, deny, vendor nvidia
        rule["vendor"] = "amd"
        doc["accelerators"]["rules"].append(rule)

    edit(cat, "jurisdictions/cn.yaml", other_vendor)
    assert load_ok(cat).jurisdictions["cn"].accelerators.rule_for("NVIDIA-H100-SXM", "amd") is not None


def test_an_accelerator_vendor_must_be_in_the_vocabulary(cat: Path) -> None:
    def unknown_vendor(doc: dict[str, Any]) -> None:
        doc["accelerators"]["rules"][0]["vendor"] = "acme"

    edit(cat, "jurisdictions/cn.yaml", unknown_vendor)
    assert only_message(cat).startswith(
        "jurisdictions/cn.yaml: accelerators.rules[0].vendor: expected a vendor of the accelerator vocabulary (amd, ")


def test_unknown_accelerator_decision(cat: Path) -> None:
    edit(cat, "jurisdictions/hk.yaml", lambda doc: doc["accelerators"]["default"].update(decision="maybe"))
    assert only_message(cat) == (
        "jurisdictions/hk.yaml: accelerators.default.decision: expected one of 'allow', 'deny'; found "
        "'maybe' (str)"
    )


# --- jurisdiction ids ---


def test_listed_jurisdiction_without_a_file(cat: Path) -> None:
    edit(cat, "catalog.yaml", lambda doc: doc["jurisdictions"].append("gb"))
    assert only_message(cat) == (
        "catalog.yaml: jurisdictions[4]: expected an id with a file jurisdictions/gb.yaml; found 'gb' "
        "without a file (unknown jurisdiction)"
    )


def test_jurisdiction_file_not_listed(cat: Path) -> None:
    edit(cat, "catalog.yaml", lambda doc: doc["jurisdictions"].remove("hk"))
    assert only_message(cat) == ("jurisdictions/hk.yaml: id: expected a jurisdiction id listed in "
                                 "catalog.yaml (known: cn, eu, us); found 'hk'")


def test_duplicate_id_in_catalog_list(cat: Path) -> None:
    edit(cat, "catalog.yaml", lambda doc: doc["jurisdictions"].append("cn"))
    assert only_message(cat) == (
        "catalog.yaml: jurisdictions[4]: expected each jurisdiction id once; 'cn' is already at "
        "jurisdictions[0]; found 'cn'"
    )


def test_duplicate_jurisdiction_ids_across_files(cat: Path) -> None:
    hk_text = (cat / "jurisdictions" / "hk.yaml").read_text(encoding="utf-8")
    (cat / "jurisdictions" / "hk2.yaml").write_text(hk_text, encoding="utf-8")
    error = load_fails(cat)
    messages = [e.message.replace(str(cat) + "/", "") for e in sub_errors(error)]
    assert ("jurisdictions/hk2.yaml: id: expected the file name's id 'hk2' (jurisdictions/<id>.yaml); "
            "found 'hk'") in messages
    assert ("jurisdictions/hk2.yaml: id: expected a jurisdiction id used by one file only; 'hk' is also the "
            "id in jurisdictions/hk.yaml; found 'hk'") in messages
    assert len(messages) == 2  # the duplicate file is not checked further (no self-overlap noise)


def test_id_must_match_the_file_name(cat: Path) -> None:
    (cat / "jurisdictions" / "us.yaml").rename(cat / "jurisdictions" / "usa.yaml")
    error = load_fails(cat)
    messages = [e.message.replace(str(cat) + "/", "") for e in sub_errors(error)]
    assert messages == [
        "jurisdictions/usa.yaml: id: expected the file name's id 'usa' (jurisdictions/<id>.yaml); found 'us'",
    ]


def test_bad_jurisdiction_id_pattern(cat: Path) -> None:
    edit(cat, "jurisdictions/us.yaml", lambda doc: doc.update(id="US"))
    message = sub_errors(load_fails(cat))[0].message.replace(str(cat) + "/", "")
    assert message.startswith("jurisdictions/us.yaml: id: expected a lowercase id")


def test_no_jurisdiction_files(cat: Path) -> None:
    for path in (cat / "jurisdictions").iterdir():
        path.unlink()
    assert only_message(cat) == (
        "jurisdictions: (top level): expected a directory with one <id>.yaml file per jurisdiction; "
        "found no jurisdiction files"
    )
