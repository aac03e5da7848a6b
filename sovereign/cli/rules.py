"""``sovereign rules``: the pack's rules, as a reviewer or a new team needs them before configuring a check.

The list is the pack's own answer to ``GetAnalyzerInfo`` (any CrossGuard pack: the residency pack runs in process,
another over gRPC), so it shows exactly the policy names ``--policy-pack-config``, ``--rule`` and ``--skip-rule``
take, with their default enforcement and severity. ``--explain ID`` adds, for a pack that offers it
(``explain_rule`` in its ``pack.py``), the rule's rationale, its fix, its config properties and its samples with the
findings each must draw; for any other pack, what the analyzer info says.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sovereign.analyzer.model import COMPANIONS, AnalyzerInfo, PolicyInfo
from sovereign.check.rule_selection import unknown_rule
from sovereign.cli import exitcodes
from sovereign.core.errors import InputError
from sovereign.core.paths import data_root


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list the policy pack's rules, or explain one (rationale, fix, samples)",
        description="List the rules of the policy pack: id (the name --policy-pack-config, --rule and --skip-rule "
        "take), default enforcement, severity and what each protects; with --explain ID, the rule's rationale, fix, "
        "config properties and samples.",
    )
    parser.add_argument("--explain", metavar="ID", help="explain this rule")
    parser.add_argument("--policy-pack", type=Path, help="policy pack directory (default: <root>/policies)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _analyzer_info(pack_dir: Path) -> AnalyzerInfo:
    from sovereign.analyzer.resource import PROJECT
    from sovereign.check.policy_run import prepared_pack

    if not (pack_dir / "__main__.py").is_file():
        raise InputError(pack_dir, (), "a policy pack directory (with __main__.py)", found_text="none")
    with prepared_pack("in-process", pack_dir, config={}, stack="rules", project=PROJECT, catalog=None,
                       at=None) as prepared:
        return prepared.info


def _row(p: PolicyInfo) -> dict[str, Any]:
    return {"id": p.name, "type": p.policy_type, "enforcement": p.enforcement_level, "severity": p.severity,
            "protects": p.description, "companion": p.name in COMPANIONS}


def _explained(pack_dir: Path, info: AnalyzerInfo, rule_id: str) -> dict[str, Any]:
    from sovereign.check.direct_pack import EXPLAIN_FUNCTION, pack_entry

    policy = info.policy(rule_id)
    if policy is None:
        raise unknown_rule("--explain", rule_id, [p.name for p in info.policies])
    explain = pack_entry(pack_dir, EXPLAIN_FUNCTION)
    details = explain(rule_id) if explain is not None else None
    out = {**_row(policy), "remediation": policy.remediation_steps,
           "config": {k: dict(v) for k, v in sorted(policy.config_schema.items())}}
    if isinstance(details, dict):
        out.update({k: details[k] for k in ("rationale", "samples") if k in details})
    return out


def _text_list(info: AnalyzerInfo) -> str:
    rows = [_row(p) for p in info.policies]
    width = max(len(r["id"]) for r in rows)
    lines = [f"{info.name}: {sum(not r['companion'] for r in rows)} rules, {sum(r['companion'] for r in rows)} "
             "companions (they report rule failures and suppressed findings; never disabled by --rule)"]
    for r in rows:
        tag = " (companion)" if r["companion"] else ""
        lines.append(f"  {r['id']:<{width}}  {r['enforcement']:<9} {r['severity']:<8} {r['protects']}{tag}")
    lines.append("`sovereign rules --explain ID` explains one; `sovereign check --rule ID` / `--skip-rule ID` "
                 "select them.")
    return "\n".join(lines) + "\n"


def _text_explained(e: dict[str, Any]) -> str:
    lines = [f"{e['id']} ({e['type']} rule, {e['enforcement']} by default, severity {e['severity']})", "",
             f"Protects: {e['protects']}"]
    if e.get("rationale"):
        lines += ["", "Why:", *(f"  {line}" if line else "" for line in e["rationale"].splitlines())]
    lines += ["", f"Fix: {e['remediation']}"]
    if e["config"]:
        lines += ["", "Config properties (--policy-pack-config):"]
        for name, schema in e["config"].items():
            lines.append(f"  {name}: {schema.get('description', schema.get('type', ''))}")
    for verdict in ("allowed", "disallowed"):
        samples = [s for s in e.get("samples", []) if s["verdict"] == verdict]
        if samples:
            lines += ["", f"{verdict.capitalize()} samples:"]
            for i, s in enumerate(samples):
                lines.append(f"  {s['file']}")
                lines.extend(f"    expect: {x}" for x in s["expect"])
                if i == 0:  # the first in full, as an example; the others by name (--format json has them all)
                    lines.extend(f"    | {line}" for line in s["text"].rstrip("\n").splitlines())
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    pack_dir = Path(args.policy_pack) if args.policy_pack else data_root() / "policies"
    info = _analyzer_info(pack_dir)
    if args.explain:
        explained = _explained(pack_dir, info, args.explain)
        text = (json.dumps(explained, indent=2, sort_keys=True) + "\n" if args.format == "json"
                else _text_explained(explained))
    else:
        text = (json.dumps({"pack": info.name, "rules": [_row(p) for p in info.policies]}, indent=2, sort_keys=True)
                + "\n" if args.format == "json" else _text_list(info))
    sys.stdout.write(text)
    return exitcodes.CLEAN
