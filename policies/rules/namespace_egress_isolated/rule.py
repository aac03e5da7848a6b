"""Every governed namespace is egress-isolated: nothing leaves unless a rule allows it.

Kubernetes is default-allow: a pod no egress policy selects may connect anywhere. Isolation comes from a default
deny that takes every pod of the namespace, in an API the cluster's CNI enforces (stack config ``cluster.cni``):
a NetworkPolicy with ``Egress`` in its types (explicitly: without it a policy with no egress rules is
ingress-only) or a Cilium policy with egress rules, whose selector takes every pod; or a deny of 0.0.0.0/0 and
::/0 in AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy (either tier: a baseline deny
decides for every pod that no NetworkPolicy isolates, which is exactly the gap isolation closes) or Cilium
``egressDeny``. The connectivity engine decides which policy does it (``sovereign.connectivity.isolation``): the
same reading of every policy API as the connectivity proof. What the allow rules then let out is judged by
``egress-not-open-world`` and ``no-cross-border-path``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policies.framework.context import RuleContext
from policies.framework.engine import cni_params, plain_objects
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, Finding, StackRule
from policies.framework.values import text
from sovereign.core.labels import METADATA_NAME

POLICY_ROLE = "network-policy"


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    from sovereign.connectivity.isolation import egress_isolation

    namespaces: dict[str, K8sObject | None] = {}
    for obj in objects:
        if obj.kind == "Namespace" and obj.group == "":
            namespaces[obj.name] = obj
    for obj in objects:
        if obj.is_workload:
            namespaces.setdefault(obj.namespace or "default", None)
    governed = sorted(ns for ns in namespaces if ctx.governed(ns))
    labels: dict[str, dict[str, str]] = {}
    for ns in governed:
        ns_obj = namespaces[ns]
        labels[ns] = {str(k): text(v) for k, v in (ns_obj.labels() if ns_obj else {}).items()}
        labels[ns][METADATA_NAME] = ns  # set by the control plane, absent from rendered manifests
    policies = plain_objects(o for o in objects if o.has_role(POLICY_ROLE))
    isolated_by = egress_isolation(policies, cni_params(ctx), labels)
    cni = ctx.stack.cluster.cni
    enforced = ", ".join(sorted(a.value for a in cni.enforces)) if cni else "NetworkPolicy (CNI unknown)"
    for ns in governed:
        if isolated_by[ns]:
            continue
        ns_obj = namespaces[ns]
        yield Finding(
            f"namespace {ns} is not egress-isolated: no default-deny egress policy covers it, so any pod in "
            f"it may send data to any address outside {ctx.jurisdiction.id}. Fix: add a NetworkPolicy with "
            f"podSelector {{}}, policyTypes [Egress] (explicitly) and no egress rules, or an admin-tier deny "
            f"of 0.0.0.0/0 and ::/0 covering it in an API the CNI enforces ({enforced}).",
            ns_obj.urn if ns_obj else None,
        )


RULE = StackRule(
    id="namespace-egress-isolated",
    protects="Every governed namespace is egress-isolated (default deny), so only explicitly allowed "
    "destinations are reachable.",
    remediation="add a default-deny egress NetworkPolicy (podSelector {}, policyTypes [Egress], no egress "
    "rules) to the namespace, or an enforced admin-tier deny of 0.0.0.0/0 and ::/0",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
