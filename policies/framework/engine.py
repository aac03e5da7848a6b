"""What rules need to ask the connectivity engine (sovereign/connectivity): the cluster's CNI parameters as the
stack config states them, and the objects as the plain manifests the engine reads."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.values import is_plain, plain

if TYPE_CHECKING:
    from sovereign.connectivity import CniParams

IRRELEVANT_KEYS = frozenset({"env", "envFrom", "command", "args", "image", "data", "stringData", "livenessProbe",
                             "readinessProbe", "startupProbe", "lifecycle"})
"""Never read by the network model: an unknown value there is not residency-critical for the engine's answers."""


def cni_params(ctx: RuleContext) -> CniParams:
    """The cluster's CNI from the stack config; under partial config (``sovereign check --manifests`` without a
    stack) only the core NetworkPolicy API is taken as enforced: the fewest denies, so the most paths (fail
    closed)."""
    from sovereign.connectivity import CniParams
    from sovereign.stackconfig.model import PolicyApi

    if ctx.stack.cluster.cni is not None:
        return CniParams.from_cni_config(ctx.stack.cluster.cni)
    return CniParams(enforces=frozenset({PolicyApi.NETWORK_POLICY}), ipblock_matches_pod_ips=True, end_port=True,
                     sctp=True, host_network_selected=False)


def plain_objects(objects: Iterable[K8sObject]) -> list[Mapping[str, Any]]:
    """The objects as plain manifests: props holding no unknown placeholder are plain already (``values.readable``
    gives them as they are) and go as they are; the others are copied, each placeholder the engine would read
    raising ``UnknownValueError`` (one in a key the engine never reads is left out)."""
    return [o.props if is_plain(o.props) else plain(o.props, skip=IRRELEVANT_KEYS) for o in objects]
