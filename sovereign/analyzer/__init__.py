"""Drive a CrossGuard policy pack over the analyzer gRPC protocol, the way ``pulumi preview`` does.

The offline tools (``sovereign check``, tests) use this so that what they check is exactly what the real CLI
checks: same process start-up, same config reconciliation, same RPCs in the same order.

Typical use::

    from sovereign.analyzer import PolicyPackProcess, resource_from_manifest

    with PolicyPackProcess.start("policies", stack_config={"sovereign-clusters:jurisdiction": "cn"},
                                 stack="cn-prod") as pack:
        info = pack.get_analyzer_info()
        pack.configure({"transfer-valid": {"at": "2026-11-25"}})
        resources = [resource_from_manifest(m, stack="cn-prod") for m in manifests]
        diagnostics = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sovereign.analyzer.client import AnalyzerError, PolicyPackProcess, stack_config_env
    from sovereign.analyzer.config import effective_policy_config
    from sovereign.analyzer.model import AnalyzerInfo, Diagnostic, PolicyInfo
    from sovereign.analyzer.resource import AnalyzerResource, resource_from_manifest, type_token, urn_for

_HOMES = {
    "AnalyzerError": "client",
    "PolicyPackProcess": "client",
    "stack_config_env": "client",
    "effective_policy_config": "config",
    "AnalyzerInfo": "model",
    "Diagnostic": "model",
    "PolicyInfo": "model",
    "AnalyzerResource": "resource",
    "resource_from_manifest": "resource",
    "type_token": "resource",
    "urn_for": "resource",
}
"""Each public name and its module, imported on first use (PEP 562): ``sovereign check`` imports
``sovereign.analyzer.resource`` before it forks its manifest parse helper, and should not pay for the gRPC client
there."""

__all__ = [
    "AnalyzerError",
    "AnalyzerInfo",
    "AnalyzerResource",
    "Diagnostic",
    "PolicyInfo",
    "PolicyPackProcess",
    "effective_policy_config",
    "resource_from_manifest",
    "stack_config_env",
    "type_token",
    "urn_for",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
