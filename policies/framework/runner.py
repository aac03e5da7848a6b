"""The direct runner: every rule of the pack over plain resource data, without CrossGuard in between.

``sovereign check`` runs the rules this way (``sovereign/check`` loads it from the pack directory, see
``open_direct`` in ``policies/pack.py``); ``pulumi preview --policy-pack`` runs the same rules as CrossGuard
policies (``guard.py``). Both judge through ``judge.py`` and answer in the analyzer protocol's terms (the pack's
policies, ``Diagnostic`` records, the companions after the rules), so a report is the same whichever path made
it: ``tests/policies/test_conformance.py`` runs both over every rule sample, every red-team vector and the example
stacks.

What the direct path does not do, because nothing in it needs it: no protobuf ``Struct`` (numbers stay the
integers YAML gave; the rules read numbers through ``values.text``, which renders both alike), no per-policy copy
of the props, no ``Remediate`` (the pack has no remediations). A resource whose props hold one of the engine's
unknown placeholders is read through ``values.unknown_checking_view``, as the adapter reads it under the CLI, so
reading an unknown fails the rule closed the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from policies.framework.companions import COMPANION_POLICIES, Companion
from policies.framework.context import StackView, config_from_environment_shape, stack_view
from policies.framework.judge import Judgement, judge_resource, judge_stack
from policies.framework.k8s import K8sObject, split_type_token, stack_objects
from policies.framework.rule import ResourceRule, Rule, StackRule
from policies.framework.values import readable
from sovereign.analyzer.config import effective_policy_config
from sovereign.analyzer.model import AnalyzerInfo, Diagnostic, PolicyInfo
from sovereign.analyzer.resource import AnalyzerResource

PACK_VERSION_REPORTED = "0.0.1"
"""What a Python pack reports as its version (the CLI shows PulumiPolicy.yaml's instead)."""


@dataclass(frozen=True)
class _Plan:
    resource_rules: tuple[tuple[ResourceRule, Mapping[str, Any]], ...]
    stack_rules: tuple[tuple[StackRule, Mapping[str, Any]], ...]
    levels: Mapping[str, str]
    """Every policy's effective enforcement level (``remediate`` counts as mandatory: the pack remediates nothing)."""


class DirectPack:
    """The pack's rules, configured for one stack, answering the analyzer protocol's questions directly."""

    def __init__(self, name: str, rules: Sequence[Rule], *, stack: str, config: Mapping[str, str],
                 catalog: Path | None = None, now: datetime | None = None) -> None:
        self._name = name
        self._rules = tuple(rules)
        self._stack = stack
        self._values = config_from_environment_shape(config)
        self._catalog = catalog
        self._now = now
        self._view: StackView | None = None
        self._effective: dict[str, dict[str, Any]] = {}
        self._readable: dict[str, tuple[Mapping[str, Any], Mapping[str, Any]]] = {}
        """URN -> (props, what rules read of them): a resource is looked at once, though ``Analyze`` and
        ``AnalyzeStack`` both carry it."""
        self.info = _analyzer_info(name, self._rules)
        self._policies = {p.name: p for p in self.info.policies}
        self._plan = self._planned()

    # -- the session's interface (sovereign/check uses this or a gRPC session, alike) -------------------------
    def configure_stack(self, *, stack: str, project: str) -> None:
        self._stack = stack

    def get_analyzer_info(self) -> AnalyzerInfo:
        return self.info

    def configure(self, policy_config: Mapping[str, Any] | None = None, *,
                  source: str = "--policy-pack-config") -> dict[str, dict[str, Any]]:
        """The CLI's reconciliation of defaults and the user's config (bad input names ``source``)."""
        self._effective = effective_policy_config(self.info, policy_config, source=source)
        self._plan = self._planned()
        return self._effective

    def stop(self) -> None:
        return None

    def analyze(self, resource: AnalyzerResource) -> list[Diagnostic]:
        """Every resource rule over one resource, then the resource companions (``Analyze``)."""
        parsed = split_type_token(resource.type)
        props = self._read(resource)
        obj = (K8sObject(*parsed, props, resource.urn, resource.name) if parsed is not None else
               K8sObject("", "", "", props, resource.urn, resource.name, pulumi_type=resource.type,
                         has_provider=bool(resource.provider_urn)))
        out: list[Diagnostic] = []
        judgements: list[Judgement] = []
        for rule, config in self._plan.resource_rules:
            if parsed is None and not rule.every_resource:
                continue
            if parsed is not None and not rule.looks_at(parsed[0], parsed[2]):
                continue
            judgement = judge_resource(rule, self._stack_view, config, obj, now=self._now)
            judgements.append(judgement)
            out.extend(self._diagnostic(rule.id, f.message, f.urn or resource.urn) for f in judgement.findings)
        out.extend(self._companions(False, judgements, resource.urn))
        return out

    def analyze_stack(self, resources: Iterable[AnalyzerResource]) -> list[Diagnostic]:
        """Every stack rule over the stack's Kubernetes objects, then the stack companions (``AnalyzeStack``)."""
        objects = stack_objects((r.type, self._read(r), r.urn, r.name) for r in resources)
        out: list[Diagnostic] = []
        judgements: list[Judgement] = []
        for rule, config in self._plan.stack_rules:
            judgement = judge_stack(rule, self._stack_view, config, objects, now=self._now)
            judgements.append(judgement)
            out.extend(self._diagnostic(rule.id, f.message, f.urn or "") for f in judgement.findings)
        out.extend(self._companions(True, judgements, ""))
        return out

    # -- internals -----------------------------------------------------------------------------------------
    def _read(self, resource: AnalyzerResource) -> Mapping[str, Any]:
        known = self._readable.get(resource.urn)
        if known is not None and known[0] is resource.props:
            return known[1]
        view = resource.props if resource.plain else readable(resource.props)
        self._readable[resource.urn] = (resource.props, view)
        return view

    def _stack_view(self) -> StackView:
        if self._view is None:
            self._view = stack_view(self._values, self._stack, self._catalog)  # ContextError: each rule fails
        return self._view

    def _planned(self) -> _Plan:
        """What the configuration decides once, for every resource: the enabled rules with their properties, and
        every policy's level."""
        levels = {}
        for name, info in self._policies.items():
            level = (self._effective.get(name) or {}).get("enforcementLevel") or info.enforcement_level
            levels[name] = "mandatory" if level == "remediate" else str(level)

        def config(name: str) -> Mapping[str, Any]:
            return (self._effective.get(name) or {}).get("properties") or {}

        enabled = [r for r in self._rules if levels[r.id] != "disabled"]
        return _Plan(
            resource_rules=tuple((r, config(r.id)) for r in enabled if isinstance(r, ResourceRule)),
            stack_rules=tuple((r, config(r.id)) for r in enabled if isinstance(r, StackRule)),
            levels=levels,
        )

    def _diagnostic(self, policy: str, message: str, urn: str) -> Diagnostic:
        info = self._policies[policy]
        return Diagnostic(
            policy_name=policy,
            policy_pack_name=self._name,
            policy_pack_version=PACK_VERSION_REPORTED,
            description=info.description,
            message=f"{info.description}\n{message}" if message else info.description,
            enforcement_level=self._plan.levels[policy],
            urn=urn,
            severity=info.severity,
        )

    def _companions(self, stack: bool, judgements: Sequence[Judgement], urn: str) -> Iterable[Diagnostic]:
        for companion in COMPANION_POLICIES:
            if companion.stack != stack or self._plan.levels[companion.name] == "disabled":
                continue
            for message in _companion_messages(companion, judgements):
                yield self._diagnostic(companion.name, message, urn)


def _companion_messages(companion: Companion, judgements: Sequence[Judgement]) -> list[str]:
    if companion.reports == "failures":
        return [j.failure.companion_message() for j in judgements if j.failure is not None]
    return [message for j in judgements for message in j.suppressed]


def _analyzer_info(name: str, rules: Sequence[Rule]) -> AnalyzerInfo:
    """What the pack's ``GetAnalyzerInfo`` answers: the rules, then the companions, in pack order."""
    policies = [
        PolicyInfo(
            name=rule.id,
            description=rule.protects,
            enforcement_level=rule.enforcement,
            policy_type="resource" if isinstance(rule, ResourceRule) else "stack",
            severity=rule.severity,
            remediation_steps=rule.remediation,
            config_schema={k: dict(v) for k, v in rule.config_schema().items()},
        )
        for rule in rules
    ]
    policies += [
        PolicyInfo(
            name=c.name,
            description=c.description,
            enforcement_level=c.enforcement,
            policy_type="stack" if c.stack else "resource",
            severity=c.severity,
            remediation_steps=c.remediation,
            config_schema={},
        )
        for c in COMPANION_POLICIES
    ]
    return AnalyzerInfo(name=name, version=PACK_VERSION_REPORTED, supports_config=True, policies=tuple(policies))
