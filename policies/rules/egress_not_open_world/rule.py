"""Network policies never open egress to the world or to address space outside the jurisdiction.

Allow rules are read per API (netpol-semantics.md): a NetworkPolicy egress rule with an empty ``to`` (ports only,
or ``{}``) allows every destination; an ipBlock's ``except`` list can leave foreign space open; Cilium's
``world`` entity is 0.0.0.0/0 and an L4-only Cilium rule allows every peer on its ports; ANP/BANP ``Allow`` and
ClusterNetworkPolicy ``Accept`` rules open their ``networks`` and ``domainNames``.

Destinations inside other jurisdictions' catalogued networks, in a policy that carries transfer annotations,
are left to the stack rules (``transfer-valid`` checks the approval, ``no-cross-border-path`` the path);
unattributed space (the Internet) never is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from policies.framework.addresses import outside, parse_network, place_host, subtract
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.labels import TRANSFER_APPROVAL, TRANSFER_ID

if TYPE_CHECKING:
    from sovereign.catalog.model import IPNetwork

WORLD_ENTITIES = frozenset({"world", "world-ipv4", "world-ipv6", "all"})
CILIUM_L3_FIELDS = ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs", "toNodes",
                    "toGroups", "toRequires")
KINDS = frozenset({"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy",
                   "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"})
MAX_SHOWN = 4


def _is_transfer(obj: K8sObject) -> bool:
    ann = obj.annotations()
    return bool(text(ann.get(TRANSFER_ID)) or text(ann.get(TRANSFER_APPROVAL)))


def _describe(ctx: RuleContext, blocks: Sequence[IPNetwork]) -> str:
    """Name the other jurisdictions whose networks the open blocks reach, then the unattributed rest."""
    reached = []
    for jur in sorted(ctx.catalog.jurisdictions.values(), key=lambda j: j.id):
        if jur.id == ctx.jurisdiction.id:
            continue
        nets = [n for n in jur.networks if any(n.version == b.version and n.overlaps(b) for b in blocks)]
        if nets:
            reached.append(f"{jur.id} ({', '.join(str(n) for n in nets)})")
    covered = [n for j in ctx.catalog.jurisdictions.values() for n in j.networks]
    rest = outside(blocks, covered)
    if rest:
        shown = ", ".join(str(b) for b in rest[:MAX_SHOWN])
        more = f" and {len(rest) - MAX_SHOWN} more blocks" if len(rest) > MAX_SHOWN else ""
        reached.append(f"unattributed space {shown}{more}")
    return "; ".join(reached)


def _cidr_findings(
    ctx: RuleContext, obj: K8sObject, where: str, cidr: str, excepts: list[str], label: str = "ipBlock"
) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    net = parse_network(cidr)
    if net is None:
        yield f"{obj.ref} {where} has an unparsable CIDR {cidr!r}; it cannot be shown to stay in {jur}"
        return
    holes = [h for h in (parse_network(e) for e in excepts) if h is not None]
    open_blocks = subtract(net, holes)
    inside = [*ctx.jurisdiction.networks, *ctx.stack.cluster.cidrs]
    foreign = outside(open_blocks, inside)
    if not foreign:
        return
    world = net.prefixlen == 0
    catalogued = [n for j in ctx.catalog.jurisdictions.values() for n in j.networks]
    if _is_transfer(obj) and not world and not outside(foreign, catalogued):
        # Only other jurisdictions' catalogued networks: a declared transfer's destination, judged by
        # transfer-valid and no-cross-border-path. Unattributed space (the open Internet) is never excused.
        return
    shape = f"{label} {cidr}" + (f" except {excepts}" if excepts else "")
    what = f"the world ({cidr})" if world else cidr
    leaves = ", which leaves foreign space open" if excepts else ""
    yield (f"{obj.ref} {where} {shape} allows egress to {what}{leaves}, reaching {_describe(ctx, foreign)} "
           f"— data from its pods may cross the {jur} border")


def _domain_findings(ctx: RuleContext, obj: K8sObject, where: str, name: str) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    if name.strip() in ("*", "**", "*.*"):
        yield f"{obj.ref} {where} allows egress to every domain ({name}), i.e. the world outside {jur}"
        return
    # A glob is judged by a name it matches: `*.x` (one label, Cilium/ANP) and `**.x` (several) both match
    # `<label>.x`; the catalog's own `*.x` patterns match the same names, so `*.amazonaws.com.cn` stays in cn.
    probe = name
    for prefix in ("**.", "*."):
        if name.startswith(prefix):
            probe = "sovereign-probe." + name[len(prefix):]
            break
    ok, place = place_host(probe, ctx.jurisdiction, ctx.catalog)
    attributed = place.startswith("jurisdiction ")
    if not ok and not (_is_transfer(obj) and attributed):
        yield f"{obj.ref} {where} allows egress to domain {name} in {place}, outside {jur}"


def _network_policy(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    spec = obj.spec
    types = [text(t) for t in as_list(spec.get("policyTypes"))]
    rules = as_list(spec.get("egress"))
    if types and "Egress" not in types:
        return  # ingress-only: egress rules are ignored
    for i, rule in enumerate(rules):
        r = as_map(rule)
        peers = as_list(r.get("to"))
        if not peers:
            ports = as_list(r.get("ports"))
            what = "a ports-only rule" if ports else "an empty rule"
            yield (f"{obj.ref} egress[{i}] is {what} (no `to`), which allows egress to every destination, the "
                   f"world outside {ctx.jurisdiction.id} included")
            continue
        for j, peer in enumerate(peers):
            block = as_map(as_map(peer).get("ipBlock"))
            if block:
                yield from _cidr_findings(ctx, obj, f"egress[{i}].to[{j}]", text(block.get("cidr")),
                                          [text(e) for e in as_list(block.get("except"))])


def _admin_policy(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    allow = {"Allow", "Accept"}
    for i, rule in enumerate(as_list(obj.spec.get("egress"))):
        r = as_map(rule)
        if text(r.get("action")) not in allow:
            continue
        for j, peer in enumerate(as_list(r.get("to"))):
            p = as_map(peer)
            for k, cidr in enumerate(as_list(p.get("networks"))):
                yield from _cidr_findings(ctx, obj, f"egress[{i}].to[{j}].networks[{k}]", text(cidr), [], "network")
            for k, name in enumerate(as_list(p.get("domainNames"))):
                yield from _domain_findings(ctx, obj, f"egress[{i}].to[{j}].domainNames[{k}]", text(name))


def _cilium_rules(obj: K8sObject) -> Iterator[tuple[str, Any]]:
    if obj.props.get("spec") is not None:
        yield "spec", obj.spec
    for i, spec in enumerate(as_list(obj.props.get("specs"))):
        yield f"specs[{i}]", as_map(spec)


def _cilium(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    for prefix, spec in _cilium_rules(obj):
        for i, rule in enumerate(as_list(as_map(spec).get("egress"))):
            r = as_map(rule)
            where = f"{prefix}.egress[{i}]"
            if not any(r.get(f) is not None for f in CILIUM_L3_FIELDS):
                if r.get("toPorts") is not None:
                    yield (f"{obj.ref} {where} is an L4-only rule (toPorts without a peer), which allows those "
                           f"ports to every peer, the world outside {jur} included")
                continue  # `{}` selects nothing in Cilium (its default-deny idiom)
            entities = sorted({text(e) for e in as_list(r.get("toEntities"))} & WORLD_ENTITIES)
            if entities:
                yield (f"{obj.ref} {where}.toEntities {entities} allows egress to the world (everything outside "
                       f"the cluster, same as 0.0.0.0/0), beyond {jur}")
            for k, cidr in enumerate(as_list(r.get("toCIDR"))):
                yield from _cidr_findings(ctx, obj, f"{where}.toCIDR[{k}]", text(cidr), [], "CIDR")
            for k, item in enumerate(as_list(r.get("toCIDRSet"))):
                s = as_map(item)
                if not text(s.get("cidr")) and text(s.get("cidrGroupRef")):
                    yield (f"{obj.ref} {where}.toCIDRSet[{k}] allows egress to CiliumCIDRGroup "
                           f"{text(s.get('cidrGroupRef'))}, whose CIDRs the pack cannot see; it cannot be shown "
                           f"to stay in {jur} (list the CIDRs in the policy)")
                    continue
                yield from _cidr_findings(ctx, obj, f"{where}.toCIDRSet[{k}]", text(s.get("cidr")),
                                          [text(e) for e in as_list(s.get("except"))], "CIDR")
            for k, fqdn in enumerate(as_list(r.get("toFQDNs"))):
                f = as_map(fqdn)
                name = text(f.get("matchName")) or text(f.get("matchPattern"))
                yield from _domain_findings(ctx, obj, f"{where}.toFQDNs[{k}]", name)


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    if obj.namespace and not ctx.governed(obj.namespace):
        return
    if obj.kind == "NetworkPolicy" and obj.group == "networking.k8s.io":
        yield from _network_policy(ctx, obj)
    elif obj.group == "policy.networking.k8s.io":
        yield from _admin_policy(ctx, obj)
    elif obj.group == "cilium.io":
        yield from _cilium(ctx, obj)


RULE = ResourceRule(
    id="egress-not-open-world",
    protects="Network policies (NetworkPolicy, AdminNetworkPolicy, ClusterNetworkPolicy, Cilium) never allow "
    "egress to the world or to address space outside the jurisdiction.",
    remediation="allow egress only to in-jurisdiction networks (catalog) or to the exact destination of a "
    "declared transfer, carrying its transfer annotations; never 0.0.0.0/0, ::/0, world or a rule without `to`",
    severity="critical",
    kinds=KINDS,
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
