"""Key paths to lines (sovereign/core/yaml_locations.py) and objects to the declaration behind them in a stack
file (sovereign/check/stack_locations.py)."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from sovereign.check.stack_locations import StackLocator
from sovereign.core import labels
from sovereign.core.yaml_locations import key_lines, line_of

STACK = """\
# a comment
secretsprovider: awskms://alias/x?region=cn-north-1
config:
  sovereign-clusters:jurisdiction: cn
  sovereign-clusters:tenants:
    - namespace: model-registry
      dataClasses: [model-weights]
  sovereign-clusters:workloads:
    - name: registry
      namespace: model-registry
    - name: trainer
      namespace: training
  sovereign-clusters:storage:
    - name: regulated-ssd
  sovereign-clusters:backups:
    - name: primary
  sovereign-clusters:transfers:
    - id: weights-to-eu
      validUntil: "2027-02-28T00:00:00Z"
"""


def test_key_lines_name_every_key_and_item() -> None:
    lines = key_lines(STACK)
    assert lines[("config",)] == 3
    assert lines[("config", "sovereign-clusters:workloads", 1)] == 11
    assert lines[("config", "sovereign-clusters:workloads", 1, "namespace")] == 12
    assert lines[("config", "sovereign-clusters:transfers", 0, "validUntil")] == 19
    # a missing key: where its nearest parent is
    assert line_of(lines, ("config", "sovereign-clusters:transfers", 0, "scope")) == 18
    assert line_of(lines, ("nowhere",)) == 1


def test_text_that_is_not_yaml_has_no_lines() -> None:
    assert key_lines("a: [unclosed\n") == {}
    assert key_lines("") == {}


@given(st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=5), min_size=1, max_size=8, unique=True))
def test_each_top_level_key_is_on_its_own_line(keys: list[str]) -> None:
    text = "".join(f"{k}: {i}\n" for i, k in enumerate(keys))
    lines = key_lines(text)
    assert [lines[(k,)] for k in keys] == list(range(1, len(keys) + 1))


def _obj(kind: str, name: str, namespace: str = "", **labels_: str) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "labels": dict(labels_)}
    if namespace:
        meta["namespace"] = namespace
    return {"kind": kind, "metadata": meta}


def test_objects_point_at_the_declaration_behind_them() -> None:
    where = StackLocator(STACK, "stacks/Pulumi.cn-prod.yaml")
    workload = {labels.WORKLOAD: "trainer"}
    transfer = {labels.TRANSFER_ID: "weights-to-eu"}
    assert where.line(_obj("Job", "trainer", "training", **workload), "") == 11
    pod_selected = {"kind": "NetworkPolicy", "metadata": {"name": "egress-trainer", "namespace": "training"},
                    "spec": {"podSelector": {"matchLabels": workload}}}
    assert where.line(pod_selected, "") == 11
    assert where.line(_obj("NetworkPolicy", "t", "model-registry", **transfer), "") == 18
    assert where.line(_obj("Namespace", "model-registry"), "") == 6
    assert where.line(_obj("ResourceQuota", "tenant-quota", "model-registry"), "") == 6
    assert where.line(_obj("StorageClass", "regulated-ssd"), "") == 14
    assert where.line(_obj("BackupStorageLocation", "primary", "velero"), "") == 16
    assert where.line(_obj("AdminNetworkPolicy", "sovereign-estate-egress"), "") == 4  # the jurisdiction


def test_stack_level_findings_point_at_what_their_message_names() -> None:
    where = StackLocator(STACK, "stacks/Pulumi.cn-prod.yaml")
    assert where.line(None, "transfer weights-to-eu (CAC-SA-2026-0042) expires on ...") == 18
    assert where.line(None, "training/trainer can send data to 10.20.5.0/24") == 11
    assert where.line(None, "transfer weights-to-eu-2 is unknown") == 4  # a longer id is another transfer
    assert StackLocator("", "x").line(None, "anything") == 1
    assert where.line(None, "the state backend (sovereign-clusters:storage[0].name) is abroad") == 14
    assert where.line(None, "sovereign-clusters:operations.systemImages[1] comes from abroad") == 4  # not there
    assert where.line(None, "the secrets provider of stack cn-prod is abroad") == 2


MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      hostNetwork: true
      containers:
        - name: web
          image: docker.io/library/nginx:1.27
"""


def test_field_paths_a_message_names() -> None:
    from sovereign.check.field_lines import field_paths

    found = field_paths("Deployment shop/web sets spec.template.spec.hostNetwork: true; see spec.containers[0].image")
    assert found == [("spec", "template", "spec", "hostNetwork"), ("spec", "containers", 0, "image")]
    assert field_paths("allowed by NetworkPolicy shop/x egress[0] to s3.cn-north-1.amazonaws.com.cn") == []


def test_a_finding_points_at_the_field_its_message_names(tmp_path: Path) -> None:
    from sovereign.check.field_lines import FieldLines

    path = tmp_path / "m.yaml"
    path.write_text(MANIFESTS)
    fields = FieldLines()
    assert fields.line(str(path), 6, "sets spec.template.spec.hostNetwork: true") == 14
    assert fields.line(str(path), 6, "image spec.template.spec.containers[0].image is abroad") == 17
    # a path the object does not hold, another object's field, or none: the object's document
    assert fields.line(str(path), 6, "spec.template.spec.hostPID is set") == 6
    assert fields.line(str(path), 6, "NetworkPolicy shop/x egress[0] allows it") == 6
    assert fields.line(str(path), 1, "metadata.name is not labelled") == 4
    assert fields.line(str(tmp_path / "gone.yaml"), 6, "spec.template.spec.hostNetwork") == 6
