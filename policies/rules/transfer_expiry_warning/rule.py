"""Warn before a declared transfer expires, and report the ones that already have (advisory).

An expiring approval is an operational deadline: once it lapses the program stops rendering the transfer and
the path closes. Warning N days ahead (policy config ``warningDays``, else ``$SOVEREIGN_EXPIRY_WARNING_DAYS``,
else 30) gives the team time to renew it with the regulator.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import timedelta

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.rule import AT_SCHEMA, Finding, StackRule


def _window(ctx: RuleContext) -> timedelta:
    from sovereign.core.clock import expiry_warning_window

    return expiry_warning_window(ctx.config.get("warningDays"))


def check(ctx: RuleContext, objects: Sequence[K8sObject]) -> Iterator[Finding]:
    from sovereign.stackconfig.model import TransferState

    at = ctx.at
    window = _window(ctx)
    for t in sorted(ctx.stack.transfers, key=lambda t: t.id):
        what = f"transfer {t.id} ({t.approval_reference}, {', '.join(t.data_classes)} to {t.destination.jurisdiction})"
        state = t.state(at)
        if state is TransferState.EXPIRED:
            yield Finding(f"{what} expired on {t.valid_until.isoformat()}; its path is closed. Fix: renew the "
                          f"approval with {t.regulator} and update validUntil, or remove the transfer from the "
                          f"stack config.")
        elif t.ends_within(at, window):
            left = t.valid_until - at
            yield Finding(f"{what} expires on {t.valid_until.isoformat()}, in {left.days} day(s) "
                          f"(warning window {window.days} days); after that its path closes. Fix: renew the "
                          f"approval with {t.regulator} before then.")


RULE = StackRule(
    id="transfer-expiry-warning",
    protects="Transfer approvals are renewed before they expire (advisory warning N days ahead).",
    remediation="renew the approval with the regulator and update validUntil in the stack config",
    severity="medium",
    check=check,
    enforcement="advisory",
    config={
        "at": AT_SCHEMA,
        "warningDays": {"type": "integer", "minimum": 0, "description": "Warn this many days before expiry."},
    },
)
