"""``sovereign kinds``: the registry of Kubernetes kinds, as the closed world sees it.

For each kind: its API group and versions, and its verdict: judged (by which rules), inert (why), or unjudged
(why a known kind cannot be judged). A kind not listed is unjudged: ``sovereign check`` fails on it unless it is
carved out (docs/policies.md, "Closed world").
"""

from __future__ import annotations

import argparse
import json
import sys

from sovereign.cli import exitcodes
from sovereign.core.errors import InputError
from sovereign.kinds.registry import KindEntry, Registry, default_registry
from sovereign.kinds.verdict import INERT, JUDGED, META_RULES, UNJUDGED


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "kinds",
        help="list the registry of Kubernetes kinds: what each kind does and which rules judge it",
        description="List the kinds the residency checker knows (the registry of kinds), each with its verdict: "
        "judged (by which rules), inert (why) or unjudged (why). A kind that is not listed is unjudged: the check "
        "fails on it unless the organisation carves it out (an exemption of unjudged-object).",
    )
    parser.add_argument("kinds", nargs="*", metavar="KIND",
                        help="only these kinds (a kind name, or group/kind)")
    parser.add_argument("--role", help="only kinds with this role (e.g. runs-pods, data-destination)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _verdict(registry: Registry, entry: KindEntry) -> tuple[str, str, list[str]]:
    if entry.inert is not None:
        return INERT, entry.inert, []
    if entry.unjudged is not None:
        return UNJUDGED, entry.unjudged, []
    return JUDGED, "", [r for r in registry.rules_of(entry) if r not in META_RULES]


def _selected(registry: Registry, args: argparse.Namespace) -> list[KindEntry]:
    entries = sorted(registry.kinds.values(), key=lambda e: (e.group, e.kind))
    if args.role:
        if args.role not in registry.roles:
            raise InputError("command line", ("--role",),
                             f"a role of the registry ({', '.join(sorted(registry.roles))})", args.role)
        entries = [e for e in entries if args.role in e.roles]
    if args.kinds:
        wanted = set(args.kinds)
        entries = [e for e in entries if e.kind in wanted or f"{e.group}/{e.kind}" in wanted]
        found = {e.kind for e in entries} | {f"{e.group}/{e.kind}" for e in entries}
        missing = sorted(wanted - found)
        if missing:
            raise InputError("command line", ("KIND",), "kinds of the registry (a kind that is not there is "
                             "unjudged)", found_text=", ".join(missing))
    return entries


def run(args: argparse.Namespace) -> int:
    registry = default_registry()
    entries = _selected(registry, args)
    if args.format == "json":
        doc = []
        for e in entries:
            status, reason, rules = _verdict(registry, e)
            item = {"group": e.group, "kind": e.kind, "versions": list(e.versions), "roles": list(e.roles),
                    "verdict": status, "rules": rules, "reason": reason, "source": e.source}
            if e.pods:
                item["pods"] = [p.at for p in e.pods]
            doc.append(item)
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return exitcodes.CLEAN
    for e in entries:
        status, reason, rules = _verdict(registry, e)
        versions = ", ".join(e.api_versions)
        detail = f"judged by {', '.join(rules)}" if status == JUDGED else f"{status}: {reason}"
        sys.stdout.write(f"{e.group or 'core'}/{e.kind} ({versions}): {detail}\n")
    sys.stdout.write(f"{len(entries)} kind(s); any other kind is unjudged\n")
    return exitcodes.CLEAN
