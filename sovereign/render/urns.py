"""Engine-form URNs, provider references and default-provider names, computed offline.

The SDK's mock monitor builds URNs differently from the engine (docs/pulumi-runtime.md §5.1): it prefixes only the
parent's *last* type segment and does not skip the root Stack. Reviewers and the policy pack must see the
URNs a real ``pulumi preview`` would show, so the render recorder mints URNs with the engine's rule
(sdk/go/common/resource/urn/urn.go ``New``) instead, and everything derived from them (parents, dependencies,
provider references) is engine-form from the start.
"""

from __future__ import annotations

import uuid

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
PROVIDER_TYPE_PREFIX = "pulumi:providers:"
_ID_NAMESPACE = uuid.UUID("6f1c2a4e-8f1e-5b7a-9d8e-1c2b3a4d5e6f")
"""Fixed namespace for deterministic ids: the engine would mint a random UUID per provider instead."""


def qualified_type(urn: str) -> str:
    """The ``parent$child`` type chain of a URN (third ``::`` field)."""
    parts = urn.split("::")
    if len(parts) < 4 or not urn.startswith("urn:pulumi:"):
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return parts[2]


def urn_name(urn: str) -> str:
    """The resource name: everything after the type chain (names may contain ``::``)."""
    parts = urn.split("::")
    if len(parts) < 4:
        raise ValueError(f"not a Pulumi URN: {urn!r}")
    return "::".join(parts[3:])


def urn_type(urn: str) -> str:
    """The resource's own type token (last segment of the type chain)."""
    return qualified_type(urn).split("$")[-1]


def engine_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """``urn:pulumi:<stack>::<project>::<parent type chain without the root Stack>$<type>::<name>``."""
    chain = type_
    if parent_urn:
        parent_chain = qualified_type(parent_urn)
        if parent_chain != ROOT_STACK_TYPE:
            chain = f"{parent_chain}${type_}"
    return f"urn:pulumi:{stack}::{project}::{chain}::{name}"


def mock_urn(stack: str, project: str, parent_urn: str, type_: str, name: str) -> str:
    """What ``pulumi.runtime.mocks.MockMonitor.make_urn`` produces; kept to document (and test) the gap."""
    chain = type_
    if parent_urn:
        chain = qualified_type(parent_urn).split("$")[-1] + "$" + type_
    return f"urn:pulumi:{stack}::{project}::{chain}::{name}"


def deterministic_id(urn: str) -> str:
    """A stable stand-in for the physical id the engine/provider would assign (random UUID for providers)."""
    return str(uuid.uuid5(_ID_NAMESPACE, urn))


def provider_reference(urn: str, id_: str) -> str:
    return f"{urn}::{id_}"


def split_provider_reference(ref: str) -> tuple[str, str]:
    """``<urn>::<id>`` -> (urn, id); the id is the part after the last ``::``."""
    urn, sep, id_ = ref.rpartition("::")
    if not sep or not urn.startswith("urn:pulumi:"):
        raise ValueError(f"not a provider reference: {ref!r}")
    return urn, id_


def package_of(type_: str) -> str:
    """``kubernetes:core/v1:Namespace`` -> ``kubernetes``."""
    return type_.split(":", 1)[0]


def default_provider_name(version: str) -> str:
    """Name of the engine's default provider for a package version (pkg/resource/deploy/providers
    ``ProviderRequest.DefaultName``): ``default_4_34_2``, pre-release/build parts appended with ``_``."""
    if not version:
        return "default"
    core, _, build = version.partition("+")
    core, _, pre = core.partition("-")
    numbers = (core.split(".") + ["0", "0", "0"])[:3]
    name = "default_" + "_".join(str(int(n)) for n in numbers)
    for part in [p for p in pre.split(".") if p] + [p for p in build.split(".") if p]:
        name += "_" + part
    return name


def provider_type(package: str) -> str:
    return PROVIDER_TYPE_PREFIX + package
