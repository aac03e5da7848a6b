"""Facts the rest of the project relies on, read from the real catalog (policies/catalog/)."""

from __future__ import annotations

import ipaddress
import json
from dataclasses import FrozenInstanceError

import jsonschema
import pytest

from sovereign.catalog import Catalog, Decision, ExportMode, default_catalog, load_catalog
from sovereign.core.paths import catalog_dir

PROVIDER_IDS = ("alibaba", "aws", "aws-cn", "aws-eusc", "aws-us-gov", "azure", "azure-china", "azure-us-gov",
                "gcp", "huawei", "tencent")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def test_real_catalog_loads_with_version_and_sorted_ids(catalog: Catalog) -> None:
    assert catalog.version == "2026.12.06"
    assert catalog.as_of.isoformat() == "2026-12-06"
    assert tuple(catalog.jurisdictions) == ("cn", "eu", "hk", "us")
    assert tuple(catalog.providers) == PROVIDER_IDS
    for provider in catalog.providers.values():
        assert list(provider.regions) == sorted(provider.regions)
    assert sum(len(p.regions) for p in catalog.providers.values()) == 244


def test_default_catalog_is_loaded_once_and_equals_a_fresh_load(catalog: Catalog) -> None:
    assert default_catalog() is default_catalog()
    assert default_catalog() == catalog


def test_model_is_immutable(catalog: Catalog) -> None:
    cn = catalog.jurisdictions["cn"]
    with pytest.raises(TypeError):
        catalog.jurisdictions["xx"] = cn  # type: ignore[index]
    with pytest.raises(TypeError):
        cn.regions["aws"] = ("ap-east-1",)  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        cn.name = "changed"  # type: ignore[misc]
    assert isinstance(cn.networks, tuple) and isinstance(cn.domains, tuple)


def test_storage_drivers_per_provider(catalog: Catalog) -> None:
    expected = {
        "aws": ("ebs.csi.aws.com", "topology.ebs.csi.aws.com/zone", "aws"),
        "aws-cn": ("ebs.csi.aws.com", "topology.ebs.csi.aws.com/zone", "aws"),
        "azure": ("disk.csi.azure.com", "topology.disk.csi.azure.com/zone", "azure"),
        "gcp": ("pd.csi.storage.gke.io", "topology.gke.io/zone", "gcp"),
        "alibaba": ("diskplugin.csi.alibabacloud.com", "topology.diskplugin.csi.alibabacloud.com/zone",
                    "alibabacloud"),
        "tencent": ("com.tencent.cloud.csi.cbs", "topology.com.tencent.cloud.csi.cbs/zone", "aws"),
        "huawei": ("disk.csi.everest.io", "topology.kubernetes.io/zone", "huawei"),
    }
    for provider_id, (csi, key, velero) in expected.items():
        provider = catalog.providers[provider_id]
        assert (provider.csi_provisioner, provider.zone_topology_key, provider.object_storage_provider) == (
            csi, key, velero)


def test_mainland_and_hong_kong_are_separate(catalog: Catalog) -> None:
    cn, hk = catalog.jurisdictions["cn"], catalog.jurisdictions["hk"]
    assert "cn-north-1" in cn.regions_for("aws-cn") and "cn-northwest-1" in cn.regions_for("aws-cn")
    assert "ap-east-1" in hk.regions_for("aws")
    assert "cn-hongkong" in hk.regions_for("alibaba")
    assert "cn-hongkong" not in cn.regions_for("alibaba")
    assert catalog.jurisdiction_of_region("alibaba", "cn-hongkong") is hk
    assert catalog.jurisdiction_of_region("aws", "ap-east-1") is hk
    # Region ids are per provider: ap-southeast-1 is Hong Kong on Huawei and Singapore on AWS.
    assert catalog.jurisdiction_of_region("huawei", "ap-southeast-1") is hk
    assert catalog.jurisdiction_of_region("aws", "ap-southeast-1") is None
    assert catalog.providers["aws"].regions["ap-southeast-1"].country == "SG"
    for provider, region in (("azure", "eastasia"), ("gcp", "asia-east2"), ("tencent", "ap-hongkong")):
        assert catalog.jurisdiction_of_region(provider, region) is hk
    industry_clouds = {"cn-shanghai-finance-1", "cn-shenzhen-finance-1", "cn-north-2-gov-1"}
    assert set(cn.regions_for("alibaba")) >= industry_clouds


def test_every_listed_region_is_in_one_of_its_jurisdictions_countries(catalog: Catalog) -> None:
    for jurisdiction in catalog.jurisdictions.values():
        for provider_id, region_ids in jurisdiction.regions.items():
            for region_id in region_ids:
                assert catalog.providers[provider_id].regions[region_id].country in jurisdiction.countries


def test_eu_and_us_cover_sovereign_and_government_clouds(catalog: Catalog) -> None:
    eu, us = catalog.jurisdictions["eu"], catalog.jurisdictions["us"]
    assert eu.regions_for("aws-eusc") == ("eusc-de-east-1",)
    assert len(eu.countries) == 30 and {"IS", "LI", "NO"} <= set(eu.countries) and "CH" not in eu.countries
    assert "eu-central-2" not in eu.regions_for("aws")  # Zurich is not EEA
    assert "eu-west-2" not in eu.regions_for("aws")  # London is not EEA
    assert us.regions_for("aws-us-gov") == ("us-gov-east-1", "us-gov-west-1")
    assert len(us.regions_for("azure-us-gov")) == 5
    assert catalog.jurisdiction_of_region("azure", "westeurope") is eu
    assert catalog.jurisdiction_of_region("gcp", "us-central1") is us


def test_agreed_zones(catalog: Catalog) -> None:
    assert catalog.zones_for("cn", "aws-cn") == ("cn-north-1a", "cn-north-1b", "cn-north-1d",
                                                 "cn-northwest-1a", "cn-northwest-1b", "cn-northwest-1c")
    assert catalog.providers["gcp"].regions["us-central1"].zones == ("us-central1-a", "us-central1-b",
                                                                    "us-central1-c", "us-central1-f")
    assert catalog.providers["azure"].regions["westeurope"].zones == ("westeurope-1", "westeurope-2",
                                                                     "westeurope-3")
    assert len(catalog.providers["alibaba"].regions["cn-beijing"].zones) == 12
    assert catalog.jurisdiction_of_zone("aws", "ap-east-1b") is catalog.jurisdictions["hk"]
    assert catalog.jurisdiction_of_zone("aws", "us-east-1f") is catalog.jurisdictions["us"]
    assert catalog.region_of_zone("aws", "cn-north-1a") is None  # the zone is aws-cn's, not aws's


def test_accelerator_decisions(catalog: Catalog) -> None:
    cn = catalog.jurisdictions["cn"].accelerators
    assert cn.default is Decision.DENY
    assert cn.is_allowed("NVIDIA-H20") and cn.is_allowed("NVIDIA-L20")
    assert not cn.is_allowed("NVIDIA-H100-80GB-HBM3")
    assert not cn.is_allowed("NVIDIA-H100-PCIe")  # by the NVIDIA-H100* glob
    assert cn.rule_for("NVIDIA-H100-PCIe") is not None
    assert not cn.is_allowed("NVIDIA-B200")  # unknown: default deny
    assert cn.rule_for("NVIDIA-B200") is None
    assert cn.allowed_products() == ("NVIDIA-H20", "NVIDIA-L20")
    hk = catalog.jurisdictions["hk"].accelerators
    assert hk.is_allowed("NVIDIA-L20") and not hk.is_allowed("NVIDIA-H20")
    for jurisdiction_id in ("eu", "us"):
        policy = catalog.jurisdictions[jurisdiction_id].accelerators
        assert policy.allowed_products() == ("NVIDIA-A100-SXM4-80GB", "NVIDIA-H100-80GB-HBM3", "NVIDIA-H200",
                                             "NVIDIA-L40S")
        assert not policy.is_allowed("NVIDIA-H20")


def test_every_rule_is_dated_and_sourced(catalog: Catalog) -> None:
    for jurisdiction in catalog.jurisdictions.values():
        provenances = [jurisdiction.provenance, jurisdiction.accelerators.default_provenance]
        provenances += [law.provenance for law in jurisdiction.legal_basis]
        provenances += [rule.provenance for rule in jurisdiction.accelerators.rules]
        provenances += [data_class.provenance for data_class in jurisdiction.data_classes.values()]
        for provenance in provenances:
            assert provenance.as_of <= catalog.as_of
            assert len(provenance.source) >= 3


@pytest.mark.parametrize(
    ("address", "owner"),
    [
        ("10.10.5.1", "cn"), ("10.11.255.255", "cn"), ("fd00:10::1", "cn"), ("10.15.0.1", "hk"),
        ("fd00:15:ab::1", "hk"), ("10.20.5.0/24", "eu"), ("10.21.0.0/16", "eu"), ("10.30.1.1", "us"),
        ("fd00:30::/48", "us"), ("10.12.0.1", None), ("100.64.0.1", None), ("10.0.0.0/8", None),
        ("fd00:11::1", None),
    ],
)
def test_address_attribution(catalog: Catalog, address: str, owner: str | None) -> None:
    parsed = ipaddress.ip_network(address) if "/" in address else ipaddress.ip_address(address)
    jurisdiction = catalog.jurisdiction_of_address(parsed)
    assert (jurisdiction.id if jurisdiction else None) == owner


@pytest.mark.parametrize(
    ("name", "owner"),
    [
        ("automaker.cn", "cn"), ("api.automaker.cn", "cn"), ("s3.cn-north-1.amazonaws.com.cn", "cn"),
        ("x.automaker.hk", "hk"), ("automaker.hk", None), ("s3.eu-central-1.amazonaws.com", "eu"),
        ("bucket.s3.eu-west-1.amazonaws.com", "eu"), ("s3.us-east-1.amazonaws.com", "us"),
        ("api.us-central1.gcp.automaker.us", "us"), ("s3.amazonaws.com", None), ("example.com", None),
        ("notautomaker.cn", None),
    ],
)
def test_domain_attribution(catalog: Catalog, name: str, owner: str | None) -> None:
    jurisdiction = catalog.jurisdiction_of_domain(name)
    assert (jurisdiction.id if jurisdiction else None) == owner


def test_registries(catalog: Catalog) -> None:
    cn = catalog.jurisdictions["cn"]
    assert cn.registry_allowed("registry.automaker.cn")
    assert cn.registry_allowed("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")
    assert not cn.registry_allowed("docker.io")
    assert not cn.registry_allowed("registry.automaker.eu")
    assert catalog.jurisdictions["us"].registry_allowed("us-central1-docker.pkg.dev")


def test_data_class_rules(catalog: Catalog) -> None:
    cn = catalog.jurisdictions["cn"]
    video = cn.data_classes["raw-camera-video"]
    assert video.export is ExportMode.NEVER and video.regulated
    assert not video.may_leave_to("eu", approved=True)
    weights = cn.data_classes["model-weights"]
    assert weights.export is ExportMode.APPROVED_TRANSFER and weights.regulator == "CAC" and weights.regulated
    assert weights.may_leave_to("eu", approved=True)
    assert not weights.may_leave_to("eu", approved=False)
    assert not weights.may_leave_to("us", approved=True)
    assert cn.data_classes["anonymised-aggregates"].may_leave_to("us", approved=False)
    us_weights = catalog.jurisdictions["us"].data_classes["model-weights"]
    assert us_weights.may_leave_to("eu", approved=False) and not us_weights.may_leave_to("cn", approved=False)
    eu = catalog.jurisdictions["eu"]
    assert eu.data_classes["raw-camera-video"].destinations == ("us",)
    assert tuple(eu.data_classes) == tuple(sorted(eu.data_classes))
    assert set(catalog.jurisdictions["hk"].data_classes) == {"raw-camera-video", "model-weights",
                                                             "anonymised-aggregates"}


def test_schema_is_draft_2020_12_and_every_definition_explains_itself() -> None:
    schema = json.loads((catalog_dir() / "catalog.schema.json").read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    for name, definition in schema["$defs"].items():
        assert definition.get("description"), name  # error messages quote these descriptions
        if definition.get("type") == "object":
            assert definition.get("additionalProperties") is not True, name
