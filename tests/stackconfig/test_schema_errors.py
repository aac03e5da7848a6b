"""Schema-level rejections: every message names the file, the key path, the expectation and what was found."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from stackconfig_support import assert_error, catalog, errors_of, example_values, parse, source_file

from sovereign.core.errors import InputError
from sovereign.stackconfig.loader import load_stack_file, parse_stack_config

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stacks"
CN = source_file("cn-prod")


def fixture(name: str) -> Path:
    return FIXTURES / name


def load_error(path: Path) -> InputError:
    with pytest.raises(InputError) as info:
        load_stack_file(path, catalog=catalog())
    return info.value


def parse_error(values: dict[str, Any], stack: str = "cn-prod") -> InputError:
    with pytest.raises(InputError) as info:
        parse(values, stack=stack)
    return info.value


# ---------------------------------------------------------------------------------------------- whole files


def test_every_problem_of_a_file_is_reported_in_one_pass() -> None:
    path = fixture("Pulumi.schema-errors.yaml")
    exc = load_error(path)
    file = str(path)
    assert_error(
        exc,
        file,
        "sovereign-clusters:clustr",
        "one of the keys sovereign-clusters:jurisdiction",
        "unknown key 'sovereign-clusters:clustr'",
    )
    assert_error(exc, file, "jurisdiction", "keys of other namespaces", "unknown key 'jurisdiction'")
    assert_error(exc, file, "sovereign-clusters:cluster.name", "a DNS-1123 label", "'CN_Prod'")
    assert_error(exc, file, "sovereign-clusters:cluster.regions[1]", "a string", "42")
    assert_error(exc, file, "sovereign-clusters:cluster.zones", "required", "key missing")
    assert_error(exc, file, "sovereign-clusters:cluster.kubernetesVersion", 'quoted "MAJOR.MINOR"', "1.34")
    assert_error(exc, file, "sovereign-clusters:cluster.cni.enforces[1]", "one of 'NetworkPolicy'", "'Gateway'")
    assert len(errors_of(exc)) == 7
    # Deterministic: the same file gives the same report.
    assert load_error(path).message == exc.message


def test_plaintext_kubeconfig_is_rejected_without_echoing_it() -> None:
    path = fixture("Pulumi.plaintext-kubeconfig.yaml")
    exc = load_error(path)
    assert_error(exc, str(path), "sovereign-clusters:kubeconfig", "pulumi config set --secret", "plaintext")
    assert "TOPSECRET" not in exc.message
    assert "apiVersion" not in exc.message


def test_secret_kubeconfig_means_deploy_not_render() -> None:
    config = load_stack_file(fixture("Pulumi.secret-kubeconfig.yaml"), catalog=catalog())
    assert config.kubeconfig_configured is True


def test_minimal_stack_loads_and_ignores_other_namespaces() -> None:
    config = load_stack_file(fixture("Pulumi.minimal.yaml"), catalog=catalog())
    assert config.stack == "minimal"
    assert (config.tenants, config.workloads, config.storage, config.backups, config.transfers) == ((),) * 5


def test_unquoted_yaml_timestamps_mean_the_same_instants() -> None:
    config = load_stack_file(fixture("Pulumi.unquoted-dates.yaml"), catalog=catalog())
    example = parse(example_values("cn-prod"))
    assert config.transfers[0].valid_from == example.transfers[0].valid_from
    assert config.transfers[0].valid_until == example.transfers[0].valid_until


@pytest.mark.parametrize(
    ("name", "key_path", "expected", "found"),
    [
        ("Pulumi.duplicate-key.yaml", "(top level)", "well-formed YAML", "duplicate key 'regions'"),
        ("Pulumi.malformed.yaml", "(top level)", "well-formed YAML", "line 4"),
        ("Pulumi.unknown-top-level.yaml", "confg", "one of the stack file keys config", "confg"),
        ("Pulumi.config-not-mapping.yaml", "config", "a mapping of `namespace:key`", "a list"),
        (
            "not-a-stack-file.yaml",
            "(top level)",
            "a stack file named Pulumi.<stack>.yaml",
            "not-a-stack-file",
        ),
    ],
)
def test_broken_files(name: str, key_path: str, expected: str, found: str) -> None:
    path = fixture(name)
    assert_error(load_error(path), str(path), key_path, expected, found)


def test_missing_stack_file(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.nowhere.yaml"
    assert_error(load_error(path), str(path), "(top level)", "a readable file")


# ------------------------------------------------------------------------------------- single values


def test_parse_requires_jurisdiction_and_cluster() -> None:
    exc = parse_error({})
    assert_error(exc, CN, "sovereign-clusters:jurisdiction", "required", "key missing")
    assert_error(exc, CN, "sovereign-clusters:cluster", "required", "key missing")


def test_unknown_key_inside_a_section() -> None:
    values = example_values("cn-prod")
    values["cluster"]["nodePools"] = []
    assert_error(
        parse_error(values),
        CN,
        "sovereign-clusters:cluster.nodePools",
        "one of the keys name, provider",
        "unknown key 'nodePools'",
    )


def test_wrong_type_of_a_section() -> None:
    values = example_values("cn-prod")
    values["tenants"] = {"fleet-ingest": {}}
    assert_error(parse_error(values), CN, "sovereign-clusters:tenants", "a list", "a mapping")


def test_workload_kind_enum() -> None:
    values = example_values("cn-prod")
    values["workloads"][0]["kind"] = "Pod"
    assert_error(parse_error(values), CN, "sovereign-clusters:workloads[0].kind", "one of 'Deployment'", "'Pod'")


def test_cronjob_needs_a_schedule_and_others_must_not_have_one() -> None:
    values = example_values("cn-prod")
    del values["workloads"][1]["schedule"]  # frame-extractor, a CronJob
    values["workloads"][0]["schedule"] = "@hourly"  # ingest-gateway, a Deployment
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:workloads[1].schedule", "a CronJob needs one", "key missing")
    assert_error(exc, CN, "sovereign-clusters:workloads[0].schedule", "only a CronJob has one", "'@hourly'")


def test_egress_need_is_either_a_workload_or_networks() -> None:
    values = example_values("cn-prod")
    trainer_egress = values["workloads"][3]["egress"]
    trainer_egress[1]["cidrs"] = ["10.10.30.0/24"]
    trainer_egress[0] = {"name": "nowhere", "ports": [{"port": 443}]}
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:workloads[3].egress[1].cidrs", "no `cidrs` next to `workload`")
    assert_error(exc, CN, "sovereign-clusters:workloads[3].egress[0]", "`cidrs`, `domains` or `workload`")


def test_end_port_needs_port() -> None:
    values = example_values("cn-prod")
    values["workloads"][0]["egress"][0]["ports"] = [{"endPort": 450}]
    assert_error(
        parse_error(values),
        CN,
        "sovereign-clusters:workloads[0].egress[0].ports[0].port",
        "`port` together with `endPort`",
        "key missing",
    )


def test_port_out_of_range_and_bad_port_name() -> None:
    values = example_values("cn-prod")
    values["workloads"][0]["ports"] = [{"name": "HTTPS_port", "port": 70000}]
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:workloads[0].ports[0].port", "at most 65535", "70000")
    assert_error(exc, CN, "sovereign-clusters:workloads[0].ports[0].name", "an IANA service name", "'HTTPS_port'")


def test_quantity_and_reserved_namespace() -> None:
    values = example_values("cn-prod")
    values["tenants"][0]["quota"]["memory"] = "lots"
    values["tenants"][1]["namespace"] = "kube-system"
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:tenants[0].quota.memory", "a non-negative Kubernetes quantity", "'lots'")
    assert_error(exc, CN, "sovereign-clusters:tenants[1].namespace", "other than default, kube-system", "'kube-system'")


def test_transfer_dates_must_be_rfc3339_with_zone() -> None:
    values = example_values("cn-prod")
    values["transfers"][0]["validFrom"] = "1 March 2026"
    values["transfers"][0]["validUntil"] = "2027-02-28T00:00:00"  # no zone
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:transfers[0].validFrom", "an RFC 3339 date-time", "'1 March 2026'")
    assert_error(exc, CN, "sovereign-clusters:transfers[0].validUntil", "an RFC 3339 date-time")


def test_transfer_regulatory_facts_are_required_fields() -> None:
    """The approval's facts are values the CLI keeps when it rewrites the file, never only comments."""
    values = example_values("cn-prod")
    del values["transfers"][0]["scope"]
    values["transfers"][0]["note"] = ""
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:transfers[0].scope", "this key (it is required)")
    assert_error(exc, CN, "sovereign-clusters:transfers[0].note", "a non-empty string", "''")


def test_transfer_regulatory_facts_reach_the_model() -> None:
    (transfer,) = parse(example_values("cn-prod")).transfers
    assert (transfer.approval_reference, transfer.regulator) == ("CAC-SA-2026-0042", "CAC")
    assert transfer.scope.startswith("Trained driving-model weights") and "2027-02-28" in transfer.scope
    assert transfer.note.startswith("CAC security assessment")


def test_duplicate_items_in_a_list() -> None:
    values = example_values("cn-prod")
    values["cluster"]["regions"] = ["cn-north-1", "cn-north-1"]
    assert_error(parse_error(values), CN, "sovereign-clusters:cluster.regions", "no duplicate items", "cn-north-1")


def test_label_keys_are_checked_as_keys() -> None:
    values = example_values("cn-prod")
    values["cluster"]["dns"] = {"podLabels": {"bad key!": "kube-dns"}}
    assert_error(
        parse_error(values),
        CN,
        "sovereign-clusters:cluster.dns.podLabels.bad key!",
        "a Kubernetes label key",
        "'bad key!'",
    )


def test_non_string_keys_are_rejected() -> None:
    values = example_values("cn-prod")
    values["cluster"]["cni"][7] = True
    assert_error(parse_error(values), CN, "sovereign-clusters:cluster.cni", "string keys", "7")


# ------------------------------------------------------------------------------- the program's entry point


def test_kubeconfig_marker_true_means_a_secret_is_set() -> None:
    values = example_values("cn-prod")
    values["kubeconfig"] = True
    values["renderDir"] = None  # None means not set
    assert parse(values).kubeconfig_configured is True
    values["kubeconfig"] = {"secure": "v1:abc"}
    assert parse(values).kubeconfig_configured is True
    values["kubeconfig"] = False
    assert parse(values).kubeconfig_configured is False


def test_kubeconfig_plaintext_through_the_program_path_is_rejected() -> None:
    values = example_values("cn-prod")
    values["kubeconfig"] = "apiVersion: v1\nusers: [{user: {token: s3cr3t}}]\n"
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:kubeconfig", "pulumi config set --secret", "not shown")
    assert "s3cr3t" not in exc.message
    values["kubeconfig"] = {"apiVersion": "v1", "users": [{"user": {"token": "s3cr3t"}}]}
    exc = parse_error(values)
    assert_error(exc, CN, "sovereign-clusters:kubeconfig", "pulumi config set --secret", "values not shown")
    assert "s3cr3t" not in exc.message


def test_kubeconfig_and_render_dir_exclude_each_other() -> None:
    values = example_values("cn-prod")
    values["kubeconfig"] = True
    values["renderDir"] = "../out/x"
    assert_error(parse_error(values), CN, "sovereign-clusters:renderDir", "no renderDir when a kubeconfig is set")


def test_render_dir_is_used_when_given() -> None:
    values = example_values("cn-prod")
    values["renderDir"] = "../out/cn-manifests"
    assert parse(values).render_dir == "../out/cn-manifests"


def test_keys_of_other_namespaces_pass_through_the_program_path() -> None:
    values = example_values("cn-prod")
    values["kubernetes:renderYamlToDirectory"] = "../out/x"
    assert parse(values).jurisdiction == "cn"


def test_values_must_be_a_mapping() -> None:
    with pytest.raises(InputError) as info:
        parse_stack_config(["cn"], stack="cn-prod", source_file=CN, catalog=catalog())  # type: ignore[arg-type]
    assert info.value.message == f"{CN}: (top level): expected a mapping of configuration keys; found a list"


def test_cronjob_name_leaves_room_for_job_names() -> None:
    values = example_values("cn-prod")
    values["workloads"][1]["name"] = "x" * 53  # frame-extractor, a CronJob
    assert_error(
        parse_error(values),
        CN,
        "sovereign-clusters:workloads[1].name",
        "a CronJob name of at most 52 characters",
        "53 characters",
    )
    values["workloads"][1]["name"] = "x" * 52
    assert parse(values).workloads[1].name == "x" * 52


def test_unknown_stack_name_lists_the_known_stacks() -> None:
    from sovereign.core import paths
    from sovereign.stackconfig.loader import list_stacks, load_stack

    with pytest.raises(InputError) as info:
        load_stack("mars-prod", catalog=catalog())
    assert_error(
        info.value,
        str(paths.stack_file("mars-prod")),
        "(top level)",
        f"an existing stack file (known stacks: {', '.join(list_stacks())})",
        "no such file",
    )
