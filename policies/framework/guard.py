"""Turn rules into CrossGuard policies that fail closed.

The SDK reports a policy that reads an unknown preview value as an *advisory* "can't run policy" note and lets
the preview pass; an exception inside a policy becomes a gRPC error with no rule named. For residency both are
unacceptable: a value we cannot see may be the one that crosses the border. So every validate runs inside
:func:`_guarded`, which turns an unknown value, a context problem or any exception into a violation at the
rule's enforcement level (mandatory by default) that names the rule and the value. See docs/policies.md.

An exception inside ANY rule must block the preview, but CrossGuard reports a policy's violations at that policy's
own level, so an advisory rule cannot raise a mandatory violation. Exceptions of non-mandatory rules are therefore
recorded in the pack process and reported by a dedicated mandatory stack policy, ``rule-failures``, the last
policy of the pack (:func:`failure_policy`).
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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
RULE_FAILURES = "rule-failures"
Report = Callable[..., None]


@dataclass(frozen=True)
class RecordedFailure:
    """An exception inside a non-mandatory rule, kept until ``rule-failures`` reports it."""

    rule_id: str
    subject: str
    message: str
    urn: str | None


_failures: list[RecordedFailure] = []
_failures_lock = threading.Lock()
"""Exceptions of non-mandatory rules since the last AnalyzeStack (the servicer runs RPCs on a thread pool)."""


def record_failure(failure: RecordedFailure) -> None:
    with _failures_lock:
        _failures.append(failure)


def take_failures() -> list[RecordedFailure]:
    """The recorded failures, oldest first, and forget them (one preview per pack process under the CLI; a
    long-lived process used by tests must not report one analysis's failures in the next)."""
    with _failures_lock:
        taken = list(_failures)
        _failures.clear()
    return taken


def _context(rule: Rule, config: Any) -> RuleContext:
    return RuleContext(load_stack_view(), dict(config or {}))


def _guarded(rule: Rule, subject: str, report: Report, body: Callable[[], Iterable[Finding]],
             urn: str | None = None) -> None:
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
        message = (f"{FAIL_CLOSED} rule {rule.id} failed on {subject} with {type(exc).__name__}: {exc}{at}. "
                   f"Nothing is accepted unchecked; fix the input or report the rule defect.")
        report(message)
        if rule.enforcement != "mandatory":
            record_failure(RecordedFailure(rule.id, subject, message, urn))
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

        _guarded(rule, subject, report, body, args.urn)

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


def failure_policy() -> StackValidationPolicy:
    """``rule-failures``: the mandatory report of every exception recorded inside a non-mandatory rule.

    Must be the pack's last policy: the servicer runs stack policies in pack order, so every advisory stack
    rule has run (and every resource has been analysed) before it reports.
    """

    def validate(args: StackValidationArgs, report: Report) -> None:
        for failure in take_failures():
            message = (f"{failure.message} The rule is {failure.rule_id} ({failure.subject}); an exception inside "
                       f"any rule is a mandatory violation naming the rule, whatever the rule's own level.")
            if failure.urn:
                report(message, failure.urn)
            else:
                report(message)

    return StackValidationPolicy(
        name=RULE_FAILURES,
        description="An exception inside any rule is a mandatory violation naming the rule (advisory rules "
        "included: their own reports cannot block a preview).",
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        severity=Severity.HIGH,
        remediation_steps="fix the input the rule failed on, or report the rule defect",
    )


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    if isinstance(rule, ResourceRule):
        return resource_policy(rule)
    if isinstance(rule, StackRule):
        return stack_policy(rule)
    raise TypeError(f"unknown rule type {type(rule).__name__}")
