"""One rule judging one object (or the stack), failing closed: the single place a rule's check is run.

Both ways into the rules use it: the CrossGuard adapter (``guard.py``, what ``pulumi preview --policy-pack``
runs, one policy at a time) and the direct runner (``runner.py``, what ``sovereign check`` runs, every rule of
a resource at once). So a rule's findings, its exemptions and its failures mean the same on either path.

A judgement is what the rule reports at its own level (findings, after exemptions), the findings an active
exemption suppressed (reported, advisory, by the exemption companion), and an exception inside a
non-mandatory rule (reported, mandatory, by the failure companion: a crash must block whatever the rule's
level). An unknown preview value, a context problem or any exception is never a silent pass (docs/policies.md).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from policies.framework.context import ContextError, RuleContext, StackView
from policies.framework.k8s import K8sObject
from policies.framework.rule import Finding, ResourceRule, Rule, StackRule
from policies.framework.values import UnknownValueError
from sovereign.core.exemptions import (
    EXEMPTIONS_KEY,
    ExemptionError,
    expired_note,
    match,
    parse_exemptions,
    suppressed_message,
)

FAIL_CLOSED = "[fail-closed]"
ViewSource = Callable[[], StackView]
"""Where the stack view comes from (raises ``ContextError`` when it cannot be determined): the pack process's
config under the CLI, the given config under ``sovereign check``."""


@dataclass(frozen=True)
class RecordedFailure:
    """An exception inside a non-mandatory rule, reported by the failure companion."""

    rule_id: str
    subject: str
    message: str
    urn: str | None
    """The resource of a resource rule's failure; None for a stack rule's."""

    def companion_message(self) -> str:
        return (f"{self.message} The rule is {self.rule_id} ({self.subject}); an exception inside any rule is a "
                f"mandatory violation naming the rule, whatever the rule's own level.")


@dataclass(frozen=True)
class Judgement:
    findings: tuple[Finding, ...] = ()
    """Reported by the rule itself, at its level (messages final: remediation appended)."""
    suppressed: tuple[str, ...] = ()
    """Messages of findings an active exemption covers (``sovereign.core.exemptions.suppressed_message``)."""
    failure: RecordedFailure | None = None


NOTHING = Judgement()


def subject_of(obj: K8sObject, resource_name: str) -> str:
    return f"{obj.kind or obj.type_token} {resource_name}"


def judge_resource(rule: ResourceRule, view: ViewSource, config: Mapping[str, Any] | None, obj: K8sObject,
                   *, now: datetime | None = None) -> Judgement:
    """``rule`` over one object. The caller has checked ``rule.looks_at`` (or ``every_resource``)."""
    assert rule.check is not None, rule.id
    check = rule.check

    def body() -> tuple[list[Finding], list[str]]:
        ctx = RuleContext(view(), dict(config or {}), now)
        findings = [Finding(_message(rule, m)) for m in check(ctx, obj)]
        return _apply_exemptions(rule, ctx, findings, lambda _finding: obj)

    return _guarded(rule, subject_of(obj, obj.resource_name), body, obj.urn)


def judge_stack(rule: StackRule, view: ViewSource, config: Mapping[str, Any] | None,
                objects: Sequence[K8sObject], *, now: datetime | None = None) -> Judgement:
    """``rule`` over every Kubernetes object of the stack."""
    assert rule.check is not None, rule.id
    check = rule.check

    def body() -> tuple[list[Finding], list[str]]:
        ctx = RuleContext(view(), dict(config or {}), now)
        by_urn = {o.urn: o for o in objects}
        findings = [Finding(_message(rule, f.message), f.urn) for f in check(ctx, objects)]
        return _apply_exemptions(rule, ctx, findings, lambda f: by_urn.get(f.urn or ""))

    return _guarded(rule, "the stack", body, None)


def _message(rule: Rule, text: str) -> str:
    return text if text.endswith(".") or "Fix:" in text else f"{text}. Fix: {rule.remediation}"


def _apply_exemptions(rule: Rule, ctx: RuleContext, findings: list[Finding],
                      object_of: Callable[[Finding], K8sObject | None]) -> tuple[list[Finding], list[str]]:
    """(findings to report, suppressed messages): those an active exemption covers are suppressed; those only
    expired exemptions cover say so (sovereign/core/exemptions.py)."""
    raw = ctx.config.get(EXEMPTIONS_KEY)
    exemptions = parse_exemptions(rule.id, raw, key_path=(rule.id,)) if raw else []
    if not exemptions:
        return findings, []
    at = ctx.at
    out: list[Finding] = []
    suppressed: list[str] = []
    for finding in findings:
        obj = object_of(finding)
        if obj is None:
            out.append(finding)
            continue
        found = match(exemptions, obj.kind or obj.type_token, obj.group, obj.namespace, obj.name, at)
        if found.active is not None:
            suppressed.append(suppressed_message(rule.id, obj.ref, finding.message, found.active))
        elif found.expired:
            out.append(Finding(finding.message + expired_note(found.expired), finding.urn))
        else:
            out.append(finding)
    return out, suppressed


def _guarded(rule: Rule, subject: str, body: Callable[[], tuple[list[Finding], list[str]]],
             urn: str | None) -> Judgement:
    try:
        findings, suppressed = body()
    except UnknownValueError as exc:
        return _closed(f"{FAIL_CLOSED} rule {rule.id} cannot judge {subject}: the {exc.message}. A residency-critical "
                       f"value that is unknown at preview time may be the one that crosses the border, so it is not "
                       f"accepted. Fix: make this value known at preview (derive it from the stack config or the "
                       f"catalog, not from another resource's output).")
    except ContextError as exc:
        return _closed(f"{FAIL_CLOSED} rule {rule.id} cannot judge {subject}: {exc}. Fix: set or correct the stack "
                       f"config (sovereign-clusters:jurisdiction, and cluster for full checks) or the catalog path.")
    except ExemptionError as exc:
        return _closed(f"{FAIL_CLOSED} rule {rule.id} cannot apply its exemptions ({exc}), so it suppresses nothing "
                       f"and judges {subject} as it stands. Fix: correct the exemption in the policy pack config.")
    except Exception as exc:  # noqa: BLE001 - any failure inside a rule must fail closed, never open
        where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        at = f" at {'/'.join(where.filename.rsplit('/', 2)[-2:])}:{where.lineno}" if where else ""
        message = (f"{FAIL_CLOSED} rule {rule.id} failed on {subject} with {type(exc).__name__}: {exc}{at}. "
                   f"Nothing is accepted unchecked; fix the input or report the rule defect.")
        failure = RecordedFailure(rule.id, subject, message, urn) if rule.enforcement != "mandatory" else None
        return Judgement((Finding(message),), (), failure)
    return Judgement(tuple(_once(findings)), tuple(suppressed))


def _closed(message: str) -> Judgement:
    return Judgement((Finding(message),))


def _once(findings: Iterable[Finding]) -> Iterable[Finding]:
    """One root cause reached twice (a workflow-wide setting every template inherits) is one finding."""
    seen: set[tuple[str, str | None]] = set()
    for f in findings:
        if (f.message, f.urn) not in seen:
            seen.add((f.message, f.urn))
            yield f
