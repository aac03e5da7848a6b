"""The accelerator vocabulary: what a resource name, a node label and a DRA driver say about vendor and product."""

from __future__ import annotations

import pytest

from sovereign.kinds.accelerators import ANY_VENDOR, COMPANION, NOT_ACCELERATOR, REQUEST, UNKNOWN, default_vocabulary


@pytest.mark.parametrize(("resource", "kind", "vendor", "product"), [
    ("nvidia.com/gpu", REQUEST, "nvidia", None),
    ("nvidia.com/mig-1g.10gb", REQUEST, "nvidia", None),
    ("nvidia.com/gpu.shared", REQUEST, "nvidia", None),
    ("nvidia.com/gpumem", COMPANION, "nvidia", None),
    ("amd.com/gpu", REQUEST, "amd", None),
    ("habana.ai/gaudi", REQUEST, "intel", None),
    ("aws.amazon.com/neuroncore", REQUEST, "aws", None),
    ("huawei.com/Ascend310P", REQUEST, "huawei", "Huawei-Ascend310P"),
    ("huawei.com/Ascend910B3", REQUEST, "huawei", "Huawei-Ascend910B"),
    ("huawei.com/Ascend910", REQUEST, "huawei", None),
    ("cambricon.com/mlu370", REQUEST, "cambricon", None),
    ("volcano.sh/vgpu-number", REQUEST, ANY_VENDOR, None),
    ("volcano.sh/vgpu-memory", COMPANION, ANY_VENDOR, None),
    ("intel.com/intel_sriov_netdevice", NOT_ACCELERATOR, None, None),
    ("hugepages-2Mi", NOT_ACCELERATOR, None, None),
    ("cpu", NOT_ACCELERATOR, None, None),
    ("example.com/npu", UNKNOWN, None, None),
])
def test_resources(resource: str, kind: str, vendor: str | None, product: str | None) -> None:
    found = default_vocabulary().classify(resource)
    assert (found.kind, found.vendor, found.product) == (kind, vendor, product)


@pytest.mark.parametrize(("key", "value", "expected"), [
    ("nvidia.com/gpu.product", "NVIDIA-A100-SXM4-40GB-MIG-1g.5gb", [("nvidia", "NVIDIA-A100-SXM4-40GB")]),
    ("nvidia.com/gpu.product", "NVIDIA-H20-SHARED", [("nvidia", "NVIDIA-H20")]),
    ("cloud.google.com/gke-accelerator", "nvidia-h100-80gb", [("nvidia", "NVIDIA-H100-80GB-HBM3")]),
    ("amd.com/gpu.product-name", "AMD_Instinct_MI300X_OAM", [("amd", "AMD-Instinct-MI300X-OAM")]),
    ("amd.com/gpu.device-id", "74a2", [("amd", "AMD-Instinct-MI308X")]),
    ("node.kubernetes.io/npu.chip.name", "910B3", [("huawei", "Huawei-Ascend910B")]),
    ("node.kubernetes.io/instance-type", "trn2.48xlarge", [("aws", "AWS-Trainium2")]),
    ("node.kubernetes.io/instance-type", "m5.large", []),
    ("topology.kubernetes.io/region", "cn-north-1", []),
])
def test_product_labels(key: str, value: str, expected: list[tuple[str, str]]) -> None:
    assert default_vocabulary().label_products(key, value) == expected


def test_dra_drivers() -> None:
    vocab = default_vocabulary()
    assert vocab.dra_vendor("gpu.nvidia.com").id == "nvidia"  # type: ignore[union-attr]
    assert vocab.dra_vendor("gaudi.intel.com").id == "intel"  # type: ignore[union-attr]
    assert vocab.dra_vendor("rdma.example.com") is None
    assert vocab.dra_not_accelerator("dra.net") and vocab.dra_not_accelerator("compute-domain-daemon.nvidia.com")


def test_every_catalog_rule_names_a_vocabulary_vendor() -> None:
    from sovereign.catalog import default_catalog

    vendors = set(default_vocabulary().vendors)
    for jur in default_catalog().jurisdictions.values():
        assert {r.vendor for r in jur.accelerators.rules} <= vendors
