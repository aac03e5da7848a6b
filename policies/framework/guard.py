"""Turn rules into CrossGuard policies that fail closed.

The SDK reports a policy that reads an unknown preview value as an *advisory* "can't run policy" note and lets
the preview pass; an exception inside a policy becomes a gRPC error with no rule named. For residency both are
unacceptable: a value we cannot see may be the one that crosses the border. So every validate runs inside
:func:`_guarded`, which turns an unknown value, a context problem or any exception into a violation at the
rule's enforcement level (mandatory by default) that names the rule and the value. See docs/policies.md.

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
from policies.framework.k8s import K8sObject, split_type_token
from policies.framework.rule import Finding, ResourceRule, Rule, StackRule
from policies.framework.values import UnknownValueError
from sovereign.exemptions import (
    EXEMPTIONS_KEY,
    ExemptionError,
    expired_note,
    match,
    parse_exemptions,
    suppressed_message,
)

FAIL_CLOSED = "[fail-closed]"
RULE_FAILURES = "rule-failures"
RESOURCE_RULE_FAILURES = "resource-rule-failures"
RULE_EXEMPTIONS = "rule-exemptions"
RESOURCE_RULE_EXEMPTIONS = "resource-rule-exemptions"
COMPANIONS = (RESOURCE_RULE_FAILURES, RULE_FAILURES, RESOURCE_RULE_EXEMPTIONS, RULE_EXEMPTIONS)
Report = Callable[..., None]


@dataclass(frozen=True)
class RecordedFailure:
    """An exception inside a non-mandatory rule, kept until its RPC's companion policy reports it."""

    rule_id: str
    subject: str
    message: str
    urn: str | None
    """The resource of a resource rule's failure; None for a stack rule's."""


_recorded = threading.local()
"""This thread's recorded failures: the servicer runs each RPC on one thread of its pool, every policy of the RPC
in turn, so what a companion finds here was recorded by the rules of its own RPC."""


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


def take_suppressed(urn: str | None) -> list[str]:
    """This RPC's suppressed findings (messages), of the resource ``urn`` (None: of the stack rules); the thread's
    list is emptied, as ``take_failures`` does."""
    pending = _suppressed_here()
    taken = [message for owner, message in pending if owner == urn]
    pending.clear()
    return taken


def _apply_exemptions(rule: Rule, ctx: RuleContext, findings: list[Finding],
                      object_of: Callable[[Finding], K8sObject | None], rpc_urn: str | None) -> list[Finding]:
    """The findings to report: those an active exemption covers are recorded for the RPC's advisory companion
    instead; those only expired exemptions cover say so (sovereign/exemptions.py)."""
    exemptions = parse_exemptions(rule.id, ctx.config.get(EXEMPTIONS_KEY), key_path=(rule.id,)) \
        if ctx.config.get(EXEMPTIONS_KEY) else []
    if not exemptions:
        return findings
    at = ctx.at
    out = []
    for finding in findings:
        obj = object_of(finding)
        if obj is None:
            out.append(finding)
            continue
        found = match(exemptions, obj.kind or obj.type_token, obj.group, obj.namespace, obj.name, at)
        if found.active is not None:
            _suppressed_here().append((rpc_urn, suppressed_message(rule.id, obj.ref, finding.message, found.active)))
        elif found.expired:
            out.append(Finding(finding.message + expired_note(found.expired), finding.urn))
        else:
            out.append(finding)
    return out


def take_failures(urn: str | None) -> list[RecordedFailure]:
    """This RPC's failures, oldest first: those of the resource ``urn`` (None: of the stack rules). The thread's
    list is emptied: anything else in it is left over from an RPC whose companion did not run (disabled by the
    user), and must not be reported under another RPC."""
    pending = _pending()
    taken = [f for f in pending if f.urn == urn]
    pending.clear()
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
    except ExemptionError as exc:
        report(f"{FAIL_CLOSED} rule {rule.id} cannot apply its exemptions ({exc}), so it suppresses nothing and "
               f"judges {subject} as it stands. Fix: correct the exemption in the policy pack config.")
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
    seen: set[tuple[str, str | None]] = set()
    for f in findings:
        if (f.message, f.urn) in seen:
            continue  # one root cause reached twice (a workflow-wide setting every template inherits) is one finding
        seen.add((f.message, f.urn))
        if f.urn:
            report(f.message, f.urn)
        else:
            report(f.message)


def _level(rule: Rule) -> EnforcementLevel:
    return EnforcementLevel.MANDATORY if rule.enforcement == "mandatory" else EnforcementLevel.ADVISORY


def _schema(rule: Rule) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in rule.config_schema().items()})


def _message(rule: Rule, text: str) -> str:
    return text if text.endswith(".") or "Fix:" in text else f"{text}. Fix: {rule.remediation}"


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    assert rule.check is not None, rule.id
    check = rule.check

    def validate(args: ResourceValidationArgs, report: Report) -> None:
        # Most rules skip most kinds: decided before any object is built or any property read.
        parsed = split_type_token(args.resource_type)
        if parsed is None:
            if not rule.every_resource:
                return
            obj = K8sObject("", "", "", args.props, args.urn, args.name, pulumi_type=args.resource_type,
                            has_provider=args.provider is not None)
        elif not rule.looks_at(parsed[0], parsed[2]):
            return
        else:
            obj = K8sObject(*parsed, args.props, args.urn, args.name)
        subject = f"{obj.kind or obj.type_token} {args.name}"

        def body() -> Iterable[Finding]:
            ctx = _context(rule, args.get_config())
            findings = [Finding(_message(rule, m)) for m in check(ctx, obj)]
            return _apply_exemptions(rule, ctx, findings, lambda _finding: obj, args.urn)

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
            objects = stack_objects(args)
            by_urn = {o.urn: o for o in objects}
            findings = [Finding(_message(rule, f.message), f.urn) for f in check(ctx, objects)]
            return _apply_exemptions(rule, ctx, findings, lambda f: by_urn.get(f.urn or ""), None)

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


def _failure_message(failure: RecordedFailure) -> str:
    return (f"{failure.message} The rule is {failure.rule_id} ({failure.subject}); an exception inside any rule is "
            f"a mandatory violation naming the rule, whatever the rule's own level.")


def failure_policies() -> list[ResourceValidationPolicy | StackValidationPolicy]:
    """The companions, the pack's last policies: ``resource-rule-failures`` and ``rule-failures`` (the mandatory
    reports of every exception recorded inside a non-mandatory rule, in the RPC that raised it), then
    ``resource-rule-exemptions`` and ``rule-exemptions`` (the advisory reports of findings an exemption suppressed).

    They must come last: the servicer runs the policies of an RPC in pack order, so every rule of the RPC's kind
    has run before its companion reports.
    """

    def validate_resource(args: ResourceValidationArgs, report: Report) -> None:
        for failure in take_failures(args.urn):
            report(_failure_message(failure))

    def validate_stack(args: StackValidationArgs, report: Report) -> None:
        for failure in take_failures(None):
            report(_failure_message(failure))

    reporter: dict[str, Any] = {
        "enforcement_level": EnforcementLevel.MANDATORY,
        "severity": Severity.HIGH,
        "remediation_steps": "fix the input the rule failed on, or report the rule defect",
    }
    def exempted_resource(args: ResourceValidationArgs, report: Report) -> None:
        for message in take_suppressed(args.urn):
            report(message)

    def exempted_stack(args: StackValidationArgs, report: Report) -> None:
        for message in take_suppressed(None):
            report(message)

    noter: dict[str, Any] = {
        "enforcement_level": EnforcementLevel.ADVISORY,
        "severity": Severity.LOW,
        "remediation_steps": "review the exemption before it expires; renew it only after a new review",
    }
    return [
        ResourceValidationPolicy(
            name=RESOURCE_RULE_FAILURES,
            description="An exception inside any resource rule is a mandatory violation of the resource naming the "
            "rule (advisory rules included: their own reports cannot block a preview).",
            validate=validate_resource,
            **reporter,
        ),
        StackValidationPolicy(
            name=RULE_FAILURES,
            description="An exception inside any stack rule is a mandatory violation naming the rule (advisory "
            "rules included: their own reports cannot block a preview).",
            validate=validate_stack,
            **reporter,
        ),
        ResourceValidationPolicy(
            name=RESOURCE_RULE_EXEMPTIONS,
            description="Findings of resource rules that a reviewed, unexpired exemption covers: suppressed, and "
            "reported here (advisory) so that every exemption in use is visible.",
            validate=exempted_resource,
            **noter,
        ),
        StackValidationPolicy(
            name=RULE_EXEMPTIONS,
            description="Findings of stack rules that a reviewed, unexpired exemption covers: suppressed, and "
            "reported here (advisory) so that every exemption in use is visible.",
            validate=exempted_stack,
            **noter,
        ),
    ]


def to_policy(rule: Rule) -> ResourceValidationPolicy | StackValidationPolicy:
    if isinstance(rule, ResourceRule):
        return resource_policy(rule)
    if isinstance(rule, StackRule):
        return stack_policy(rule)
    raise TypeError(f"unknown rule type {type(rule).__name__}")
