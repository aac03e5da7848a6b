"""The sovereign-residency pack: every rule under ``policies/rules/<rule_pkg>/rule.py``, served as CrossGuard
policies under the Pulumi CLI (``serve``) or run directly by ``sovereign check`` (``open_direct``)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from policies.framework.rule import Rule

if TYPE_CHECKING:
    from policies.framework.runner import DirectPack

PACK_NAME = "sovereign-residency"
RULES_DIR = Path(__file__).resolve().parent / "rules"


def rule_packages() -> list[str]:
    """Rule package names, sorted (a directory with a ``rule.py``)."""
    return sorted(p.name for p in RULES_DIR.iterdir() if (p / "rule.py").is_file() and not p.name.startswith("_"))


def load_rules() -> list[Rule]:
    """Each package's ``RULE``; ids must be unique."""
    rules: list[Rule] = []
    for pkg in rule_packages():
        module = importlib.import_module(f"policies.rules.{pkg}.rule")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule):
            raise TypeError(f"policies/rules/{pkg}/rule.py must define RULE as a Rule")
        rules.append(rule)
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"duplicate rule ids: {', '.join(duplicates)}")
    return rules


def build_policies() -> list[Any]:
    """Every rule as a policy, then ``resource-rule-failures`` and ``rule-failures`` (they report exceptions
    recorded in advisory rules during their RPC, so every rule must have run first; see guard.py)."""
    from policies.framework.guard import failure_policies, to_policy

    return [*(to_policy(r) for r in load_rules()), *failure_policies()]


def serve() -> None:
    """Start the gRPC server (blocks); called by ``__main__.py`` under the CLI."""
    from pulumi_policy import EnforcementLevel, PolicyPack

    PolicyPack(
        PACK_NAME,
        build_policies(),
        enforcement_level=EnforcementLevel.MANDATORY,
        description="Residency rules: nothing residency-bound may leave its jurisdiction.",
    )


def open_direct(*, stack: str, config: Mapping[str, str], catalog: Path | None = None,
                now: datetime | None = None) -> DirectPack:
    """The pack for ``sovereign check``'s direct path: every rule over plain resource data in the caller's process
    (policies/framework/runner.py), answering what the CrossGuard pack would answer under the CLI.

    ``config``: the stack config as the language host passes it (``"sovereign-clusters:<key>"`` -> text);
    ``catalog``: the catalog directory (default: the project's); ``now``: the evaluation time (default:
    ``$SOVEREIGN_AT``, else now)."""
    from policies.framework.runner import DirectPack

    return DirectPack(PACK_NAME, load_rules(), stack=stack, config=config, catalog=catalog, now=now)


def explain_rule(rule_id: str) -> dict[str, Any] | None:
    """What ``sovereign rules --explain`` prints about one rule (None: no such rule): what it protects, why (the
    rule module's docstring), the fix, severity, level, config properties, and its samples with the findings each
    must draw (``policies/rules/<pkg>/samples``). Plain data, so the command needs no import of the pack's types."""
    import inspect

    from policies.framework.samples import load_samples

    for pkg in rule_packages():
        module = importlib.import_module(f"policies.rules.{pkg}.rule")
        rule = getattr(module, "RULE", None)
        if not isinstance(rule, Rule) or rule.id != rule_id:
            continue
        root = RULES_DIR.parent.parent
        return {
            "id": rule.id,
            "protects": rule.protects,
            "rationale": inspect.cleandoc(module.__doc__ or ""),
            "remediation": rule.remediation,
            "severity": rule.severity,
            "enforcement": rule.enforcement,
            "config": {k: dict(v) for k, v in sorted(rule.config_schema().items())},
            "samples": [
                {"verdict": s.verdict, "file": s.path.relative_to(root).as_posix(),
                 "expect": [str(e) for e in s.expect], "text": s.path.read_text(encoding="utf-8")}
                for s in load_samples(pkg)
            ],
        }
    return None

