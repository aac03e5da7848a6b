"""The CrossGuard adapter: each rule as a policy of the pack ``pulumi preview --policy-pack`` runs.

The SDK reports a policy that reads an unknown preview value as an *advisory* "can't run policy" note and lets
the preview pass; an exception inside a policy becomes a gRPC error with no rule named. For residency both are
unacceptable: a value we cannot see may be the one that crosses the border. So every policy's validate judges
through ``judge.py``, which turns an unknown value, a context problem or any exception into a violation at the
rule's enforcement level (mandatory by default) that names the rule and the value. See docs/policies.md. The
direct runner (``runner.py``, used by ``sovereign check``) judges through the same functions.

An exception inside ANY rule must block the preview, but CrossGuard reports a policy's violations at that policy's
own level, so an advisory rule cannot raise a mandatory violation. Exceptions of non-mandatory rules are therefore
recorded and reported, in the same RPC, by a mandatory companion that runs after every rule of its kind:
``resource-rule-failures`` (a resource policy: the resource's own ``Analyze``) and ``rule-failures`` (a stack
policy: ``AnalyzeStack``), the pack's last two policies (:func:`failure_policies`). So every answer of the pack
depends only on its request: no state crosses from one RPC to the next, and RPCs may be served by different pack
processes (``sovereign check`` analyses the stack in a second process when a core is idle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.framework.companions import (
    COMPANION_POLICIES,
    COMPANIONS,
    RESOURCE_RULE_EXEMPTIONS,
    RESOURCE_RULE_FAILURES,
    RULE_EXEMPTIONS,
    RULE_FAILURES,
    Companion,
)
from policies.framework.context import load_stack_view
from policies.framework.judge import FAIL_CLOSED, Judgement, RecordedFailure, judge_resource, judge_stack
from policies.framework.k8s import K8sObject, split_type_token, stack_objects
from policies.framework.rule import ResourceRule, Rule, StackRule
from policies.framework.values import is_seq, readable

__all__ = ["COMPANIONS", "FAIL_CLOSED", "RESOURCE_RULE_EXEMPTIONS", "RESOURCE_RULE_FAILURES", "RULE_EXEMPTIONS",
           "RULE_FAILURES", "RecordedFailure", "failure_policies", "record_failure", "take_failures",
           "to_policy"]

Report = Callable[..., None]


_recorded = threading.local()
"""This thread's recorded failures and suppressed findings: the servicer runs each RPC on one thread of its
pool, every policy of the RPC in turn, so what a companion finds here was recorded by the rules of its own RPC."""


def _pending() -> list[RecordedFailure]:
    pending: list[RecordedFailure] | None = getattr(_recorded, "failures", None)
    if pending is None:
        pending = _recorded.failures = []
    return pending


def record_failure(failure: RecordedFailure) -> None:
    _pending().append(failure)


def _suppressed_here() -> list[tuple[str | None, str]]:
    pending: list[tuple[str | None, str]] | None = getattr(_recorded, "suppressed", None)
    if pending is None:
        pending = _recorded.suppressed = []
    return pending


def take_failures(urn: str | None) -> list[RecordedFailure]:
    """This RPC's failures, oldest first: those of the resource ``urn`` (None: of the stack rules). The thread's
    list is emptied: anything else in it is left over from an RPC whose companion did not run (disabled by the
    user), and must not be reported under another RPC."""
    pending = _pending()
    taken = [f for f in pending if f.urn == urn]
    pending.clear()
    return taken


def take_suppressed(urn: str | None) -> list[str]:
    """This RPC's suppressed findings (messages), of the resource ``urn`` (None: of the stack rules); the thread's
    list is emptied, as ``take_failures`` does."""
    pending = _suppressed_here()
    taken = [message for owner, message in pending if owner == urn]
    pending.clear()
    return taken


def _props(sdk_props: Mapping[str, Any]) -> Mapping[str, Any]:
    """The SDK's props as the rules read them everywhere (``values.readable``): the SDK proxy is read once
    through its public interface, each unknown it raises kept as its placeholder, and each integral number an
    integer again (the wire carries every number as a double; manifests and the direct path have integers)."""
    return readable(_raw(sdk_props))


def _raw(value: Any) -> Any:
    from pulumi_policy.proxy import UnknownValueError as SdkUnknownValueError

    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key in value:
            try:
                out[key] = _raw(value[key])
            except SdkUnknownValueError as exc:
                out[key] = exc.unknown_type_sentinel
        return out
    if is_seq(value):
        items: list[Any] = []
        for i in range(len(value)):
            try:
                items.append(_raw(value[i]))
            except SdkUnknownValueError as exc:
                items.append(exc.unknown_type_sentinel)
        return items
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _report(judgement: Judgement, report: Report, rpc_urn: str | None) -> None:
    """Report a judgement under the CLI: the rule's findings now, the rest left for its RPC's companions."""
    for f in judgement.findings:
        if f.urn:
            report(f.message, f.urn)
        else:
            report(f.message)
    _suppressed_here().extend((rpc_urn, message) for message in judgement.suppressed)
    if judgement.failure is not None:
        record_failure(judgement.failure)


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.enforcement == "mandatory" else EnforcementLevel.ADVISORY


def _schema(rule: Rule) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config_schema().items()})


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    assert rule.check is not None, rule.id

    def validate(args: ResourceValidationArgs, report: Report) -> None:
        # Most rules skip most kinds: decided before any object is built or any property read.
        parsed = split_type_token(args.resource_type)
        if parsed is None:
            if not rule.every_resource:
                return
            obj = K8sObject("", "", "", _props(args.props), args.urn, args.name, pulumi_type=args.resource_type,
                            has_provider=args.provider is not None)
        elif not rule.looks_at(parsed[0], parsed[2]):
            return
        else:
            obj = K8sObject(*parsed, _props(args.props), args.urn, args.name)
        _report(judge_resource(rule, load_stack_view, args.get_config(), obj), report, args.urn)

    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.protects,
        validate=validate,
        enforcement_level=_level(rule),
        config_schema=_schema(rule),
        severity=Severity(rule.severity),
        remediation_steps=rule.remediation,
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    assert rule.check is not None, rule.id

    def validate(args: StackValidationArgs, report: Report) -> None:
        objects = stack_objects((r.resource_type, _props(r.props), r.urn, r.name) for r in args.resources)
        _report(judge_stack(rule, load_stack_view, args.get_config(), objects), report, None)

    return StackValidationPolicy(
        name=rule.id,
        description=rule.protects,
        validate=validate,
        enforcement_level=_level(rule),
        config_schema=_schema(rule),
        severity=Severity(rule.severity),
        remediation_steps=rule.remediation,
    )


def failure_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The companions (``companions.py``), the pack's last policies. They must come last: the servicer runs the
    policies of an RPC in pack order, so every rule of the RPC's kind has run before its companion reports."""
    return [_companion_policy(c) for c in COMPANION_POLICIES]


def _companion_policy(companion: Companion) -> ResourceValidationPolicy | StackValidationPolicy:
    def messages(urn: str | None) -> list[str]:
        if companion.reports == "failures":
            return [f.companion_message() for f in take_failures(urn)]
        return take_suppressed(urn)

    def validate_resource(args: ResourceValidationArgs, report: Report) -> None:
        for message in messages(args.urn):
            report(message)

    def validate_stack(args: StackValidationArgs, report: Report) -> None:
        for message in messages(None):
            report(message)

    common: dict[str, Any] = {
        "name": companion.name,
        "description": companion.description,
        "enforcement_level": EnforcementLevel(companion.enforcement),
        "severity": Severity(companion.severity),
        "remediation_steps": companion.remediation,
    }
    if companion.stack:
        return StackValidationPolicy(validate=validate_stack, **common)
    return ResourceValidationPolicy(validate=validate_resource, **common)


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    if isinstance(rule, ResourceRule):
        return resource_policy(rule)
    if isinstance(rule, StackRule):
        return stack_policy(rule)
    raise TypeError(f"unknown rule type {type(rule).__name__}")
