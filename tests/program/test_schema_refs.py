"""Inlined ``$ref``s (sovereign/core/schema_refs.py) must not change a single verdict or message.

Each real schema we validate with (the Kubernetes 1.34 kinds the program renders, the vendored CRDs, the stack
schema, the catalog schema) is compared as jsonschema builds it and as we build it, on real documents and on
random mutations of them: the same errors in the same order, with the same messages, instance paths, schema
paths, keywords and sub-errors, and the same ``best_match``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from sovereign.catalog import loader as catalog_loader
from sovereign.core import paths
from sovereign.core.schema_refs import inline_refs, inlined_validator
from sovereign.core.yamlio import parse_yaml_documents
from sovereign.render import schemas
from sovereign.stackconfig import list_stacks
from sovereign.stackconfig.schema_validation import _translate, _validator_for, stack_schema
from sovereign.stackconfig.stack_file import read_stack_file

KUBERNETES = "1.34"


def _error(e: ValidationError) -> tuple[Any, ...]:
    return (
        e.message,
        list(e.absolute_path),
        list(e.absolute_schema_path),
        e.validator,
        [_error(c) for c in e.context],
    )


def observe(validator: Draft202012Validator, instance: Any) -> tuple[Any, ...]:
    errors = list(validator.iter_errors(instance))
    best = best_match(iter(errors))
    return [_error(e) for e in errors], (best.message, list(best.absolute_path)) if best else None


def _refs_left(node: Any, seen: set[int] | None = None) -> int:
    seen = set() if seen is None else seen
    if id(node) in seen:
        return 0
    seen.add(id(node))
    if isinstance(node, dict):
        return int(isinstance(node.get("$ref"), str)) + sum(_refs_left(v, seen) for v in node.values())
    if isinstance(node, list):
        return sum(_refs_left(v, seen) for v in node)
    return 0


# ------------------------------------------------------------------------------------------ random mutations

_leaf = st.none() | st.booleans() | st.integers(-3, 70_000) | st.sampled_from(["", "x", "TCP", "10.0.0.0/8", "1Gi"])
_json = st.recursive(
    _leaf | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def _slots(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) of a JSON document."""
    out: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        for k, v in node.items():
            out.append((node, k))
            out.extend(_slots(v))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.append((node, i))
            out.extend(_slots(v))
    return out


def mutate(data: st.DataObject, document: Any) -> Any:
    """1-3 edits: a value replaced (by random JSON or by another value of the same document), a key or
    item removed, an unknown key added."""
    doc = copy.deepcopy(document)
    for _ in range(data.draw(st.integers(1, 3))):
        slots = _slots(doc)
        if not slots:
            return data.draw(_json)
        container, key = data.draw(st.sampled_from(slots))
        action = data.draw(st.sampled_from(["replace", "borrow", "delete", "add"]))
        if action == "replace":
            container[key] = data.draw(_json)
        elif action == "borrow":
            other_container, other_key = data.draw(st.sampled_from(slots))
            container[key] = copy.deepcopy(other_container[other_key])
        elif action == "delete":
            del container[key]
        elif isinstance(container, dict):
            container[data.draw(st.text(min_size=1, max_size=6))] = data.draw(_json)
        else:
            container.append(data.draw(_json))
    return doc


EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _compare_on_mutations(
    data: st.DataObject, samples: list[tuple[Draft202012Validator, Draft202012Validator, Any]]
) -> None:
    reference, inlined, document = data.draw(st.sampled_from(samples))
    instance = mutate(data, document)
    assert observe(inlined, instance) == observe(reference, instance)


# ------------------------------------------------------------------------------------------ Kubernetes kinds


def _k8s_pairs(objects: list[dict[str, Any]]) -> list[tuple[Draft202012Validator, Draft202012Validator, Any]]:
    out = []
    for obj in objects:
        api_version, kind = obj["apiVersion"], obj["kind"]
        if schemas.crd_schema(api_version, kind) is not None:
            crd = schemas.crd_schema(api_version, kind)
            reference = Draft202012Validator(crd, registry=schemas.crd_registry())
            inlined = schemas._crd_validator(api_version, kind)
        else:
            schema, registry = schemas.builtin_schema(KUBERNETES, api_version, kind)
            reference = Draft202012Validator(schema, registry=registry)
            inlined = schemas._builtin_validator(KUBERNETES, api_version, kind)
        out.append((reference, inlined, obj))
    return out


@pytest.fixture(scope="module")
def k8s_samples(capture: Any) -> list[tuple[Draft202012Validator, Draft202012Validator, Any]]:
    objects: dict[tuple[str, str], dict[str, Any]] = {}
    for stack in list_stacks():  # all three CNIs: NetworkPolicy, ANP/BANP, Calico and Cilium policies
        for reg in capture(stack).k8s:
            objects.setdefault((reg["inputs"]["apiVersion"], reg["inputs"]["kind"]), reg["inputs"])
    assert len(objects) >= 12
    return _k8s_pairs([objects[k] for k in sorted(objects)])


def test_the_kubernetes_kinds_we_render_lose_every_ref(k8s_samples: list[Any]) -> None:
    for reference, inlined, obj in k8s_samples:
        if schemas.crd_schema(obj["apiVersion"], obj["kind"]) is None:
            assert _refs_left(reference.schema) > 0
            assert _refs_left(inlined.schema) == 0, obj["kind"]


def test_rendered_objects_are_judged_alike(k8s_samples: list[Any]) -> None:
    for reference, inlined, obj in k8s_samples:
        assert observe(inlined, obj) == observe(reference, obj) == ([], None)


@EXAMPLES
@given(data=st.data())
def test_mutated_kubernetes_objects_are_judged_alike(k8s_samples: list[Any], data: st.DataObject) -> None:
    _compare_on_mutations(data, k8s_samples)


def test_validate_object_reports_through_the_inlined_validator(k8s_samples: list[Any]) -> None:
    deployment = next(obj for _, _, obj in k8s_samples if obj["kind"] == "Deployment")
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"] = [{"containerPort": "eighty"}]
    (problem,) = schemas.validate_object(broken, KUBERNETES)
    assert problem.path == "spec.template.spec.containers[0].ports[0].containerPort"
    assert problem.message == "'eighty' is not of type 'integer'"


# ------------------------------------------------------------------------------------------ stack schema


@pytest.fixture(scope="module")
def stack_samples() -> list[tuple[Draft202012Validator, Draft202012Validator, Any]]:
    path = str(paths.stack_schema_path())
    reference = Draft202012Validator(stack_schema())
    configs = [read_stack_file(paths.stacks_dir() / f"Pulumi.{s}.yaml")[1] for s in list_stacks()]
    return [(reference, _validator_for(path), config) for config in configs]


def test_example_stacks_are_judged_alike(stack_samples: list[Any]) -> None:
    for reference, inlined, config in stack_samples:
        assert observe(inlined, config) == observe(reference, config) == ([], None)
    assert _refs_left(stack_samples[0][1].schema) < _refs_left(stack_samples[0][0].schema)


@EXAMPLES
@given(data=st.data())
def test_mutated_stacks_get_the_same_errors_and_the_same_user_messages(
    stack_samples: list[Any], data: st.DataObject
) -> None:
    reference, inlined, config = data.draw(st.sampled_from(stack_samples))
    instance = mutate(data, config)
    assert observe(inlined, instance) == observe(reference, instance)

    def worded(validator: Draft202012Validator) -> list[tuple[Any, ...]]:
        return [
            (e.key_path, e.expected, e.found)
            for error in validator.iter_errors(instance)
            for e in _translate(error, instance, "Pulumi.x.yaml")
        ]

    assert worded(inlined) == worded(reference)


# ------------------------------------------------------------------------------------------ catalog schema


def _catalog_document(file: Path) -> Any:
    """The document as the catalog loader hands it to the schema (strict YAML; dates as ISO text)."""
    (doc,) = parse_yaml_documents(file.read_text(encoding="utf-8"), file)
    issues: list[Any] = []
    plain = catalog_loader._jsonable(doc, (), issues)
    assert issues == []
    return plain


@pytest.fixture(scope="module")
def catalog_samples() -> list[tuple[Draft202012Validator, Draft202012Validator, Any]]:
    directory = paths.catalog_dir()
    text = (directory / catalog_loader.SCHEMA_FILE).read_text(encoding="utf-8")
    schema = json.loads(text)
    inlined = catalog_loader._compile_schema(text)
    files: dict[str, list[Path]] = {
        "catalog_file": [directory / "catalog.yaml"],
        "providers_file": [directory / "providers.yaml"],
        "jurisdiction_file": sorted((directory / "jurisdictions").glob("*.yaml")),
    }
    return [
        (
            Draft202012Validator({**schema, "$ref": f"#/$defs/{kind}"}),
            inlined[kind],
            _catalog_document(file),
        )
        for kind, found in files.items()
        for file in found
    ]


def test_catalog_files_are_judged_alike(catalog_samples: list[Any]) -> None:
    assert len(catalog_samples) >= 6
    for reference, inlined, document in catalog_samples:
        assert observe(inlined, document) == observe(reference, document) == ([], None)


@EXAMPLES
@given(data=st.data())
def test_mutated_catalog_files_are_judged_alike(catalog_samples: list[Any], data: st.DataObject) -> None:
    _compare_on_mutations(data, catalog_samples)


# ------------------------------------------------------------------------------------------ what stays a $ref

DEFS = {
    "name": {"type": "string", "pattern": "^[a-z]+$"},
    "tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/tree"}}}},
    "anchored": {"$anchor": "here", "type": "integer"},
}


def _schema(**properties: Any) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/root.json",
        "type": "object",
        "properties": properties,
        "$defs": DEFS,
    }


def test_a_ref_with_only_annotations_beside_it_is_replaced_by_its_target() -> None:
    out = inline_refs(_schema(a={"$ref": "#/$defs/name", "description": "a name", "x-expected": "a name"}))
    assert out["properties"]["a"] == DEFS["name"]


@pytest.mark.parametrize(
    ("subschema", "why"),
    [
        ({"$ref": "#/$defs/name", "maxLength": 3}, "a validating sibling"),
        ({"$ref": "#here"}, "an anchor"),
        ({"$ref": "other.json#/$defs/x"}, "a document the registry does not hold"),
        ({"$ref": "#/$defs/missing"}, "a pointer to nowhere (jsonschema reports it)"),
        ({"not": {"$ref": "#/$defs/name"}}, "under not (its message prints the subschema)"),
        ({"oneOf": [{"$ref": "#/$defs/name"}, {"type": "integer"}]}, "under oneOf (same)"),
        ({"$id": "https://elsewhere.test/x.json", "$ref": "#/$defs/name"}, "an $id below the root"),
    ],
)
def test_a_ref_stays_where_inlining_could_change_a_result(subschema: dict[str, Any], why: str) -> None:
    assert _refs_left(inline_refs(_schema(a=subschema))["properties"]["a"]) == 1, why


def test_a_recursive_schema_keeps_one_ref_and_still_validates_deeply() -> None:
    schema = _schema(t={"$ref": "#/$defs/tree"})
    out = inline_refs(schema)
    assert _refs_left(out) >= 1
    deep: dict[str, Any] = {"children": []}
    node = deep
    for _ in range(30):
        child: dict[str, Any] = {"children": []}
        node["children"].append(child)
        node = child
    node["children"] = "not a list"
    reference, inlined = Draft202012Validator(schema), inlined_validator(schema)
    assert observe(inlined, {"t": deep}) == observe(reference, {"t": deep}) != ([], None)


def test_refs_into_another_document_resolve_against_that_document() -> None:
    # The target's own relative $ref ("#/$defs/...") means the other document; once inlined it must not be
    # read against the referring schema's base.
    other = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/other.json",
        "$defs": {
            "port": {"$ref": "#/$defs/number"},
            "number": {"type": "integer", "maximum": 65535},
            "nested": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/number"}, {"$ref": "#/$defs/nested"}]}},
        },
    }
    registry: Registry = Resource.from_contents(other) @ Registry()
    schema = _schema(p={"$ref": "other.json#/$defs/port"}, n={"$ref": "other.json#/$defs/nested"})
    out = inline_refs(schema, registry)
    assert out["properties"]["p"] == other["$defs"]["number"]  # type: ignore[index]
    assert out["properties"]["n"] == {"$ref": "other.json#/$defs/nested"}  # keeps "#/$defs/nested" inside
    reference = Draft202012Validator(schema, registry=registry)
    inlined = inlined_validator(schema, registry)
    for value in (80, 70_000, "80", [1, [2, [3, "x"]]], [[[70_000]]]):
        assert observe(inlined, {"p": value, "n": value}) == observe(reference, {"p": value, "n": value})


def test_a_subschema_reached_twice_is_copied_once() -> None:
    out = inline_refs(_schema(a={"$ref": "#/$defs/name"}, b={"$ref": "#/$defs/name", "title": "b"}))
    assert out["properties"]["a"] is out["properties"]["b"]

