"""Admission webhooks are served from inside the cluster (or at least inside the jurisdiction).

The API server sends every admitted object (Secrets and ConfigMaps included) to each matching webhook. A
``clientConfig.url`` webhook is called outside the cluster; if its host is not provably in the jurisdiction,
every matching object crosses the border on every write.
"""

from __future__ import annotations

from collections.abc import Iterator

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import ResourceRule
from policies.framework.values import as_list, as_map, text


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.group != "admissionregistration.k8s.io":
        return
    jur = ctx.jurisdiction.id
    for i, hook in enumerate(as_list(obj.props.get("webhooks"))):
        h = as_map(hook)
        url = text(as_map(h.get("clientConfig")).get("url"))
        if not url:
            continue
        ok, place = place_host(host_of(url), ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not ok:
            yield (f"{obj.ref} webhook {text(h.get('name')) or i} calls {url} outside the cluster, in {place}, "
                   f"outside {jur}: the API server would send every matching object there on each write")


RULE = ResourceRule(
    id="webhook-in-cluster",
    protects="Admission webhooks receive objects only inside the cluster or the jurisdiction (no foreign "
    "clientConfig.url).",
    remediation="serve the webhook from an in-cluster Service (clientConfig.service) or from a host the "
    "jurisdiction owns",
    severity="high",
    check=check,
)
