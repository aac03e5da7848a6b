"""Network policies never open egress to the world or to address space outside the jurisdiction.

Allow rules are read per API (docs/connectivity.md): a NetworkPolicy egress rule with an empty ``to`` (ports only,
or ``{}``) allows every destination; an ipBlock's ``except`` list can leave foreign space open; Cilium's
``world`` entity is 0.0.0.0/0 and an L4-only Cilium rule allows every peer on its ports; ANP/BANP ``Allow`` and
ClusterNetworkPolicy ``Accept`` rules open their ``networks`` and ``domainNames``.

Calico's own policies (``projectcalico.org/v3`` and ``crd.projectcalico.org/v1`` NetworkPolicy and
GlobalNetworkPolicy, RT-15) are read too: Calico evaluates them by ``order`` before the Kubernetes NetworkPolicies
it runs at order 1000, so one ``Allow`` beats every namespace default deny. An ``Allow`` egress rule is judged by
its ``destination``: ``nets`` minus ``notNets``; ``notNets`` alone, ``notSelector``/``notNamespaceSelector``
alone or no destination at all reach the world; ``domains`` are placed like FQDNs; positive ``selector``,
``namespaceSelector``, ``serviceAccounts`` and ``services`` stay in the cluster, except through network sets,
so (Global)NetworkSets are judged on their own ``nets`` and ``allowedEgressDomains``; a destination field the
rule does not know fails closed. Staged policies are not enforced and are skipped.

Network-policy objects of any other API the pack does not model (Antrea, OVN-Kubernetes EgressFirewall,
OpenShift EgressNetworkPolicy, ...) are flagged as un-analysable when they carry egress rules that are not all
deny (or Pass) rules: the pack cannot show where they let traffic go.

Destinations inside other jurisdictions' catalogued networks, in a policy that carries transfer annotations,
are left to the stack rules (``transfer-valid`` checks the approval, ``no-cross-border-path`` the path);
unattributed space (the Internet) never is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from policies.framework.addresses import outside, parse_network, place_host, subtract
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import EXCLUDED_NAMESPACES_SCHEMA, ResourceRule
from policies.framework.values import as_list, as_map, text
from sovereign.core.labels import TRANSFER_APPROVAL, TRANSFER_ID

if TYPE_CHECKING:
    from sovereign.catalog.model import IPNetwork

WORLD_ENTITIES = frozenset({"world", "world-ipv4", "world-ipv6", "all"})
CILIUM_L3_FIELDS = ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toFQDNs", "toNodes",
                    "toGroups", "toRequires")
MODELLED_GROUPS = frozenset({"networking.k8s.io", "policy.networking.k8s.io", "cilium.io"})
CALICO_GROUPS = frozenset({"projectcalico.org", "crd.projectcalico.org"})
CALICO_POLICY_KINDS = frozenset({"NetworkPolicy", "GlobalNetworkPolicy"})
CALICO_SET_KINDS = frozenset({"NetworkSet", "GlobalNetworkSet"})
CALICO_NOT_ALLOW = frozenset({"Deny", "Log", "Pass"})
CALICO_IN_CLUSTER = ("selector", "namespaceSelector", "serviceAccounts", "services")
CALICO_DESTINATION_KEYS = frozenset({"nets", "notNets", "selector", "notSelector", "namespaceSelector",
                                     "notNamespaceSelector", "ports", "notPorts", "serviceAccounts", "services",
                                     "domains"})
NON_ALLOW_ACTIONS = frozenset({"deny", "drop", "reject", "pass"})
"""Actions that allow nothing themselves (Pass hands the decision to the Kubernetes policies, which are read)."""
WORLD_CIDRS = ("0.0.0.0/0", "::/0")
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


def _calico_destination(ctx: RuleContext, obj: K8sObject, where: str, dest: Any) -> Iterator[str]:
    jur = ctx.jurisdiction.id
    d = as_map(dest)
    unknown = sorted(k for k in d if k not in CALICO_DESTINATION_KEYS)
    if unknown:
        yield (f"{obj.ref} {where}.destination has fields the pack does not interpret ({', '.join(unknown)}); "
               f"the Allow cannot be shown to stay in {jur}")
    nets = [text(n) for n in as_list(d.get("nets"))]
    not_nets = [text(n) for n in as_list(d.get("notNets"))]
    for k, cidr in enumerate(nets):
        yield from _cidr_findings(ctx, obj, f"{where}.destination.nets[{k}]", cidr, not_nets, "nets")
    for k, name in enumerate(as_list(d.get("domains"))):
        yield from _domain_findings(ctx, obj, f"{where}.destination.domains[{k}]", text(name))
    if nets or d.get("domains") is not None or any(d.get(key) is not None for key in CALICO_IN_CLUSTER):
        return  # positive matchers: those nets/domains, or endpoints and network sets (judged on their own)
    if not_nets:  # both address families open through one destination: one finding
        found = [m for cidr in WORLD_CIDRS for m in _cidr_findings(ctx, obj, f"{where}.destination.notNets", cidr,
                                                                     not_nets, "implicit nets (notNets only)")]
        if found:
            yield "; ".join(found)
        return
    negated = [k for k in ("notSelector", "notNamespaceSelector") if d.get(k) is not None]
    shape = f"only {' and '.join(negated)}" if negated else ("only ports" if d else "no destination")
    yield (f"{obj.ref} {where} is a Calico Allow with {shape}, which matches every destination address outside "
           f"the cluster, the world outside {jur} included")


def _calico_policy(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    spec = obj.spec
    types = [text(t) for t in as_list(spec.get("types"))]
    if types and "Egress" not in types:
        return
    for i, rule in enumerate(as_list(spec.get("egress"))):
        r = as_map(rule)
        if text(r.get("action")) in CALICO_NOT_ALLOW:
            continue
        yield from _calico_destination(ctx, obj, f"spec.egress[{i}]", r.get("destination"))


def _calico_network_set(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """A set with foreign nets is a path abroad for every Calico Allow whose selector matches its labels; the pack
    does not evaluate Calico selectors against sets, so the set itself must stay in the jurisdiction."""
    for k, cidr in enumerate(as_list(obj.spec.get("nets"))):
        for finding in _cidr_findings(ctx, obj, f"spec.nets[{k}]", text(cidr), [], "nets"):
            yield (f"{finding} (through any Calico Allow rule whose selector matches this set; a deny list belongs "
                   f"in the Deny rule's destination.nets)")
    for k, name in enumerate(as_list(obj.spec.get("allowedEgressDomains"))):
        yield from _domain_findings(ctx, obj, f"spec.allowedEgressDomains[{k}]", text(name))


def _unmodelled(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    """Network policy of an API the pack does not model: flagged when it has egress rules that may allow."""
    rules = [as_map(r) for r in as_list(obj.spec.get("egress"))]
    allowing = [i for i, r in enumerate(rules)
                if text(r.get("action") or r.get("type")).lower() not in NON_ALLOW_ACTIONS]
    if not allowing:
        return
    api = f"{obj.group}/{obj.version}"
    yield (f"{obj.ref} ({api}) is a network policy of an API the pack does not model; its egress rules "
           f"{', '.join(f'spec.egress[{i}]' for i in allowing)} may allow traffic out of {ctx.jurisdiction.id} and "
           f"cannot be analysed. Fix: express egress with NetworkPolicy, AdminNetworkPolicy, ClusterNetworkPolicy, "
           f"Cilium or Calico policies the pack reads, or make these rules deny rules")


def _judge(obj: K8sObject) -> Callable[[RuleContext, K8sObject], Iterator[str]] | None:
    """Which reader judges this object (None: not a network policy)."""
    if obj.kind == "NetworkPolicy" and obj.group == "networking.k8s.io":
        return _network_policy
    if obj.group == "policy.networking.k8s.io":
        return _admin_policy
    if obj.group == "cilium.io":
        return _cilium
    if obj.group in CALICO_GROUPS:
        if obj.kind in CALICO_POLICY_KINDS:
            return _calico_policy
        if obj.kind in CALICO_SET_KINDS:
            return _calico_network_set
        return None  # Staged* policies are not enforced; other Calico kinds carry no egress rules
    if obj.group not in MODELLED_GROUPS and ("NetworkPolicy" in obj.kind or "Firewall" in obj.kind):
        return _unmodelled
    return None


def check(ctx: RuleContext, obj: K8sObject) -> Iterator[str]:
    judge = _judge(obj)
    if judge is None or (obj.namespace and not ctx.governed(obj.namespace)):
        return
    yield from judge(ctx, obj)


RULE = ResourceRule(
    id="egress-not-open-world",
    protects="Network policies (NetworkPolicy, AdminNetworkPolicy, ClusterNetworkPolicy, Cilium, Calico) never "
    "allow egress to the world or to address space outside the jurisdiction; policies of APIs the pack does not "
    "model may not allow egress.",
    remediation="allow egress only to in-jurisdiction networks (catalog) or to the exact destination of a "
    "declared transfer, carrying its transfer annotations; never 0.0.0.0/0, ::/0, world or a rule without `to`",
    severity="critical",
    check=check,
    config={"excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
