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
