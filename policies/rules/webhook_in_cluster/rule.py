"""The API server calls out only to the cluster (or the jurisdiction): admission and conversion webhooks, aggregated
APIs.

The API server sends every admitted object (Secrets and ConfigMaps included) to each matching admission webhook,
every stored custom resource to its conversion webhook, and every request of an aggregated API group to the
APIService's backend. A ``clientConfig.url`` is called outside the cluster; if its host is not provably in the
jurisdiction, every matching object crosses the border on every write. A ``service`` reference is followed to the
Service among the checked objects, in whatever namespace it lives: a selector means in-cluster pods; an
ExternalName or hand-written endpoints are the Service's own finding (service-endpoint-in-jurisdiction); a Service
that is not among the checked objects, or has neither a selector nor endpoints, cannot be resolved and fails
closed. An APIService without a service is served by the API server itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policies.framework.addresses import host_of, place_host
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import Finding, StackRule
from policies.framework.services import ServiceIndex, unresolved_message
from policies.framework.values import as_list, as_map, text

ADMISSION = "admissionregistration.k8s.io"
WEBHOOK_KINDS = frozenset({"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"})


def _client_config(ctx: RuleContext, obj: K8sObject, services: ServiceIndex, where: str, config: object,
                   label: str, what: str) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    cfg = as_map(config)
    url = text(cfg.get("url"))
    if url:
        ok, place = place_host(host_of(url), ctx.jurisdiction, ctx.catalog, ctx.stack.cluster.cidrs)
        if not ok:
            yield (f"{obj.ref} {label} calls {url} outside the cluster, in {place}, outside {jur}: the API server "
                   f"would send {what} there")
        return
    service = as_map(cfg.get("service"))
    if service:
        target = services.target(text(service.get("namespace")) or "default", text(service.get("name")))
        if not target.resolved:
            yield unresolved_message(f"{obj.ref} {label} ({where}.service)", target, what, jur)


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    services: ServiceIndex | None = None
    for obj in objects:
        if not obj.has_role("api-callback"):
            continue
        services = services or ServiceIndex(objects)
        messages: list[str] = []
        if obj.group == ADMISSION and obj.kind in WEBHOOK_KINDS:
            for i, hook in enumerate(as_list(obj.props.get("webhooks"))):
                h = as_map(hook)
                messages.extend(_client_config(ctx, obj, services, f"webhooks[{i}].clientConfig",
                                               h.get("clientConfig"), f"webhook {text(h.get('name')) or i}",
                                               "every matching object on each write"))
        elif obj.kind == "CustomResourceDefinition":
            webhook = as_map(as_map(obj.spec.get("conversion")).get("webhook"))
            if webhook:
                messages.extend(_client_config(ctx, obj, services, "spec.conversion.webhook.clientConfig",
                                               webhook.get("clientConfig"), "conversion webhook",
                                               "every stored object of the kind"))
        elif obj.kind == "APIService":
            service = as_map(obj.spec.get("service"))
            if service:
                messages.extend(_client_config(ctx, obj, services, "spec", {"service": service}, "aggregated API",
                                               "every request of the API group"))
        for message in messages:
            yield Finding(message, obj.urn)


RULE = StackRule(
    id="webhook-in-cluster",
    protects="The API server sends objects only inside the cluster or the jurisdiction: admission webhooks, "
    "conversion webhooks and aggregated APIs call a host in the jurisdiction or a Service that resolves in the "
    "cluster, in any namespace.",
    remediation="serve the webhook or API from an in-cluster Service with a selector (checked together with it), or "
    "from a host the jurisdiction owns",
    severity="high",
    check=check,
)
