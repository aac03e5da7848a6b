"""The pack's settings on the command line, the same for ``check`` and ``diff``: the ``--policy-pack-config`` file
(exactly the format ``pulumi preview --policy-pack-config`` reads), ``--rule``/``--skip-rule`` and ``--soft-fail``.

A rule selection is policy config (``sovereign/check/rule_selection.py``); ``--soft-fail`` changes only the exit
status, as Checkov's does: the report still says what failed.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.check.rule_selection import RuleSelection


@dataclass(frozen=True)
class PackSettings:
    config: dict[str, Any]
    """The raw ``--policy-pack-config`` JSON (shape checked; values are checked against the policies' schemas when
    the pack is configured)."""
    config_source: str
    """What errors in ``config`` name: the file, or ``--policy-pack-config`` when there is none."""
    selection: RuleSelection
    soft_fail: bool


def add_pack_settings_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy settings (as `pulumi preview --policy-pack-config` takes them)")
    group.add_argument(
        "--policy-pack-config",
        type=Path,
        help="policy settings in the JSON format of `pulumi preview --policy-pack-config`: per-policy enforcement "
        "levels and properties, e.g. excludedNamespaces, exemptions (carve-outs are exemptions of unjudged-object)",
    )
    group.add_argument("--rule", action="append", default=[], metavar="ID",
                       help="judge with this rule only (repeatable; `sovereign rules` lists them): the others are "
                       "disabled, as enforcementLevel \"disabled\" in --policy-pack-config would")
    group.add_argument("--skip-rule", action="append", default=[], metavar="ID",
                       help="do not judge with this rule (repeatable)")
    group.add_argument("--soft-fail", action="store_true",
                       help="report every finding but exit 0 even when a mandatory one fails (bad input still exits 2)")


def pack_settings(args: argparse.Namespace) -> PackSettings:
    """The settings the flags give; ``InputError`` naming the file for a malformed ``--policy-pack-config``."""
    config: dict[str, Any] = {}
    if args.policy_pack_config is not None:
        from sovereign.analyzer.config import read_policy_pack_config

        config = read_policy_pack_config(args.policy_pack_config)  # the CLI's shape checks: errors name file and key
    return PackSettings(
        config=config,
        config_source=str(args.policy_pack_config or "--policy-pack-config"),
        selection=RuleSelection(only=tuple(args.rule), skip=tuple(args.skip_rule)),
        soft_fail=bool(args.soft_fail),
    )
