"""Units for RT-8 (pod templates on any kind) and RT-13 (GPU products in DRA CEL selectors)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.framework.k8s import K8sObject
from policies.framework.values import UnknownValueError, readable
from policies.rules.accelerator_allowed.dra import device_requests, read_pins
from sovereign.kinds.accelerators import default_vocabulary, normalise

ATTRIBUTES = frozenset({"productName", "model"})

ATTR = "device.attributes['gpu.nvidia.com'].productName"
POD = {"containers": [{"name": "a", "image": "x"}]}


def _obj(token: str, spec: Any) -> K8sObject:
    obj = K8sObject.from_resource(token, readable({"metadata": {"name": "n", "namespace": "ns"}, "spec": spec}),
                                  "urn", "ns/n")
    assert obj is not None
    return obj


@pytest.mark.parametrize(
    ("token", "spec", "path"),
    [
        ("kubernetes:argoproj.io/v1alpha1:Rollout", {"template": {"spec": POD}}, "spec.template.spec"),
        ("kubernetes:ex.com/v1:Nightly", {"jobTemplate": {"spec": {"template": {"spec": POD}}}},
         "spec.jobTemplate.spec.template.spec"),
        ("kubernetes:ex.com/v1:Worker", POD, "spec"),
        ("kubernetes:apps/v1:Deployment", {"template": {"spec": POD}}, "spec.template.spec"),
        ("kubernetes:core/v1:Pod", POD, "spec"),
    ],
)
def test_pod_templates_of_any_kind(token: str, spec: Any, path: str) -> None:
    obj = _obj(token, spec)
    assert obj.is_workload
    [shape] = obj.pod_shapes()
    assert shape.path == path
    assert [image for _where, image in shape.images()] == ["x"]


@pytest.mark.parametrize("spec", [{}, {"template": {"name": "x"}}, {"template": {"spec": {"volumes": []}}}])
def test_objects_without_pods_are_not_workloads(spec: Any) -> None:
    obj = _obj("kubernetes:ex.com/v1:Widget", spec)
    assert not obj.is_workload and obj.pod_shapes() == ()


def test_nested_pod_templates_are_all_found() -> None:
    ray = _obj("kubernetes:ray.example.com/v1:RayCluster", {
        "headGroupSpec": {"template": {"spec": POD}},
        "workerGroupSpecs": [{"template": {"spec": POD}}, {"template": {"metadata": {}}}]})
    assert [shape.path for shape in ray.pod_shapes()] == [
        "spec.headGroupSpec.template.spec", "spec.workerGroupSpecs[0].template.spec"]
    assert ray.is_workload


def test_an_unknown_subtree_is_skipped_by_the_nested_search() -> None:
    unknown_object = "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"
    job = _obj("kubernetes:training.example.com/v1:PyTorchJob", {
        "runPolicy": unknown_object, "pytorchReplicaSpecs": {"Worker": {"template": {"spec": POD}}}})
    assert [shape.path for shape in job.pod_shapes()] == ["spec.pytorchReplicaSpecs.Worker.template.spec"]


def test_an_unknown_pod_template_fails_closed() -> None:
    obj = _obj("kubernetes:apps/v1:Deployment", {"template": "dd056dcd-154b-4c76-9bd3-c8f88648b5ff"})
    with pytest.raises(UnknownValueError):
        obj.pod_shapes()


@pytest.mark.parametrize(
    ("expressions", "products"),
    [
        ((f"{ATTR} == 'NVIDIA H20'",), {"NVIDIA H20"}),
        ((f"'NVIDIA H20' == {ATTR}",), {"NVIDIA H20"}),
        (("device.attributes[\"gpu.nvidia.com\"][\"productName\"] == \"NVIDIA L20\"",), {"NVIDIA L20"}),
        ((f"{ATTR} in ['NVIDIA H20', \"NVIDIA L20\"]",), {"NVIDIA H20", "NVIDIA L20"}),
        ((f"{ATTR} in ['NVIDIA H20', 'NVIDIA L20']", f"{ATTR} == 'NVIDIA L20'"), {"NVIDIA L20"}),
        ((f"device.driver == 'gpu.nvidia.com' && {ATTR} == 'NVIDIA H20'",), {"NVIDIA H20"}),
        (("device.driver == 'gpu.nvidia.com'",), None),
        ((), None),
    ],
)
def test_products_pinned_by_cel(expressions: tuple[str, ...], products: set[str] | None) -> None:
    pins = read_pins(expressions, ATTRIBUTES)
    assert (pins.products, pins.undeterminable) == (None if products is None else frozenset(products), None)
    if expressions:
        assert pins.drivers == {"gpu.nvidia.com"}


@pytest.mark.parametrize(
    "expression",
    [
        f"{ATTR} != 'NVIDIA H20'",
        f"{ATTR}.startsWith('NVIDIA H')",
        f"true || device.driver == 'x' && {ATTR} == 'NVIDIA H20'",
        f"!({ATTR} == 'NVIDIA H20')",
        f"{ATTR}.matches('H20')",
    ],
)
def test_unreadable_product_selectors_are_undeterminable(expression: str) -> None:
    pins = read_pins((expression,), ATTRIBUTES)
    assert pins.products is None
    assert pins.undeterminable is not None and pins.undeterminable.startswith("the CEL")


def test_a_model_attribute_pins_an_intel_gaudi() -> None:
    pins = read_pins(("device.attributes['gaudi.intel.com'].model == 'Gaudi3'",), ATTRIBUTES)
    assert pins.products == {"Gaudi3"} and pins.drivers == {"gaudi.intel.com"}
    vocab = default_vocabulary()
    gaudi = vocab.dra_vendor("gaudi.intel.com")
    assert gaudi is not None and gaudi.id == "intel" and gaudi.dra_product("Gaudi3") == "Intel-Gaudi3"


def test_catalog_form_and_vendor_classes() -> None:
    assert normalise("NVIDIA H100 80GB HBM3") == "NVIDIA-H100-80GB-HBM3"
    assert normalise("  NVIDIA   H20 ") == "NVIDIA-H20"
    vocab = default_vocabulary()
    assert [vocab.dra_vendor(c).id for c in ("gpu.nvidia.com", "mig.nvidia.com", "gpu.amd.com")] == [  # type: ignore[union-attr]
        "nvidia", "nvidia", "amd"]
    assert vocab.dra_vendor("rdma.example.com") is None and vocab.dra_not_accelerator("dranet")


def test_device_requests_of_each_shape() -> None:
    sel = [{"cel": {"expression": "e"}}]
    v1 = {"spec": {"devices": {"requests": [{"name": "g", "exactly": {"deviceClassName": "c", "selectors": sel}},
                                            {"name": "f", "firstAvailable": [{"name": "a", "deviceClassName": "d"}]}]}}}
    found = list(device_requests("ResourceClaimTemplate", v1))
    assert [(r.where, r.device_class, r.expressions) for r in found] == [
        ("spec.spec.devices.requests[0].exactly", "c", ("e",)),
        ("spec.spec.devices.requests[1].firstAvailable[0]", "d", ()),
    ]
    beta = {"devices": {"requests": [{"name": "g", "deviceClassName": "c", "selectors": sel}]}}
    assert [(r.where, r.device_class) for r in device_requests("ResourceClaim", beta)] == \
        [("spec.devices.requests[0]", "c")]
