"""Every transfer is valid: approved, current, lawful for its data classes, and opened only as approved.

Checked on both sides. Declared transfers (stack config): an approval reference, a destination jurisdiction
whose networks hold the destination CIDRs, and data classes the catalog lets leave for that destination under
that regulator. Claimed transfers (objects carrying ``sovereign-clusters.dev/transfer*`` annotations): each
must name a declared transfer that is active at the evaluation time, with the same approval and destination,
and may open only that transfer's destination CIDRs. Under partial config (no declared transfers, e.g.
``sovereign check --manifests``) the annotations are judged on their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from policies.framework.addresses import outside, parse_network
from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import AT_SCHEMA, Finding, StackRule
from policies.framework.transfers import Claim, claims, lawfulness_problems, window_problem
from policies.framework.values import as_list, as_map, text
from sovereign.core.errors import InputError
from sovereign.core.labels import WORKLOAD

if TYPE_CHECKING:
    from sovereign.catalog.model import IPNetwork
    from sovereign.stackconfig.model import Transfer


def _opened_cidrs(obj: K8sObject) -> list[tuple[str, str]]:
    """(where, cidr) of every CIDR an allow-type egress rule of the object opens."""
    out: list[tuple[str, str]] = []
    spec = obj.spec
    for i, rule in enumerate(as_list(spec.get("egress"))):
        r = as_map(rule)
        action = text(r.get("action"))
        if action in ("Deny",):
            continue
        for j, peer in enumerate(as_list(r.get("to"))):
            p = as_map(peer)
            block = as_map(p.get("ipBlock"))
            if block:
                out.append((f"egress[{i}].to[{j}].ipBlock", text(block.get("cidr"))))
            for k, net in enumerate(as_list(p.get("networks"))):
                out.append((f"egress[{i}].to[{j}].networks[{k}]", text(net)))
        for k, cidr in enumerate(as_list(r.get("toCIDR"))):
            out.append((f"egress[{i}].toCIDR[{k}]", text(cidr)))
        for k, s in enumerate(as_list(r.get("toCIDRSet"))):
            out.append((f"egress[{i}].toCIDRSet[{k}]", text(as_map(s).get("cidr"))))
    return out


def _declared_findings(ctx: RuleContext, t: Transfer, in_use: bool) -> Iterator[Finding]:
    problems = lawfulness_problems(ctx, t)
    if in_use:
        window = window_problem(t, ctx.at)
        if window:
            problems.append(window + ", yet policies in this stack still open its path")
    if problems:
        yield Finding(
            f"transfer {t.id} ({t.approval_reference or 'no approval'}, {', '.join(t.data_classes)} to "
            f"{t.destination.jurisdiction}) is not valid: {'; '.join(problems)}. Fix: correct or remove the "
            f"transfer in the stack config (sovereign-clusters:transfers), or obtain and record a valid approval."
        )


def _claim_against(ctx: RuleContext, c: Claim, t: Transfer) -> Iterator[str]:
    ref = c.obj.ref
    window = window_problem(t, ctx.at)
    if window:
        yield f"{ref} opens transfer {t.id}, but {window}"
    if c.approval and c.approval != t.approval_reference:
        yield (f"{ref} carries approval {c.approval} for transfer {t.id}, whose approval is "
               f"{t.approval_reference}")
    if c.destination and c.destination != t.destination.jurisdiction:
        yield (f"{ref} names destination {c.destination} for transfer {t.id}, which is approved for "
               f"{t.destination.jurisdiction}")
    if c.obj.kind == "NetworkPolicy":
        selector = as_map(as_map(c.obj.spec.get("podSelector")).get("matchLabels"))
        workload = text(selector.get(WORKLOAD))
        source = f"{c.obj.namespace}/{workload}"
        if not workload:
            yield (f"{ref} opens transfer {t.id} without selecting one workload ({WORKLOAD} label), so pods "
                   f"that are not approved sources could send")
        elif source not in t.source_workloads:
            yield (f"{ref} lets {source} send under transfer {t.id}, whose approved sources are "
                   f"{', '.join(t.source_workloads)}")


def _approved_networks(claimed: Sequence[Transfer]) -> list[IPNetwork]:
    return [c for t in claimed for c in t.destination.cidrs]


def _claim_findings(ctx: RuleContext, c: Claim, declared: dict[str, Transfer]) -> Iterator[Finding]:
    ref = c.obj.ref
    jur = ctx.jurisdiction
    messages: list[str] = []
    claimed: list[Transfer] = []
    if ctx.stack.config is not None:
        if not c.ids:
            messages.append(f"{ref} carries a transfer approval annotation but names no transfer")
        for tid in c.ids:
            t = declared.get(tid)
            if t is None:
                messages.append(f"{ref} claims transfer {tid}, which the stack config does not declare "
                                f"(declared: {', '.join(sorted(declared)) or 'none'})")
                continue
            claimed.append(t)
            messages.extend(_claim_against(ctx, c, t))
    else:
        from sovereign.core.clock import parse_instant
        from sovereign.stackconfig.model import Transfer, TransferDestination

        # Partial config: the annotations are the only record; judge them as a transfer on their own.
        try:
            start = parse_instant(c.valid_from or "1970-01-01", source=ref, key_path=("transfer-valid-from",))
            end = parse_instant(c.valid_until, source=ref, key_path=("transfer-valid-until",)) \
                if c.valid_until else None
        except InputError as exc:
            start, end = None, None
            messages.append(f"{ref} has an unreadable transfer validity: {exc.message}")
        if not c.approval:
            messages.append(f"{ref} claims transfer {', '.join(c.ids) or '?'} without an approval reference")
        if start is not None and end is None:
            messages.append(f"{ref} claims a transfer without an expiry (transfer-valid-until)")
        if start is not None and end is not None:
            t = Transfer(",".join(c.ids) or "?", c.approval, c.regulator, c.data_classes, (),
                         TransferDestination(c.destination, (), (), ()), start, end)
            window = window_problem(t, ctx.at)
            if window:
                messages.append(f"{ref} opens transfer {t.id}, but {window}")
            if not c.data_classes or not c.destination:
                messages.append(f"{ref} claims a transfer without data classes or destination annotations")
            else:
                messages.extend(f"{ref}: {p}" for p in lawfulness_problems(ctx, t) if "approval" not in p)
    if claimed:
        approved = _approved_networks(claimed)
        inside = [*jur.networks, *ctx.stack.cluster.cidrs, *approved]
        for where, cidr in _opened_cidrs(c.obj):
            net = parse_network(cidr)
            if net is None or outside([net], inside):
                messages.append(f"{ref} {where} opens {cidr}, beyond the approved destination "
                                f"{', '.join(str(a) for a in approved) or '(none)'} of transfer "
                                f"{', '.join(t.id for t in claimed)}")
    for m in messages:
        yield Finding(m + ". Fix: render transfer policies only from valid declared transfers (the program "
                      "does), with their exact approval, destination and sources.", c.obj.urn)


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    declared = {t.id: t for t in ctx.stack.transfers}
    all_claims = list(claims(objects))
    in_use = {i for c in all_claims for i in c.ids}
    for tid in sorted(declared):
        yield from _declared_findings(ctx, declared[tid], tid in in_use)
    for c in all_claims:
        yield from _claim_findings(ctx, c, declared)


RULE = StackRule(
    id="transfer-valid",
    protects="Every cross-border transfer is approved, current at the evaluation time, lawful for its data "
    "classes and destination, and opened exactly as approved.",
    remediation="fix or remove the transfer in the stack config; renew expired approvals; open only the "
    "declared destination from the declared sources",
    severity="critical",
    check=check,
    config={"at": AT_SCHEMA},
)
