"""The stack can be deployed and operated from inside its jurisdiction alone.

If the border closed, the team inside must still run ``pulumi up``: read the state, decrypt the secrets, install
the SDK and the provider plugins, and have the nodes pull every image the cluster runs. Each of those comes from
somewhere; this rule places every one with the catalog and reports what lies abroad or cannot be placed:

* the state backend: ``$PULUMI_BACKEND_URL``, else ``Pulumi.yaml``'s ``backend.url``, else the stack's
  ``sovereign-clusters:operations.stateBackend`` (the order in which the Pulumi CLI chooses);
* the secrets provider: the stack file's ``secretsprovider:`` (absent: the backend's default);
* the mirrors: ``operations.packageIndex`` (pip) and ``operations.pluginDownloadUrl`` (Pulumi plugins);
* the system images: ``operations.systemImages`` (CNI, CSI, DNS, metrics...), against the jurisdiction's
  registries. Workload images are checked where the stack is loaded and, as objects, by
  ``image-registry-allowed``.

Under partial config (``sovereign check --manifests``) there is no stack to operate, so nothing is judged.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from policies.framework.context import RuleContext
from policies.framework.destinations import Place
from policies.framework.k8s import K8sObject
from policies.framework.rule import Finding, StackRule
from policies.rules.image_registry.rule import registry_of
from policies.rules.operable_from_inside.endpoints import (
    place_backend,
    place_network_url,
    place_secrets_provider,
    scheme_of,
)

OPS = "sovereign-clusters:operations"


def _finding(ctx: RuleContext, what: str, value: str, source: str, place: Place, fix: str) -> Finding | None:
    jur = ctx.jurisdiction.id
    if place.inside is True:
        return None
    where = f"is not in {jur}: {place.where}" if place.inside is False else f"cannot be placed: {place.where}"
    return Finding(f"{what} {value} ({source}) {where}; if the border closed, stack {ctx.stack.stack} could not "
                   f"be operated from inside {jur}. Fix: {fix}")


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    cfg = ctx.stack.config
    if cfg is None:
        return  # partial config: no stack, no operations to judge
    jur = ctx.jurisdiction.id
    facts, ops = cfg.pulumi, cfg.operations
    if ops is None:
        yield Finding(f"stack {ctx.stack.stack} does not say where it is operated from ({OPS} is not set): its "
                      f"state backend, package and plugin mirrors and system images cannot be placed in {jur}. "
                      f"Fix: declare {OPS} (docs/program.md, \"Operating from inside the jurisdiction\")")
    backend_url = facts.backend_url if facts is not None else None
    backend_source = facts.backend_source if facts is not None else "not read"
    if backend_url is None and ops is not None and ops.state_backend is not None:
        backend_url, backend_source = ops.state_backend, f"{OPS}.stateBackend"
    backend = Place(None, "unknown")
    if backend_url is None:
        if ops is not None:
            yield Finding(f"stack {ctx.stack.stack} names no state backend ({backend_source}; {OPS}.stateBackend "
                          f"is not set): the operators' `pulumi login` decides, which may be Pulumi Cloud "
                          f"abroad. Fix: set {OPS}.stateBackend (or Pulumi.yaml backend.url) to a backend in {jur}")
    else:
        backend = place_backend(ctx, backend_url)
        found = _finding(ctx, "the state backend", backend_url, backend_source, backend,
                         f"keep the state in {jur}: an s3:// bucket with region= of {jur}, a file:// path, or a "
                         f"Pulumi service on a host of {jur}")
        if found:
            yield found
    if facts is None or not facts.stack_file:
        yield Finding(f"the secrets provider of stack {ctx.stack.stack} cannot be read: no stack file "
                      f"(Pulumi.{ctx.stack.stack}.yaml) in the project. Fix: run the pack in the stack's project")
    else:
        provider = facts.secrets_provider or "default"
        source = f"secretsprovider of {facts.stack_file}" if facts.secrets_provider else \
            f"no secretsprovider in {facts.stack_file}: the backend's default"
        place = place_secrets_provider(ctx, provider, backend, scheme_of(backend_url or ""))
        found = _finding(ctx, "the secrets provider", provider, source, place,
                         f"`pulumi stack change-secrets-provider` to a key in {jur} (awskms://...?region= or "
                         f"gcpkms://.../locations/<region>/... of {jur}) or passphrase")
        if found:
            yield found
    if ops is None:
        return
    for what, url, key in (("the package index", ops.package_index, "packageIndex"),
                           ("the plugin mirror", ops.plugin_download_url, "pluginDownloadUrl")):
        found = _finding(ctx, what, url, f"{OPS}.{key}", place_network_url(ctx, url),
                         f"mirror it on a host of {jur}")
        if found:
            yield found
    registries = ", ".join(ctx.jurisdiction.registries) or "none"
    for i, system in enumerate(ops.system_images):
        host = registry_of(system.image)
        if not ctx.jurisdiction.registry_allowed(host):
            yield Finding(f"the {system.component} system image {system.image} ({OPS}.systemImages[{i}]) comes "
                          f"from registry {host}, not a registry of {jur} ({registries}); if the border closed, "
                          f"the nodes of stack {ctx.stack.stack} could not pull it. Fix: mirror it into a registry "
                          f"of {jur} and install it from there")


RULE = StackRule(
    id="operable-from-inside",
    protects="The stack can be deployed and operated from inside its jurisdiction alone: its Pulumi state "
    "backend, secrets provider, package and plugin mirrors and system images all lie in the jurisdiction.",
    remediation="keep the state backend and the secrets key in the jurisdiction, mirror packages, plugins and "
    "system images there, and declare them (sovereign-clusters:operations, secretsprovider)",
    severity="high",
    check=check,
)
