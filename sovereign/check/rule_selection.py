"""Which of a pack's rules a run judges with: ``--rule`` (only these) and ``--skip-rule`` (all but these).

A selection is policy config, nothing else: a rule left out gets ``enforcementLevel: disabled``, exactly what a
``--policy-pack-config`` file gives ``pulumi preview --policy-pack`` (docs/cli.md shows the file that reproduces a
selection under the real CLI). So both transports and the real CLI judge the same way, and the report lists the
rules that did not run, as it lists any policy a config disabled.

The pack's companions (``sovereign.analyzer.model.COMPANIONS``: the reporters of rule failures and of suppressed
findings) are never selected away: they are not rules, and without them a failing rule would pass silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sovereign.analyzer.model import COMPANIONS, AnalyzerInfo
from sovereign.core.errors import InputError, InputErrors
from sovereign.core.suggest import did_you_mean

DISABLED = "disabled"


@dataclass(frozen=True)
class RuleSelection:
    only: tuple[str, ...] = ()
    """``--rule``: judge with these rules only (empty: every rule)."""
    skip: tuple[str, ...] = ()
    """``--skip-rule``: never judge with these."""

    @property
    def everything(self) -> bool:
        return not self.only and not self.skip

    def disabled(self, info: AnalyzerInfo) -> tuple[str, ...]:
        """The pack's rules this selection switches off, in pack order; ``InputError`` for an id the pack lacks."""
        if self.everything:
            return ()
        rules = [p.name for p in info.policies if p.name not in COMPANIONS]
        flags = (("--rule", self.only), ("--skip-rule", self.skip))
        problems = [unknown_rule(flag, rule, rules) for flag, ids in flags for rule in ids if rule not in rules]
        if problems:
            raise InputErrors(problems)
        return tuple(r for r in rules if r in self.skip or (self.only and r not in self.only))

    def apply(self, info: AnalyzerInfo, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` (the raw ``--policy-pack-config`` shape) with every rule left out disabled; a selection
        overrides the file's level for the rules it names (the command line is the more specific)."""
        merged: dict[str, Any] = {k: (dict(v) if isinstance(v, Mapping) else v) for k, v in config.items()}
        for name in self.disabled(info):
            entry = merged.get(name)
            if isinstance(entry, dict):
                entry["enforcementLevel"] = DISABLED
            else:
                merged[name] = DISABLED
        return merged


def unknown_rule(flag: str, rule_id: str, rules: Sequence[str]) -> InputError:
    """A rule id the pack lacks, named on the command line: bad input with the closest ids."""
    return InputError("command line", (flag,),
                      f"a rule of the pack (`sovereign rules` lists them){did_you_mean(rule_id, rules)}",
                      found_text=rule_id)


EVERY_RULE = RuleSelection()
"""No ``--rule`` or ``--skip-rule``: the pack as configured."""
