"""``sovereign reach``: ask the connectivity proof what a workload can reach, offline, from manifests.

One question (``--from`` / ``--to``), many (``--queries FILE``), or a per-jurisdiction summary of every path
that leaves (``--summary``). CNI behaviour comes from the stack (``--stack``) or from flags; flags given
explicitly override the stack.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from sovereign.catalog.model import Catalog, IPNetwork
from sovereign.cli import exitcodes
from sovereign.connectivity import CniParams, ConnectivityReport, analyze
from sovereign.connectivity.coverage import not_read
from sovereign.connectivity.inventory import to_manifests
from sovereign.connectivity.manifests import load as load_manifests
from sovereign.connectivity.report import SERVICE_PREFIX, WORKLOAD_PREFIX
from sovereign.core.clock import evaluation_time
from sovereign.core.errors import InputError, InputErrors
from sovereign.core.exemptions import EXEMPTIONS_KEY, Exemption, ExemptionError, parse_exemptions
from sovereign.core.suggest import did_you_mean
from sovereign.core.yamlio import parse_yaml_documents, read_text
from sovereign.kinds.object_identity import last_applied
from sovereign.output.reach_formats import Caveats, ReachAnswers, ReachDestinations, ReachSummary, summary, verdict
from sovereign.output.registry import formats, render, write_output
from sovereign.stackconfig.model import PolicyApi

_PORT_SUFFIX = re.compile(r"^(?P<target>.+?)(?::(?P<port>\d+)(?:/(?P<proto>[A-Za-z]+))?)?$")
DESTINATION_LABELS = ("fqdn:", "nodes:", "entity:", "unresolved:")
"""Destinations as ``--from`` alone lists them, which ``--to`` takes back."""
EXPECTATIONS = ("allowed", "denied")
"""What a query may expect (``expect:``); ``mixed`` answers meet neither."""
_BRACKETED = re.compile(r"^\[(?P<ip>[0-9A-Fa-f:.]+)\](?::(?P<port>\d+)(?:/(?P<proto>[A-Za-z]+))?)?$")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reach",
        help="what can a workload reach? allowed/denied with the rule chain; cross-border summary",
        description="Answer reachability questions over Kubernetes manifests (NetworkPolicy, "
        "AdminNetworkPolicy/BaselineAdminNetworkPolicy, ClusterNetworkPolicy, Cilium). A destination NS/NAME is "
        "the Service of that name when there is one (resolved through its selector and targetPort to its "
        "backends), else the workload or pod; service:NS/NAME and workload:NS/NAME say which. Exit status: with "
        "expectations (expect: in --queries, or --expect), 0 when every one holds and 1 when one fails; a query "
        "without one must be allowed (else 1); --from alone lists what the workload can reach, exit 0; "
        "--summary exits 1 when a path leaves its jurisdiction. 2 on input it cannot read.",
    )
    parser.add_argument("--manifests", type=Path, required=True, help="file or directory of YAML/JSON manifests")
    parser.add_argument("--stack", help="take CNI, jurisdiction and cluster CIDRs from this stack's config")
    parser.add_argument("--jurisdiction", help="jurisdiction id of the cluster (default: the stack's)")
    parser.add_argument("--catalog", type=Path, help="catalog directory (default: the project's catalog)")
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--from", dest="source", help="source NS/NAME (workload or pod); alone: everything it can "
                      "reach, by destination class; world or an IP outside the cluster: a client outside it "
                      "(with --to)")
    what.add_argument("--queries", type=Path, help="YAML/JSON list of {from, to, port, protocol, expect}")
    what.add_argument("--summary", action="store_true", help="per jurisdiction: every path that leaves it")
    parser.add_argument("--to", help="NS/NAME (workload, pod or Service) or IP, optionally :PORT[/PROTOCOL]")
    parser.add_argument("--port", type=int, help="destination port (default: any port)")
    parser.add_argument("--protocol", default=None, help="TCP (default), UDP or SCTP")
    parser.add_argument("--expect", choices=EXPECTATIONS, help="with --to: the answer the query must give (exit 1 "
                        "when it does not)")
    parser.add_argument("--format", choices=formats("reach-answers"), default="text")
    cni = parser.add_argument_group("CNI behaviour (override the stack; default without --stack: upstream)")
    cni.add_argument("--cni-enforces", help="comma list of " + ",".join(a.value for a in PolicyApi))
    cni.add_argument("--ipblock-matches-pod-ips", dest="ipblock_pods", action="store_true", default=None)
    cni.add_argument("--no-ipblock-matches-pod-ips", dest="ipblock_pods", action="store_false")
    cni.add_argument("--no-end-port", dest="end_port", action="store_false", default=None)
    cni.add_argument("--end-port", dest="end_port", action="store_true")
    cni.add_argument("--no-sctp", dest="sctp", action="store_false", default=None)
    cni.add_argument("--sctp", dest="sctp", action="store_true")
    cni.add_argument("--host-network-selected", dest="host_network", action="store_true", default=None)
    cni.add_argument("--no-host-network-selected", dest="host_network", action="store_false")
    parser.add_argument("--cluster-cidr", action="append", default=[], help="pod/service CIDR (repeatable)")
    parser.add_argument("--policy-pack-config", type=Path,
                        help="the organisation's policy settings (the file `sovereign check` and `pulumi preview "
                        "--policy-pack-config` take): its carve-outs (exemptions of unjudged-object) accept objects "
                        "reach cannot read, as the check accepts them")
    parser.add_argument("--at", help="evaluation time (ISO 8601) for the carve-outs' expiry (default: "
                        "$SOVEREIGN_AT, else now)")
    parser.set_defaults(func=run)


# ---------------------------------------------------------------------------------------------- inputs


def _cni(args: argparse.Namespace, base: CniParams) -> CniParams:
    params = base
    if args.cni_enforces is not None:
        apis = []
        for part in (p.strip() for p in args.cni_enforces.split(",") if p.strip()):
            try:
                apis.append(PolicyApi(part))
            except ValueError:
                raise InputError("--cni-enforces", (), "one of " + ",".join(a.value for a in PolicyApi), part) from None
        params = replace(params, enforces=frozenset(apis))
    for attr, value in (
        ("ipblock_matches_pod_ips", args.ipblock_pods),
        ("end_port", args.end_port),
        ("sctp", args.sctp),
        ("host_network_selected", args.host_network),
    ):
        if value is not None:
            params = replace(params, **{attr: value})
    return params


def _cidrs(values: Sequence[str]) -> list[IPNetwork]:
    out: list[IPNetwork] = []
    for v in values:
        try:
            out.append(ipaddress.ip_network(v, strict=False))
        except ValueError:
            raise InputError("--cluster-cidr", (), "a CIDR", v) from None
    return out


def _protocol(value: Any, where: str, key: Sequence[str | int]) -> str:
    proto = "TCP" if value is None else str(value).upper()
    if proto not in ("TCP", "UDP", "SCTP"):
        raise InputError(where, key, "TCP, UDP or SCTP", value)
    return proto


def parse_target(text: str, where: str = "--to") -> tuple[str, int | None, str | None]:
    """``ns/name``, ``ns/name:5432/TCP``, ``203.0.113.7:443``, ``[2001:db8::1]:443/TCP`` or a bare IPv6."""
    text = text.strip()
    try:
        ipaddress.ip_address(text)
        return text, None, None
    except ValueError:
        pass
    m = _BRACKETED.match(text) or _PORT_SUFFIX.match(text)
    if not m or not m.group(1 if m.re is _BRACKETED else "target"):
        raise InputError(where, (), "NS/NAME or IP, optionally :PORT[/PROTOCOL]", text)
    target = m.group("ip") if m.re is _BRACKETED else m.group("target")
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not 1 <= port <= 65535:
        raise InputError(where, (), "a port 1..65535", port)
    if target.startswith(DESTINATION_LABELS):
        return target, port, m.group("proto")
    if "/" not in target:
        try:
            ipaddress.ip_address(target)
        except ValueError:
            raise InputError(where, (), "NS/NAME or an IP address", target) from None
    return target, port, m.group("proto")


def _load_queries(path: Path) -> list[dict[str, Any]]:
    docs = parse_yaml_documents(read_text(path), path)
    if len(docs) != 1 or not isinstance(docs[0], list):
        raise InputError(path, (), "one YAML/JSON list of {from, to, port, protocol, expect}",
                         docs[0] if docs else None)
    out = []
    for i, q in enumerate(docs[0]):
        if not isinstance(q, dict):
            raise InputError(path, [i], "a mapping {from, to, port, protocol, expect}", q)
        unknown = set(q) - {"from", "to", "port", "protocol", "expect"}
        if unknown:
            raise InputError(path, [i], "only the keys from, to, port, protocol, expect", sorted(unknown))
        if q.get("expect") is not None and q["expect"] not in EXPECTATIONS:
            raise InputError(path, [i, "expect"], " or ".join(EXPECTATIONS), q["expect"])
        for key in ("from", "to"):
            if not isinstance(q.get(key), str) or not q[key]:
                raise InputError(path, [i, key], "a non-empty string (NS/NAME or IP)", q.get(key))
        port = q.get("port")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535):
            raise InputError(path, [i, "port"], "a port 1..65535", port)
        target, tport, tproto = parse_target(q["to"], str(path))
        out.append(
            {
                "from": q["from"],
                "to": target,
                "port": port if port is not None else tport,
                "protocol": _protocol(q.get("protocol") or tproto, str(path), [i, "protocol"]),
                "expect": q.get("expect"),
            }
        )
    if not out:
        raise InputError(path, (), "at least one query (an empty list asks nothing, and would pass)", docs[0])
    return out


# ---------------------------------------------------------------------------------------------- output


def _known_source(report: ConnectivityReport, ref: str, where: str, key: list[str | int]) -> None:
    """A workload or pod of the input, or a source outside the cluster (``world``, an IP outside its CIDRs)."""
    try:
        if report.outside_source(ref) is not None:
            return
    except InputError as exc:
        raise InputError(where, [*key, "from"], exc.expected, found_text=exc.found) from None
    if ref not in report.workloads:
        raise InputError(where, [*key, "from"], "a workload or pod NS/NAME in the manifests, or world / an IP "
                         "outside the cluster" + did_you_mean(ref, report.workloads), ref)


def _known_destination(report: ConnectivityReport, dst: str, where: str, key: list[str | int]) -> None:
    """A destination written as a name must name a workload, pod or Service of the input (an IP or a destination
    label is the engine's to check)."""
    bare = dst.removeprefix(SERVICE_PREFIX).removeprefix(WORKLOAD_PREFIX)
    if dst.count(":") > (1 if dst.startswith((SERVICE_PREFIX, WORKLOAD_PREFIX)) else 0) or "/" not in bare:
        return  # an IP, fqdn:, nodes:, entity:, unresolved:
    if dst.startswith(SERVICE_PREFIX):
        names: Sequence[str] = report.service_refs
    elif dst.startswith(WORKLOAD_PREFIX):
        names = report.workloads
    else:
        names = (*report.workloads, *report.service_refs)
    if bare not in names:
        raise InputError(where, [*key, "to"], "NS/NAME of a workload, pod or Service in the manifests"
                         + did_you_mean(bare, names), dst)


def _answer(report: ConnectivityReport, q: dict[str, Any], where: str, index: int | None) -> dict[str, Any]:
    key: list[str | int] = [index] if index is not None else []
    _known_source(report, q["from"], where, key)
    _known_destination(report, q["to"], where, key)
    try:
        ans = report.query(q["from"], q["to"], q["port"], q["protocol"])
    except InputError as exc:
        raise InputError(where, [*key, *exc.key_path], exc.expected, found_text=exc.found) from None
    out = {
        "query": q,
        "allowed": ans.allowed,
        "mixed": ans.mixed,
        "rules": [str(r) for r in ans.rules],
        "reason": ans.reason,
        "resolved": list(ans.resolved),
        "backends": [{"backend": b.backend, "port": b.port, "allowed": b.allowed, "rules": [str(r) for r in b.rules]}
                     for b in ans.backends],
    }
    out["verdict"] = verdict(out)
    out["passed"] = out["verdict"] == (q.get("expect") or "allowed")
    return out


# ---------------------------------------------------------------------------------------------- run


def _context(args: argparse.Namespace) -> tuple[CniParams, Catalog | None, str | None, list[IPNetwork]]:
    from sovereign.catalog import default_catalog, load_catalog

    catalog = load_catalog(args.catalog) if args.catalog else default_catalog()
    base = CniParams.upstream()
    jurisdiction = None
    cidrs: list[IPNetwork] = []
    if args.stack:
        from sovereign.stackconfig.loader import load_stack

        stack = load_stack(args.stack, catalog=catalog)
        base = CniParams.from_cni_config(stack.cluster.cni)
        jurisdiction = stack.jurisdiction
        cidrs = [*stack.cluster.pod_cidrs, *stack.cluster.service_cidrs]
    if args.jurisdiction:
        if catalog.jurisdiction(args.jurisdiction) is None:
            raise InputError(
                "--jurisdiction",
                (),
                "a jurisdiction id of the catalog: " + ", ".join(sorted(catalog.jurisdictions)),
                args.jurisdiction,
            )
        jurisdiction = args.jurisdiction
    return _cni(args, base), catalog, jurisdiction, [*cidrs, *_cidrs(args.cluster_cidr)]


def _carve_outs(args: argparse.Namespace) -> list[Exemption]:
    """The exemptions of ``unjudged-object`` in ``--policy-pack-config``, checked as the check checks them."""
    if args.policy_pack_config is None:
        return []
    from sovereign.analyzer.config import read_policy_pack_config
    from sovereign.check.inventory import UNJUDGED_RULE

    config = read_policy_pack_config(args.policy_pack_config)
    entry = config.get(UNJUDGED_RULE)
    raw = entry.get(EXEMPTIONS_KEY) if isinstance(entry, Mapping) else None
    try:
        return parse_exemptions(UNJUDGED_RULE, raw, key_path=(UNJUDGED_RULE,))
    except ExemptionError as exc:
        raise InputError(args.policy_pack_config, exc.key_path, "an exemption as docs/policies.md describes it "
                         "(rule, what it covers, reason, approver, expires)", found_text=exc.problem) from None


def _read(args: argparse.Namespace) -> tuple[ConnectivityReport, Caveats]:
    """The connectivity report over ``--manifests``; an object nothing reads is bad input (closed world)."""
    cni, catalog, jurisdiction, cidrs = _context(args)
    objects, sources = load_manifests(args.manifests)
    applied = last_applied(objects, [", ".join((file, *map(str, where))) for file, where in sources])
    objects, sources = [objects[i] for i in applied.kept], [sources[i] for i in applied.kept]
    unread = not_read(to_manifests(objects, sources), _carve_outs(args), evaluation_time(args.at))
    refused = [n for n in unread if n.refused]
    if refused:
        expected = ("an object whose effect on traffic the connectivity engine can read (reach answers nothing over "
                    "an object it cannot read: leave it out of --manifests, or add its kind to the registry of kinds)")
        raise InputErrors([InputError(n.file, (n.where,) if n.where else (), expected,
                                      found_text=f"{n.object}: {n.reason}") for n in refused])
    report = analyze(objects, cni=cni, catalog=catalog, jurisdiction=jurisdiction, cluster_cidrs=cidrs, sources=sources)
    report.notes = tuple(sorted({*report.notes, *applied.notes()}))  # duplicates: the last counts, said in the answer
    return report, Caveats.of(report, unread)


def run(args: argparse.Namespace) -> int:
    if args.to and not args.source:
        raise InputError("--from", (), "a source with --to", None)
    for flag, value in (("--port", args.port), ("--protocol", args.protocol), ("--expect", args.expect)):
        if value is not None and not args.to:
            raise InputError(flag, (), "--to with it (it says something about one query)", value)
    report, caveats = _read(args)
    if args.summary:
        if not report.workloads:
            raise InputError(args.manifests, (), "at least one workload (an object that runs pods): a summary over "
                             "none would read as clean", found_text="none")
        data = {**summary(report), "notRead": caveats.not_read}
        write_output(render("reach-summary", args.format, ReachSummary(data, len(report.workloads))), None)
        return exitcodes.VIOLATIONS if data["jurisdictions"] else exitcodes.CLEAN
    if args.source and not args.to:
        _known_source(report, args.source, "--from", [])
        if args.source not in report.workloads:
            raise InputError("--to", (), "a destination with --from world or an IP (from outside the cluster reach "
                             "answers a question; --summary lists the inbound paths that leave)", None)
        listing = ReachDestinations(args.source, report.jurisdiction_of(args.source),
                                    report.destinations(args.source), caveats)
        write_output(render("reach-answers", args.format, listing), None)
        return exitcodes.CLEAN
    if args.queries:
        queries = _load_queries(args.queries)
        answers = [_answer(report, q, str(args.queries), i) for i, q in enumerate(queries)]
    else:
        target, port, proto = parse_target(args.to)
        if args.port is not None:
            port = args.port
        q = {
            "from": args.source,
            "to": target,
            "port": port,
            "protocol": _protocol(args.protocol or proto, "--protocol", ()),
            "expect": args.expect,
        }
        answers = [_answer(report, q, "--from/--to", None)]
    write_output(render("reach-answers", args.format, ReachAnswers(answers, caveats)), None)
    return exitcodes.CLEAN if all(a["passed"] for a in answers) else exitcodes.VIOLATIONS
