"""Turn rules into CrossGuard policies that fail closed.

The SDK reports a policy that reads an unknown preview value as an *advisory* "can't run policy" note and lets
the preview pass; an exception inside a policy becomes a gRPC error with no rule named. For residency both are
unacceptable: a value we cannot see may be the one that crosses the border. So every validate runs inside
:func:`_guarded`, which turns an unknown value, a context problem or any exception into a violation at the
rule's enforcement level (mandatory by default) that names the rule and the value. See docs/policies.md.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable
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

from policies.framework.context import ContextError, RuleContext, load_stack_view
from policies.framework.k8s import K8sObject
from policies.framework.rule import Finding, ResourceRule, Rule, StackRule
from policies.framework.values import UnknownValueError

FAIL_CLOSED = "[fail-closed]"
Report = Callable[..., None]


def _context(rule: Rule, config: Any) -> RuleContext:
    return RuleContext(load_stack_view(), dict(config or {}))


def _guarded(rule: Rule, subject: str, report: Report, body: Callable[[], Iterable[Finding]]) -> None:
    try:
        findings = list(body())
    except UnknownValueError as exc:
        report(f"{FAIL_CLOSED} rule {rule.id} cannot judge {subject}: the {exc.message}. A residency-critical "
               f"value that is unknown at preview time may be the one that crosses the border, so it is not "
               f"accepted. Fix: make this value known at preview (derive it from the stack config or the "
               f"catalog, not from another resource's output).")
        return
    except ContextError as exc:
        report(f"{FAIL_CLOSED} rule {rule.id} cannot judge {subject}: {exc}. Fix: set or correct the stack "
               f"config (sovereign-clusters:jurisdiction, and cluster for full checks) or the catalog path.")
        return
    except Exception as exc:  # noqa: BLE001 - any failure inside a rule must fail closed, never open
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {'/'.join(where.filename.rsplit('/', 2)[-2:])}:{where.lineno}" if where else ""
        report(f"{FAIL_CLOSED} rule {rule.id} failed on {subject} with {type(exc).__name__}: {exc}{at}. "
               f"Nothing is accepted unchecked; fix the input or report the rule defect.")
        return
    for f in findings:
        if f.urn:
            report(f.message, f.urn)
        else:
            report(f.message)


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.enforcement == "mandatory" else EnforcementLevel.ADVISORY


def _schema(rule: Rule) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config.items()}) if rule.config else None


def _message(rule: Rule, text: str) -> str:
    return text if text.endswith(".") or "Fix:" in text else f"{text}. Fix: {rule.remediation}"


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    assert rule.check is not None, rule.id
    check = rule.check

    def validate(args: ResourceValidationArgs, report: Report) -> None:
        obj = K8sObject.from_resource(args.resource_type, args.props, args.urn, args.name)
        if obj is None or not rule.applies_to(obj):
            return
        subject = f"{obj.kind} {args.name}"

        def body() -> Iterable[Finding]:
            ctx = _context(rule, args.get_config())
            return [Finding(_message(rule, m)) for m in check(ctx, obj)]

        _guarded(rule, subject, report, body)

    return ResourceValidationPolicy(
        name=rule.id,
        description=rule.protects,
        validate=validate,
        enforcement_level=_level(rule),
        config_schema=_schema(rule),
        severity=Severity(rule.severity),
        remediation_steps=rule.remediation,
    )


def stack_objects(args: StackValidationArgs) -> list[K8sObject]:
    objs = []
    for r in args.resources:
        obj = K8sObject.from_resource(r.resource_type, r.props, r.urn, r.name)
        if obj is not None:
            objs.append(obj)
    return objs


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    assert rule.check is not None, rule.id
    check = rule.check

    def validate(args: StackValidationArgs, report: Report) -> None:
        def body() -> Iterable[Finding]:
            ctx = _context(rule, args.get_config())
            return [Finding(_message(rule, f.message), f.urn) for f in check(ctx, stack_objects(args))]

        _guarded(rule, "the stack", report, body)

    return StackValidationPolicy(
        name=rule.id,
        description=rule.protects,
        validate=validate,
        enforcement_level=_level(rule),
        config_schema=_schema(rule),
        severity=Severity(rule.severity),
        remediation_steps=rule.remediation,
    )


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    if isinstance(rule, ResourceRule):
        return resource_policy(rule)
    if isinstance(rule, StackRule):
        return stack_policy(rule)
    raise TypeError(f"unknown rule type {type(rule).__name__}")
