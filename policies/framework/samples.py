"""Rule samples (gatekeeper-library layout) and an in-process evaluator for them.

``policies/rules/<rule_pkg>/samples/{allowed,disallowed}/*.yaml`` hold one or more manifests each. Header
comments carry expectations and per-sample settings::

    # expect: <fragment that must appear in one of the rule's messages>   (disallowed; repeatable)
    # config: {"at": "2027-03-01"}                                        (the rule's policy config)
    # stack: {"sovereign-clusters:transfers": []}                         (stack config keys replaced)

``policies/rules/sample-stack.yaml`` is the stack config every sample runs in; an optional
``<rule_pkg>/suite.yaml`` may set ``policyConfig`` and ``stackConfig`` for all samples of the rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policies.pack import RULES_DIR, rule_packages
from sovereign.yamlio import load_yaml_file, parse_yaml_documents, read_text

SAMPLE_STACK = RULES_DIR / "sample-stack.yaml"
SAMPLE_STACK_NAME = "cn-prod"


@dataclass(frozen=True)
class Sample:
    rule_pkg: str
    verdict: str
    """``allowed`` or ``disallowed``."""
    path: Path
    manifests: tuple[Mapping[str, Any], ...]
    expect: tuple[str, ...] = ()
    policy_config: Mapping[str, Any] = field(default_factory=dict)
    stack_config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return f"{self.rule_pkg}/{self.verdict}/{self.path.stem}"


def _header(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            if line.strip() and line.strip() != "---":
                break
            continue
        body = line[1:].strip()
        key, sep, value = body.partition(":")
        if sep and key in ("expect", "config", "stack"):
            out.setdefault(key, []).append(value.strip())
    return out


def base_stack_config() -> dict[str, Any]:
    data = load_yaml_file(SAMPLE_STACK)
    return dict(data)


def _suite(rule_pkg: str) -> dict[str, Any]:
    path = RULES_DIR / rule_pkg / "suite.yaml"
    return dict(load_yaml_file(path)) if path.is_file() else {}


def load_samples(rule_pkg: str) -> list[Sample]:
    suite = _suite(rule_pkg)
    base_stack = base_stack_config()
    base_stack.update(suite.get("stackConfig") or {})
    samples = []
    for verdict in ("allowed", "disallowed"):
        for path in sorted((RULES_DIR / rule_pkg / "samples" / verdict).glob("*.yaml")):
            text = read_text(path)
            header = _header(text)
            docs = tuple(d for d in parse_yaml_documents(text, path) if d is not None)
            policy_config = dict(suite.get("policyConfig") or {})
            for raw in header.get("config", []):
                policy_config.update(json.loads(raw))
            stack = dict(base_stack)
            for raw in header.get("stack", []):
                stack.update(json.loads(raw))
            samples.append(Sample(rule_pkg, verdict, path, docs, tuple(header.get("expect", [])),
                                  policy_config, stack))
    return samples


def all_samples() -> list[Sample]:
    return [s for pkg in rule_packages() for s in load_samples(pkg)]


def rule_of(rule_pkg: str) -> Any:
    import importlib

    return importlib.import_module(f"policies.rules.{rule_pkg}.rule").RULE


def evaluate_in_process(sample: Sample, *, stack: str = SAMPLE_STACK_NAME) -> list[str]:
    """Messages the sample's rule reports for it, running the same CrossGuard policy object the pack serves
    (guard included) with SDK-style proxied props, without a process or gRPC."""
    from pulumi_policy import ResourceValidationArgs, StackValidationArgs
    from pulumi_policy.policy import PolicyCustomTimeouts, PolicyResource, PolicyResourceOptions

    from policies.framework.context import stack_values_override
    from policies.framework.guard import to_policy
    from policies.framework.rule import ResourceRule
    from policies.framework.values import proxied
    from sovereign.analyzer.resource import resource_from_manifest

    rule = rule_of(sample.rule_pkg)
    policy = to_policy(rule)
    messages: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        messages.append(message)

    opts = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], None)
    resources = [resource_from_manifest(m, stack=stack) for m in sample.manifests]
    with stack_values_override(sample.stack_config, stack=stack):
        if isinstance(rule, ResourceRule):
            for r in resources:
                args = ResourceValidationArgs(r.type, proxied(r.props), r.urn, r.name, opts, None,
                                              dict(sample.policy_config))
                policy.validate(args, report)  # type: ignore[arg-type]
        else:
            res = [PolicyResource(r.type, proxied(r.props), r.urn, r.name, opts, None, None, [], {})
                   for r in resources]
            policy.validate(StackValidationArgs(res, dict(sample.policy_config)), report)  # type: ignore[arg-type]
    return messages
