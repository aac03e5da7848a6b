"""The connectivity proof finds no path out of the jurisdiction except through a valid approved transfer.

The connectivity engine (``sovereign.connectivity``) computes, from every workload, what it can reach under the
policy APIs the cluster's CNI enforces, and which of those destinations lie outside the workload's
jurisdiction (directly, or through in-cluster relays). Each such path is accepted only when the rule chain of
its last hop consists of transfer policies carrying the annotations of a transfer the stack config declares,
that is active at the evaluation time and lawful, whose sources include the sender and whose destination and
ports cover the path. A relayed path (origin -> in-cluster hops -> transfer source -> abroad) is accepted only
when the origin is a source too, or every hop is a declared egress need and the origin's tenant holds a data
class the transfer carries. Network semantics live in the engine; this rule only judges its answers.

Inbound paths (docs/connectivity.md, "Ingress from outside the cluster") are judged the same way: a policy rule
that admits clients abroad lets the workload's data leave on the response path, so it stands only as a transfer
policy of a transfer whose sources include the workload and whose destination covers the clients, on the ports
they connect to. This rule owns every such admission; ``service-endpoint-in-jurisdiction`` owns the doors (a
public load balancer).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from policies.framework.addresses import parse_network
from policies.framework.context import RuleContext
from policies.framework.engine import cni_params, plain_objects
from policies.framework.k8s import K8sObject
from policies.framework.rule import AT_SCHEMA, EXCLUDED_NAMESPACES_SCHEMA, Finding, StackRule
from policies.framework.transfers import Claim, claims, lawfulness_problems, window_problem
from sovereign.core.errors import InputError

if TYPE_CHECKING:
    from sovereign.catalog.model import IPNetwork
    from sovereign.stackconfig.model import Transfer


def _range_networks(dest: str) -> list[IPNetwork] | None:
    if "-" in dest and "/" not in dest and not dest.startswith("fqdn:"):
        lo, _, hi = dest.partition("-")
        try:
            return list(ipaddress.summarize_address_range(ipaddress.ip_address(lo), ipaddress.ip_address(hi)))
        except (ValueError, TypeError):
            return None
    net = parse_network(dest)
    return [net] if net is not None else None


def _covers_destination(t: Transfer, dest: str) -> bool:
    if dest.startswith("fqdn:"):
        name = dest[len("fqdn:"):]
        return any(name == d or (d.startswith("*.") and name.endswith(d[1:])) for d in t.destination.domains)
    nets = _range_networks(dest)
    if nets is None:
        return False  # a workload in a foreign namespace: no transfer names in-cluster peers
    return all(any(n.version == c.version and n.subnet_of(c) for c in t.destination.cidrs)  # type: ignore[arg-type]
               for n in nets)


def _covers_ports(t: Transfer, protocol: str, ports: Sequence[tuple[int, int]]) -> bool:
    allowed = [(p.port or 1, p.end_port or p.port or 65535) for p in t.destination.ports
               if p.protocol.value == protocol]
    if not t.destination.ports:
        return True
    return all(any(a <= lo and hi <= b for a, b in allowed) for lo, hi in ports)


def _fmt_ports(protocol: str, ports: Sequence[tuple[int, int]]) -> str:
    parts = [str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in ports]
    return f"{protocol}/{','.join(parts) if parts else 'any'}"


def _relay_problems(ctx: RuleContext, t: Transfer, path: Any) -> list[str]:
    """Why data of the path's origin may not ride the sender's transfer (empty: it may).

    The transfer approves its sources sending its data classes. A relay (origin -> in-cluster hops -> sender ->
    abroad) is accepted only when the origin is itself a source, or when every in-cluster hop is an egress need
    the stack config declares and the origin's tenant holds at least one data class the transfer carries (the
    declared flow the transfer exists for). The proof has no data-flow labels, so this is the strongest claim
    the config supports; anything else is a way around the approval.
    """
    if path.source in t.source_workloads:
        return []
    cfg = ctx.stack.config
    route = " -> ".join((path.source, *path.hops))
    if cfg is None:
        return [f"the relay {route} cannot be justified without the stack config (declared egress needs, "
                f"tenant data classes)"]
    problems = []
    hops = (path.source, *path.hops)
    for a, b in zip(hops, hops[1:], strict=False):
        w = cfg.workload(a)
        if w is None or not any(need.workload == b for need in w.egress):
            problems.append(f"the hop {a} -> {b} is not an egress need the stack config declares")
    tenant = cfg.tenant(path.source.split("/", 1)[0])
    held = tenant.data_classes if tenant else ()
    if not set(held) & set(t.data_classes):
        problems.append(f"{path.source} holds {', '.join(held) or 'no declared data classes'}, none of which "
                        f"transfer {t.id} carries ({', '.join(t.data_classes)}): its data would be relayed "
                        f"abroad through {path.hops[-1]}")
    return problems


def _why_not(ctx: RuleContext, t: Transfer, sender: str, path: Any, chain_claims: list[Claim]) -> list[str]:
    reasons = []
    window = window_problem(t, ctx.at)
    if window:
        reasons.append(window)
    reasons.extend(lawfulness_problems(ctx, t))
    if sender not in t.source_workloads:
        reasons.append(f"{sender} is not one of its sources ({', '.join(t.source_workloads)})")
    if path.destination_jurisdiction != t.destination.jurisdiction:
        reasons.append(f"it is approved for {t.destination.jurisdiction}, not "
                       f"{path.destination_jurisdiction or 'unattributed space'}")
    elif not _covers_destination(t, path.destination_range):
        reasons.append(f"{path.destination_range} is not within its destination "
                       f"{', '.join([str(c) for c in t.destination.cidrs] + list(t.destination.domains))}")
    if not _covers_ports(t, path.protocol, path.ports):
        reasons.append(f"{_fmt_ports(path.protocol, path.ports)} exceeds its approved ports")
    if not any(c.approval == t.approval_reference for c in chain_claims):
        reasons.append(f"no policy on the path carries its approval {t.approval_reference}")
    if path.hops:
        reasons.extend(_relay_problems(ctx, t, path))
    return reasons


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    from sovereign.connectivity import analyze
    from sovereign.connectivity.coverage import engine_reads

    # Kinds the engine models, and any unknown kind with a pod template: its pods send traffic like a
    # Deployment's (RT-8). The engine's decision, which reach shares.
    relevant = [o for o in objects if engine_reads(o.entry, o.is_workload)]
    manifests = plain_objects(relevant)
    try:
        report = analyze(manifests, cni=cni_params(ctx), catalog=ctx.catalog, jurisdiction=ctx.jurisdiction.id,
                         cluster_cidrs=ctx.stack.cluster.cidrs)
    except InputError as exc:
        yield Finding(f"the connectivity proof cannot read the stack's objects: {exc.message}; without it no "
                      f"path can be shown to stay in {ctx.jurisdiction.id}. Fix: correct the object.")
        return
    index = {(o.kind, o.namespace, o.name): o for o in relevant}
    by_obj = {id(c.obj): c for c in claims(relevant)}
    declared = {t.id: t for t in ctx.stack.transfers}
    by_workload = {f"{o.namespace or 'default'}/{o.name}": o for o in relevant if o.is_workload}
    claimed_keys = {(c.obj.kind, c.obj.namespace, c.obj.name) for c in by_obj.values()}
    unapproved: dict[tuple[str, tuple[str, ...], str], list[Any]] = {}
    for path in report.cross_border():
        ns = path.source.split("/", 1)[0]
        if not ctx.governed(ns):
            continue
        sender = path.hops[-1] if path.hops else path.source
        chain = " -> ".join(str(r) for r in path.rules) or "(no rule)"
        chain_claims: list[Claim] = []
        foreign_links: list[str] = []
        for ref in path.rules:
            obj = index.get((ref.kind, ref.namespace, ref.name))
            claim = by_obj.get(id(obj)) if obj is not None else None
            if claim is None:
                foreign_links.append(str(ref))
            else:
                chain_claims.append(claim)
        if foreign_links or not chain_claims:
            unapproved.setdefault((path.source, path.hops, chain), []).append(path)
            continue
        urn = by_workload[path.source].urn if path.source in by_workload else None
        what = _what(ctx, path, [path])
        ids = set.intersection(*(set(c.ids) for c in chain_claims))
        candidates = [declared[i] for i in sorted(ids) if i in declared]
        if not candidates:
            named = ", ".join(sorted({i for c in chain_claims for i in c.ids})) or "none"
            yield Finding(f"{what}, allowed by {chain}, which claims transfer(s) {named} that the stack config "
                          f"does not declare (consistently on every link). Fix: declare the transfer or remove "
                          f"the policy.", urn)
            continue
        failures = {t.id: _why_not(ctx, t, sender, path, chain_claims) for t in candidates}
        if any(not reasons for reasons in failures.values()):
            continue
        detail = "; ".join(f"transfer {tid}: {', '.join(r)}" for tid, r in sorted(failures.items()))
        yield Finding(f"{what}, allowed by {chain}, but no valid approved transfer covers it ({detail}). Fix: "
                      f"narrow the policy to the transfer as approved, or renew/extend the approval.", urn)
    for (source, _hops, chain), paths in sorted(unapproved.items()):
        urn = by_workload[source].urn if source in by_workload else None
        links = sorted({str(r) for p in paths for r in p.rules if (r.kind, r.namespace, r.name) not in claimed_keys})
        yield Finding(f"{_what(ctx, paths[0], paths)}, allowed by {chain}; {', '.join(links) or 'the chain'} is "
                      f"not a transfer policy of an approved transfer. Fix: remove the allowing rule (isolate the "
                      f"namespace with a default deny), or declare the transfer in the stack config and let the "
                      f"program render its policies.", urn)


def _what(ctx: RuleContext, first: Any, paths: Sequence[Any]) -> str:
    """One sentence for one path, or for a group of paths from the same source through the same rules."""
    route = first.source + (f" via {' -> '.join(first.hops)}" if first.hops else "")
    home = first.source_jurisdiction or ctx.jurisdiction.id
    if first.direction == "inbound":
        clients = sorted({p.destination_range for p in paths})
        places = sorted({p.destination_jurisdiction or "unattributed address space" for p in paths})
        shown = ", ".join(clients[:3]) + (f" and {len(clients) - 3} more" if len(clients) > 3 else "")
        ports = ", ".join(sorted({_fmt_ports(p.protocol, p.ports) for p in paths}))
        return (f"{first.source} accepts connections from {shown} ({', '.join(places)}) on {ports}: its data "
                f"leaves {home} on the response path")
    if len(paths) == 1:
        return (f"{route} can send data to {first.destination_range} "
                f"({first.destination_jurisdiction or 'unattributed address space'}) on "
                f"{_fmt_ports(first.protocol, first.ports)}, leaving {home}")
    reached = sorted({p.destination_jurisdiction or "unattributed address space" for p in paths})
    protocols = "/".join(sorted({p.protocol for p in paths}))
    dests = sorted({p.destination_range for p in paths})
    return (f"{route} can send data to {len(dests)} destination ranges outside {home} (e.g. {dests[0]}), reaching "
            f"{', '.join(reached)} on {protocols}")


RULE = StackRule(
    id="no-cross-border-path",
    protects="No workload can reach an address outside its jurisdiction except through a valid, approved, "
    "currently active transfer (connectivity proof).",
    remediation="remove the allowing rule, or declare the transfer in the stack config and let the program "
    "render exactly its policies",
    severity="critical",
    check=check,
    config={"at": AT_SCHEMA, "excludedNamespaces": EXCLUDED_NAMESPACES_SCHEMA},
)
