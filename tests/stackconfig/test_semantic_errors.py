"""Catalog checks: one negative test per semantic rule, on a mutated copy of an example stack.

Expected texts that name catalog facts (regions, rules, sources) are read from the catalog, not written here.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from stackconfig_support import assert_error, catalog, example_values, parse, source_file

from sovereign.core.errors import InputError

Values = dict[str, Any]


def rejected(stack: str, mutate: Callable[[Values], None]) -> InputError:
    values = example_values(stack)
    mutate(values)
    with pytest.raises(InputError) as info:
        parse(values, stack=stack)
    return info.value


def workload(values: Values, ref: str) -> dict[str, Any]:
    namespace, name = ref.split("/")
    (match,) = [w for w in values["workloads"] if (w["namespace"], w["name"]) == (namespace, name)]
    return match


CN = source_file("cn-prod")
EU = source_file("eu-prod")
TRAINER = "sovereign-clusters:workloads[3]"  # training/trainer in cn-prod
TRANSFER = "sovereign-clusters:transfers[0]"


# ------------------------------------------------------------------------------------------ jurisdiction


def test_unknown_jurisdiction() -> None:
    exc = rejected("cn-prod", lambda v: v.update(jurisdiction="mars"))
    known = ", ".join(sorted(catalog().jurisdictions))
    assert_error(exc, CN, "sovereign-clusters:jurisdiction", f"a jurisdiction of the catalog: {known}", "'mars'")


def test_unknown_provider() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(provider="aws-mars"))
    assert_error(exc, CN, "sovereign-clusters:cluster.provider", "a provider of the catalog: ", "'aws-mars'")


# ------------------------------------------------------------------------------------------------ cluster


def test_region_of_another_jurisdiction_says_which() -> None:
    def mutate(v: Values) -> None:
        v["cluster"]["regions"] = ["eu-central-1", "ap-east-1"]
        v["cluster"]["zones"] = ["eu-central-1a"]

    exc = rejected("eu-prod", mutate)
    allowed = ", ".join(catalog().jurisdiction("eu").regions_for("aws"))  # type: ignore[union-attr]
    assert_error(
        exc,
        EU,
        "sovereign-clusters:cluster.regions[1]",
        f"a region of eu on provider aws: {allowed}",
        "ap-east-1 belongs to hk",
    )


def test_region_outside_every_jurisdiction() -> None:
    def mutate(v: Values) -> None:
        v["cluster"]["regions"] = ["eu-central-1", "af-south-1"]
        v["cluster"]["zones"] = ["eu-central-1a"]

    exc = rejected("eu-prod", mutate)
    region = catalog().provider("aws").region("af-south-1")  # type: ignore[union-attr]
    assert region is not None
    assert_error(
        exc,
        EU,
        "sovereign-clusters:cluster.regions[1]",
        "a region of eu on provider aws",
        f"af-south-1 is a region of aws in {region.country}, outside eu",
    )


def test_unknown_region() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(regions=["cn-north-1", "cn-south-9"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.regions[1]",
        "a region of cn on provider aws-cn",
        "'cn-south-9', not a region of provider aws-cn",
    )


def test_zone_outside_the_cluster_regions() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(regions=["cn-north-1"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.zones[3]",
        "a zone of the cluster's regions cn-north-1",
        "cn-northwest-1a is a zone of cn-northwest-1, not one of the cluster's regions",
    )


def test_unknown_zone() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"]["zones"].append("cn-north-1z"))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.zones[6]",
        "a zone of the cluster's regions",
        "'cn-north-1z', not a zone of provider aws-cn",
    )


def test_pod_cidr_overlapping_another_jurisdictions_network() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(podCidrs=["10.20.0.0/17"]))
    eu_net = next(n for n in catalog().jurisdiction("eu").networks if n.version == 4)  # type: ignore[union-attr]
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.podCidrs[0]",
        "overlaps no catalog network of another",
        f"10.20.0.0/17 overlaps {eu_net}, a network of eu",
    )


def test_service_cidr_overlapping_another_jurisdictions_network() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(serviceCidrs=["100.65.0.0/16", "fd00:30::/108"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.serviceCidrs[1]",
        "overlaps no catalog network",
        "a network of us",
    )


def test_two_cidrs_of_one_family() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(podCidrs=["100.64.0.0/16", "100.80.0.0/16"]))
    assert_error(exc, CN, "sovereign-clusters:cluster.podCidrs", "at most one IPv4 and one IPv6 network")


def test_pod_and_service_networks_overlap() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(serviceCidrs=["100.64.128.0/20"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:cluster.podCidrs[0]",
        "apart from the service networks",
        "100.64.0.0/16 overlaps service network 100.64.128.0/20",
    )


def test_cidr_with_host_bits() -> None:
    exc = rejected("cn-prod", lambda v: v["cluster"].update(podCidrs=["100.64.0.1/16"]))
    assert_error(exc, CN, "sovereign-clusters:cluster.podCidrs[0]", "host bits zero", "100.64.0.1/16")


# ------------------------------------------------------------------------------- tenants, data classes


def test_unknown_data_class() -> None:
    exc = rejected("cn-prod", lambda v: v["tenants"][0]["dataClasses"].append("biometrics"))
    known = ", ".join(catalog().jurisdiction("cn").data_classes)  # type: ignore[union-attr]
    assert_error(
        exc,
        CN,
        "sovereign-clusters:tenants[0].dataClasses[2]",
        f"a data class of cn: {known}",
        "'biometrics'",
    )


def test_data_class_unknown_in_this_jurisdiction_only() -> None:
    # hk's catalog has no vehicle-trajectory class; the ids are per jurisdiction.
    hk = catalog().jurisdiction("hk")
    assert hk is not None and hk.data_class("vehicle-trajectory") is None

    def mutate(v: Values) -> None:
        v["jurisdiction"] = "hk"
        v["cluster"].update(provider="aws", regions=["ap-east-1"], zones=["ap-east-1a"])

    exc = rejected("cn-prod", mutate)
    assert_error(exc, CN, "sovereign-clusters:tenants[0].dataClasses[1]", "a data class of hk", "'vehicle-trajectory'")


def test_duplicate_tenant() -> None:
    exc = rejected("cn-prod", lambda v: v["tenants"].append(dict(v["tenants"][0])))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:tenants[4].namespace",
        "a unique tenant namespace",
        "'fleet-ingest', already used at index 0",
    )


def test_workload_namespace_is_not_a_tenant() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0].update(namespace="marketing"))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].namespace",
        "a tenant namespace of this stack: fleet-ingest, labelling, training, model-registry",
        "'marketing'",
    )


def test_workload_data_class_not_held_by_its_tenant() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["reads"].append("raw-camera-video"))
    assert_error(
        exc,
        CN,
        f"{TRAINER}.reads[1]",
        "a data class tenant training holds: labelled-frames, model-weights",
        "'raw-camera-video'",
    )


# -------------------------------------------------------------------------------------------- workloads


def test_duplicate_workload() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"].append(dict(v["workloads"][0])))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[5].name",
        "a unique workload namespace/name",
        "'fleet-ingest/ingest-gateway', already used at index 0",
    )


def test_image_registry_not_allowed() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0].update(image="docker.io/library/nginx:1.27"))
    registries = ", ".join(catalog().jurisdiction("cn").registries)  # type: ignore[union-attr]
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].image",
        f"a registry allowed in cn: {registries}",
        "(registry docker.io)",
    )


def test_image_registry_of_another_jurisdiction() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0].update(image="registry.automaker.eu:5000/fleet/gw:1"))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].image",
        "a registry allowed in cn",
        "(registry registry.automaker.eu)",
    )


def test_accelerator_denied_by_an_explicit_rule_quotes_as_of_and_source() -> None:
    product = "NVIDIA-H100-80GB-HBM3"
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["accelerator"].update(product=product))
    policy = catalog().jurisdiction("cn").accelerators  # type: ignore[union-attr]
    rule = policy.rule_for(product)
    assert rule is not None
    allowed = ", ".join(policy.allowed_products())
    error = assert_error(
        exc,
        CN,
        f"{TRAINER}.accelerator.product",
        f"an accelerator allowed in cn: {allowed}",
        f"denied in cn by catalog rule '{rule.product}'",
    )
    assert f"as of {rule.provenance.as_of.isoformat()}" in error.found
    assert rule.provenance.source in error.found


def test_accelerator_denied_by_a_glob_rule() -> None:
    exc = rejected(
        "cn-prod", lambda v: workload(v, "training/trainer")["accelerator"].update(product="NVIDIA-A800-80GB")
    )
    rule = catalog().jurisdiction("cn").accelerators.rule_for("NVIDIA-A800-80GB")  # type: ignore[union-attr]
    assert rule is not None and "*" in rule.product
    assert_error(
        exc,
        CN,
        f"{TRAINER}.accelerator.product",
        "an accelerator allowed in cn",
        f"by catalog rule '{rule.product}' (as of {rule.provenance.as_of.isoformat()}",
    )


def test_accelerator_unlisted_falls_to_the_default_with_its_provenance() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["accelerator"].update(product="NVIDIA-B200"))
    default = catalog().jurisdiction("cn").accelerators.default_provenance  # type: ignore[union-attr]
    error = assert_error(
        exc,
        CN,
        f"{TRAINER}.accelerator.product",
        "an accelerator allowed in cn",
        "'NVIDIA-B200', not listed for cn: default deny",
    )
    assert default.source in error.found and default.as_of.isoformat() in error.found


def test_accelerator_allowed_elsewhere_is_denied_here() -> None:
    exc = rejected("eu-prod", lambda v: workload(v, "training/trainer")["accelerator"].update(product="NVIDIA-H20"))
    assert_error(exc, EU, f"{TRAINER}.accelerator.product", "an accelerator allowed in eu", "'NVIDIA-H20'")


def test_unknown_volume_tier() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["volumes"][0].update(tier="nvme"))
    assert_error(
        exc,
        CN,
        f"{TRAINER}.volumes[0].tier",
        "a storage tier of this stack: regulated-ssd, scratch",
        "'nvme'",
    )


def test_duplicate_storage_tier() -> None:
    exc = rejected("cn-prod", lambda v: v["storage"][1].update(name="regulated-ssd"))
    assert_error(exc, CN, "sovereign-clusters:storage[1].name", "a unique storage tier name", "'regulated-ssd'")


def test_duplicate_port_and_volume_names() -> None:
    def mutate(v: Values) -> None:
        registry = workload(v, "model-registry/registry")
        registry["ports"].append({"name": "http", "port": 9090})
        registry["volumes"].append({"name": "models", "tier": "scratch", "size": "1Gi", "mountPath": "/tmp/x"})

    exc = rejected("cn-prod", mutate)
    base = "sovereign-clusters:workloads[4]"
    assert_error(exc, CN, f"{base}.ports[1].name", "a unique port name", "'http'")
    assert_error(exc, CN, f"{base}.volumes[1].name", "a unique volume name", "'models'")


def test_ingress_from_unknown_workload() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "model-registry/registry")["ingressFrom"].append("training/ghost"))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[4].ingressFrom[1]",
        "a workload of this stack",
        "'training/ghost'",
    )


# ----------------------------------------------------------------------------------------------- egress


def test_egress_cidr_of_another_jurisdiction_points_to_transfers() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0]["egress"][0].update(cidrs=["10.20.5.0/24"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].egress[0].cidrs[0]",
        "a network inside cn's catalog networks",
        "10.20.5.0/24 (a network of eu)",
    )
    error = assert_error(exc, CN, "sovereign-clusters:workloads[0].egress[0].cidrs[0]", "sovereign-clusters:transfers")
    assert "egress needs stay in the jurisdiction" in error.expected


def test_egress_cidr_outside_every_jurisdiction() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0]["egress"][0].update(cidrs=["0.0.0.0/0"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].egress[0].cidrs[0]",
        "inside cn's catalog networks",
        "0.0.0.0/0 (outside the networks of cn)",
    )


def test_egress_domain_not_of_the_jurisdiction() -> None:
    exc = rejected(
        "cn-prod", lambda v: v["workloads"][0]["egress"][1].update(domains=["s3.eu-central-1.amazonaws.com"])
    )
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].egress[1].domains[0]",
        "a domain of cn",
        "'s3.eu-central-1.amazonaws.com' (a domain of eu)",
    )


def test_egress_domain_of_nobody() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0]["egress"][1].update(domains=["api.openai.com"]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].egress[1].domains[0]",
        "a domain of cn",
        "'api.openai.com' (not a domain of cn)",
    )


def test_egress_to_unknown_workload() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["egress"][1].update(workload="models/registry"))
    assert_error(exc, CN, f"{TRAINER}.egress[1].workload", "a workload of this stack", "'models/registry'")


def test_egress_to_a_port_the_workload_does_not_expose() -> None:
    exc = rejected("cn-prod", lambda v: workload(v, "training/trainer")["egress"][1].update(ports=[{"port": 5432}]))
    assert_error(
        exc,
        CN,
        f"{TRAINER}.egress[1].ports[0]",
        "a port model-registry/registry exposes: 8080/TCP",
        "5432/TCP",
    )


def test_end_port_below_port() -> None:
    exc = rejected("cn-prod", lambda v: v["workloads"][0]["egress"][0].update(ports=[{"port": 443, "endPort": 80}]))
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[0].egress[0].ports[0].endPort",
        "an endPort of at least port 443",
        "80",
    )


# ---------------------------------------------------------------------------------------------- backups


def test_backup_region_of_another_jurisdiction() -> None:
    exc = rejected("eu-prod", lambda v: v["backups"][0].update(region="us-east-1"))
    assert_error(
        exc,
        EU,
        "sovereign-clusters:backups[0].region",
        "a region of eu on provider aws",
        "us-east-1 belongs to us",
    )


def test_two_default_backup_locations() -> None:
    exc = rejected("eu-prod", lambda v: v["backups"][1].update(default=True))
    assert_error(
        exc,
        EU,
        "sovereign-clusters:backups[1].default",
        "at most one default backup location",
        "the first is 'primary'",
    )


def test_duplicate_backup_and_unknown_backup_data_class() -> None:
    def mutate(v: Values) -> None:
        v["backups"][1]["name"] = "primary"
        v["backups"][1]["dataClasses"] = ["health-records"]

    exc = rejected("eu-prod", mutate)
    assert_error(exc, EU, "sovereign-clusters:backups[1].name", "a unique backup location name", "'primary'")
    assert_error(exc, EU, "sovereign-clusters:backups[1].dataClasses[0]", "a data class of eu", "'health-records'")


# -------------------------------------------------------------------------------------------- transfers


def test_transfer_unknown_source_workload() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0].update(sourceWorkloads=["training/trainer", "x/y"]))
    assert_error(exc, CN, f"{TRANSFER}.sourceWorkloads[1]", "a workload of this stack", "'x/y'")


def test_transfer_to_unknown_jurisdiction() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0]["destination"].update(jurisdiction="atlantis"))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.destination.jurisdiction",
        "another jurisdiction of the catalog: eu, hk, us",
        "'atlantis'",
    )


def test_transfer_to_own_jurisdiction() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0]["destination"].update(jurisdiction="cn"))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.destination.jurisdiction",
        "another jurisdiction",
        "'cn' (the stack's own jurisdiction)",
    )


def test_transfer_destination_cidr_outside_the_destination() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0]["destination"].update(cidrs=["10.30.5.0/24"]))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.destination.cidrs[0]",
        "a network inside eu's catalog networks",
        "10.30.5.0/24 (a network of us)",
    )


def test_transfer_destination_domain_outside_the_destination() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0]["destination"].update(domains=["models.automaker.cn"]))
    assert_error(exc, CN, f"{TRANSFER}.destination.domains[0]", "a domain of eu", "(a domain of cn)")


def test_transfer_of_a_class_that_never_leaves() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0].update(dataClasses=["model-weights", "raw-camera-video"]))
    dc = catalog().jurisdiction("cn").data_class("raw-camera-video")  # type: ignore[union-attr]
    assert dc is not None
    error = assert_error(
        exc,
        CN,
        f"{TRANSFER}.dataClasses[1]",
        "a data class of cn whose export rule allows eu",
        "'raw-camera-video': export never",
    )
    assert dc.provenance.source in error.found


def test_transfer_to_a_destination_the_rule_does_not_list() -> None:
    def mutate(v: Values) -> None:
        v["transfers"][0]["destination"].update(jurisdiction="us", cidrs=["10.30.5.0/24"])

    exc = rejected("cn-prod", mutate)
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.dataClasses[0]",
        "whose export rule allows us",
        "'model-weights': may go only to eu, not us",
    )


def test_transfer_approved_by_the_wrong_regulator() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0].update(regulator="MIIT"))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.regulator",
        "the regulator that approves exports of model-weights: CAC",
        "'MIIT'",
    )


def test_transfer_valid_from_not_before_valid_until() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0].update(validFrom="2027-02-28T00:00:00Z"))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.validUntil",
        "a time after validFrom (2027-02-28T00:00:00Z)",
        "2027-02-28T00:00:00Z",
    )


def test_transfer_impossible_date() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"][0].update(validFrom="2026-02-30T00:00:00Z"))
    assert_error(exc, CN, f"{TRANSFER}.validFrom", "an ISO 8601 date or date-time", "2026-02-30")


def test_duplicate_transfer_id() -> None:
    exc = rejected("cn-prod", lambda v: v["transfers"].append(dict(v["transfers"][0])))
    assert_error(exc, CN, "sovereign-clusters:transfers[1].id", "a unique transfer id", "'weights-to-eu'")


def test_expired_transfer_is_not_a_load_error() -> None:
    values = example_values("cn-prod")
    values["transfers"][0].update(validFrom="2024-01-01T00:00:00Z", validUntil="2025-01-01T00:00:00Z")
    config = parse(values)
    (transfer,) = config.transfers
    assert not transfer.is_active(datetime(2026, 11, 25, tzinfo=UTC))
    assert transfer.is_active(datetime(2024, 6, 1, tzinfo=UTC))


def test_free_class_needs_no_transfer_but_may_be_listed() -> None:
    values = example_values("cn-prod")
    values["tenants"][3]["dataClasses"].append("anonymised-aggregates")
    values["transfers"][0]["dataClasses"].append("anonymised-aggregates")
    assert parse(values).transfers[0].data_classes == ("model-weights", "anonymised-aggregates")


def test_semantic_errors_are_all_reported_together() -> None:
    def mutate(v: Values) -> None:
        v["workloads"][0]["image"] = "docker.io/x:1"
        v["transfers"][0]["regulator"] = "MIIT"
        v["backups"][0]["region"] = "cn-south-9"

    exc = rejected("cn-prod", mutate)
    assert_error(exc, CN, "sovereign-clusters:workloads[0].image", "a registry allowed in cn")
    assert_error(exc, CN, f"{TRANSFER}.regulator", "CAC")
    assert_error(exc, CN, "sovereign-clusters:backups[0].region", "a region of cn on provider aws-cn")


def test_transfer_of_data_the_senders_do_not_hold() -> None:
    # anonymised-aggregates may leave freely, but model-registry does not hold it: the approval misfits.
    exc = rejected("cn-prod", lambda v: v["transfers"][0]["dataClasses"].append("anonymised-aggregates"))
    assert_error(
        exc,
        CN,
        f"{TRANSFER}.dataClasses[1]",
        "a data class held by the tenant of a source workload (model-registry: model-weights)",
        "'anonymised-aggregates'",
    )
