"""``destinations`` and ``workloadDefaults``: written once, they load to exactly the model of the inline stack."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stackconfig_support import EXAMPLE_STACKS, assert_error, errors_of, example_values, parse, source_file

from sovereign.core.errors import InputError

Values = dict[str, Any]
CN = source_file("cn-prod")
OBJECT_STORE = {"cidrs": ["10.10.20.0/24"], "ports": [{"port": 443}]}
"""cn-prod's object store, as its workloads declare it inline under the name `object-store`."""

_LABELS = st.from_regex(r"[a-z]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)


def rejected(values: Values) -> InputError:
    with pytest.raises(InputError) as info:
        parse(values)
    return info.value


def with_object_store(values: Values) -> Values:
    """cn-prod with its inline object-store needs replaced by references to one declared destination."""
    values["destinations"] = {"object-store": copy.deepcopy(OBJECT_STORE)}
    for w in values["workloads"]:
        w["egress"] = [e["name"] if e["name"] == "object-store" else e for e in w.get("egress", [])]
    return values


def written_inline(values: Values) -> Values:
    """The example as if written without shared declarations (an example stack may already use them)."""
    destinations = values.pop("destinations", {})
    defaults = values.pop("workloadDefaults", {})
    for w in values["workloads"]:
        w.setdefault("resources", copy.deepcopy(defaults.get("resources")))
        if "egress" in w:
            w["egress"] = [{"name": e, **destinations[e]} if isinstance(e, str) else e for e in w["egress"]]
    return values


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stack=st.sampled_from(EXAMPLE_STACKS), data=st.data())
def test_shared_declarations_load_to_the_same_model_as_inline(stack: str, data: st.DataObject) -> None:
    inline = written_inline(example_values(stack))
    assert parse(inline, stack=stack) == parse(example_values(stack), stack=stack)
    shared = copy.deepcopy(inline)
    destinations: dict[str, Any] = {}
    for w in shared["workloads"]:
        entries: list[Any] = []
        for need in w.get("egress", []):
            body = {k: v for k, v in need.items() if k != "name"}
            if destinations.get(need["name"], body) == body and data.draw(st.booleans(), label="by name"):
                destinations[need["name"]] = body
                entries.append(need["name"])
            else:
                entries.append(need)
        if "egress" in w:
            w["egress"] = entries
    unused = data.draw(st.lists(_LABELS.filter(lambda n: n not in destinations), max_size=3), label="unused")
    destinations.update({name: copy.deepcopy(OBJECT_STORE) for name in unused})
    if destinations or data.draw(st.booleans(), label="empty destinations"):
        shared["destinations"] = destinations
    if data.draw(st.booleans(), label="defaults"):
        default = data.draw(st.sampled_from([w["resources"] for w in inline["workloads"]]), label="default")
        shared["workloadDefaults"] = {"resources": copy.deepcopy(default)}
        for w in shared["workloads"]:
            if w["resources"] == default and data.draw(st.booleans(), label="take default"):
                del w["resources"]
    assert parse(shared, stack=stack) == parse(inline, stack=stack)


def test_a_reference_expands_to_the_named_egress_need() -> None:
    config = parse(with_object_store(example_values("cn-prod")))
    inline = parse(example_values("cn-prod"))
    assert config == inline
    needs = [n for w in config.workloads for n in w.egress if n.name == "object-store"]
    assert len(needs) == 4 and len(set(needs)) == 1


def test_unknown_reference_names_file_key_path_declared_destinations_and_the_name() -> None:
    values = with_object_store(example_values("cn-prod"))
    values["destinations"]["s3-backup"] = copy.deepcopy(OBJECT_STORE)
    values["workloads"][3]["egress"][1] = "object-stor"
    exc = rejected(values)
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[3].egress[1]",
        "the name of a destination declared under sovereign-clusters:destinations (declared: object-store, s3-backup)",
        "'object-stor', which is not declared there",
    )


def test_every_unknown_reference_is_reported_and_none_without_destinations() -> None:
    values = example_values("cn-prod")
    values["workloads"][0]["egress"].append("nowhere")
    values["workloads"][2]["egress"].append("elsewhere")
    exc = rejected(values)
    assert len(errors_of(exc)) == 2
    assert_error(exc, CN, "sovereign-clusters:workloads[0].egress[2]", "(declared: none)", "'nowhere'")
    assert_error(exc, CN, "sovereign-clusters:workloads[2].egress[1]", "(declared: none)", "'elsewhere'")


def test_a_reference_and_an_inline_need_of_the_same_name_are_duplicates() -> None:
    values = with_object_store(example_values("cn-prod"))
    values["workloads"][1]["egress"].append({"name": "object-store", **OBJECT_STORE})
    exc = rejected(values)
    assert_error(
        exc, CN, "sovereign-clusters:workloads[1].egress[1].name", "a unique egress name", "'object-store', already"
    )


def test_a_problem_inside_a_destination_is_reported_once_at_the_destination() -> None:
    values = with_object_store(example_values("cn-prod"))
    values["destinations"]["object-store"]["cidrs"] = ["10.20.20.0/24"]  # an eu network, not cn
    exc = rejected(values)
    assert len(errors_of(exc)) == 1, exc.message
    assert_error(exc, CN, "sovereign-clusters:destinations.object-store.cidrs[0]", "", "10.20.20.0/24")

    values["destinations"]["object-store"]["cidrs"] = ["10.10.20.1/24"]
    exc = rejected(values)
    assert len(errors_of(exc)) == 1, exc.message
    assert_error(exc, CN, "sovereign-clusters:destinations.object-store.cidrs[0]", "host bits zero")


def test_an_unused_destination_is_fine() -> None:
    values = example_values("cn-prod")
    values["destinations"] = {"spare": copy.deepcopy(OBJECT_STORE)}
    assert parse(values) == parse(example_values("cn-prod"))


def test_defaults_apply_only_to_workloads_without_resources() -> None:
    values = example_values("cn-prod")
    default = {"requests": {"cpu": "3", "memory": "3Gi"}}
    values["workloadDefaults"] = {"resources": default}
    del values["workloads"][0]["resources"]
    config = parse(values)
    inline = parse(example_values("cn-prod"))
    first = config.workloads[0].resources
    assert (first.cpu_request, first.memory_request, first.cpu_limit, first.memory_limit) == ("3", "3Gi", "3", "3Gi")
    assert config.workloads[1:] == inline.workloads[1:]


def test_defaults_are_taken_whole_not_merged() -> None:
    values = example_values("cn-prod")
    values["workloadDefaults"] = {
        "resources": {"requests": {"cpu": "3", "memory": "3Gi"}, "limits": {"cpu": "6", "memory": "6Gi"}}
    }
    values["workloads"][0]["resources"] = {"requests": {"cpu": "1", "memory": "1Gi"}}
    limits = parse(values).workloads[0].resources
    assert (limits.cpu_limit, limits.memory_limit) == ("1", "1Gi")  # the workload's own requests, not the default


def test_resources_are_required_without_defaults() -> None:
    values = example_values("cn-prod")
    del values["workloads"][2]["resources"]
    exc = rejected(values)
    assert_error(
        exc,
        CN,
        "sovereign-clusters:workloads[2].resources",
        "it is required unless sovereign-clusters:workloadDefaults sets resources",
        "nothing (key missing)",
    )
    values["workloadDefaults"] = {}
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[2].resources", "workloadDefaults")


def test_schema_rejects_a_destination_name_that_is_not_a_label() -> None:
    values = example_values("cn-prod")
    values["destinations"] = {"Object_Store": copy.deepcopy(OBJECT_STORE)}
    exc = rejected(values)
    assert_error(exc, CN, "sovereign-clusters:destinations.Object_Store", "a DNS-1123 label", "the key 'Object_Store'")


def test_schema_rejects_a_name_inside_a_destination_and_a_bad_reference() -> None:
    values = example_values("cn-prod")
    values["destinations"] = {"object-store": {"name": "object-store", **OBJECT_STORE}}
    values["workloads"][0]["egress"].append("Not A Label")
    exc = rejected(values)
    assert_error(exc, CN, "sovereign-clusters:destinations.object-store.name", "no `name`", "'object-store'")
    assert_error(exc, CN, "sovereign-clusters:workloads[0].egress[2]", "a DNS-1123 label", "'Not A Label'")


def test_schema_still_requires_a_name_for_an_inline_need() -> None:
    values = example_values("cn-prod")
    values["workloads"][0]["egress"][0].pop("name")
    assert_error(rejected(values), CN, "sovereign-clusters:workloads[0].egress[0].name", "this key (it is required)")
