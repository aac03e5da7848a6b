"""What `pulumi up` may do to each object, seen in the mock runtime's registrations: data-holding kinds are
protected and retained on delete, Jobs are not awaited, and no stack can fall back to a default provider."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from program_support import PROVIDER_TYPE, ROOT

from infra.lifecycle import STATEFUL_KINDS
from sovereign.core import labels

STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in (ROOT / "stacks").glob("Pulumi.*.yaml"))


def _key(r: dict[str, Any]) -> tuple[str, str]:
    return r["inputs"]["apiVersion"], r["inputs"]["kind"]


@pytest.mark.parametrize("stack", STACKS)
def test_data_holding_objects_are_protected_and_retained(capture: Any, stack: str) -> None:
    built = capture(stack)
    assert built.error is None
    held = [r for r in built.k8s if _key(r) in STATEFUL_KINDS]
    assert {k for r in held for k in [_key(r)]} >= {("v1", "Namespace"), ("apps/v1", "StatefulSet")}
    for r in built.k8s:
        expected = _key(r) in STATEFUL_KINDS
        assert (r["protect"], r["retainOnDelete"]) == (expected, expected), (r["name"], _key(r))
    # Neither the provider nor the components are protected: they hold nothing, and a replaced provider is
    # stopped by the protected objects it would take along.
    assert not any(r["protect"] for r in built.registrations if not r["type"].startswith("kubernetes:"))


def test_claims_of_jobs_are_protected(capture: Any) -> None:
    """cn-prod's trainer Job mounts a claim of its own (StatefulSets get theirs from volumeClaimTemplates)."""
    claims = [r for r in capture("cn-prod").k8s if _key(r) == ("v1", "PersistentVolumeClaim")]
    assert claims and all(r["protect"] and r["retainOnDelete"] for r in claims)


@pytest.mark.parametrize("stack", STACKS)
def test_jobs_are_not_awaited(capture: Any, stack: str) -> None:
    """pulumi-kubernetes awaits a Job's completion (10 minutes by default) unless pulumi.com/skipAwait is "true";
    nothing else is exempted from its readiness checks."""
    built = capture(stack)
    for r in built.k8s:
        annotations = r["inputs"]["metadata"].get("annotations", {})
        if r["inputs"]["kind"] == "Job":
            assert annotations.get(labels.PULUMI_SKIP_AWAIT) == "true", r["name"]
        else:
            assert labels.PULUMI_SKIP_AWAIT not in annotations, r["name"]
    assert built.kind("Job"), "every example has a training Job"


@pytest.mark.parametrize("stack", STACKS)
def test_every_stack_disables_the_default_kubernetes_provider(stack: str) -> None:
    """`pulumi:disable-default-providers` (pulumi/pulumi pkg/resource/deploy/default_providers.go): a list of
    package names or "*", read from the stack's config; a resource declared without our explicit provider
    then fails instead of reaching whatever cluster the ambient kubeconfig names."""
    config = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())["config"]
    disabled = config.get("pulumi:disable-default-providers")
    assert isinstance(disabled, list) and {"kubernetes", "*"} & set(disabled), disabled


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_object_uses_the_explicit_provider(capture: Any, stack: str) -> None:
    built = capture(stack)
    (provider,) = [r for r in built.registrations if r["type"] == PROVIDER_TYPE]
    assert all(r["provider"].startswith(provider["urn"] + "::") for r in built.k8s)


def test_lifecycle_table_names_real_kinds() -> None:
    """The table's kinds are spelled as the program's manifests spell them (a typo would protect nothing)."""
    compute = Path(ROOT / "infra" / "compute.py").read_text() + Path(ROOT / "infra" / "tenancy.py").read_text()
    for _api, kind in STATEFUL_KINDS:
        assert f'"kind": "{kind}"' in compute, kind
