"""One recorded registration: what the engine would have registered (a module without the Pulumi SDK, so the
manifest helper and the preview builder can use it in processes that never load the SDK)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Registration:
    """One resource as the engine would have registered it (engine-form URNs, checked inputs in wire form)."""

    op: str
    """``create`` for registrations, ``read`` for ``get`` lookups."""
    type: str
    name: str
    urn: str
    id: str
    custom: bool
    remote: bool
    parent: str
    provider: str
    """Provider reference ``<provider urn>::<id>``; empty for providers, components and the Stack."""
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    version: str
    protect: bool
    arrival: int
    """Order in which the monitor received it; informational only (threads make it nondeterministic)."""
    synthesised: bool = False
    """True for the engine's default provider, which the mock runtime never registers."""
