"""Rule samples (gatekeeper-library layout) and an in-process evaluator for them.

``policies/rules/<rule_pkg>/samples/{allowed,disallowed}/*.yaml`` hold one or more manifests each. Header
comments carry the exact findings a sample must draw and per-sample settings::

    # expect: Deployment fleet-ingest/gateway | <fragment> [| <fragment>]  (one finding; disallowed; repeatable)
    # config: {"at": "2027-03-01"}                                         (the rule's policy config)
    # stack: {"sovereign-clusters:transfers": []}                          (stack config keys replaced)

Each ``expect`` line is exactly one finding of the sample's rule: on that resource (``Kind ns/name``, ``Kind name``
for a cluster-scoped object, ``stack`` for a stack rule's finding about no one object) with a message containing
every fragment. The rule's findings on the sample must be exactly those, no more (gatekeeper-library's suites state
their expected violations the same way): a rule that reports one problem twice fails its own samples.

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
from sovereign.core.yamlio import load_yaml_file, parse_yaml_documents, read_text

SAMPLE_STACK = RULES_DIR / "sample-stack.yaml"
SAMPLE_STACK_NAME = "cn-prod"


@dataclass(frozen=True)
class Expectation:
    resource: str
    """``Kind ns/name``, ``Kind name`` (cluster-scoped) or ``stack``."""
    fragments: tuple[str, ...]
    """Every one of them appears in the finding's message."""

    def matches(self, resource: str, message: str) -> bool:
        return resource == self.resource and all(f in message for f in self.fragments)

    def __str__(self) -> str:
        return " | ".join((self.resource, *self.fragments))


def parse_expectation(text: str, path: Path) -> Expectation:
    """``<resource> | <fragment> [| <fragment> ...]``."""
    resource, *fragments = (part.strip() for part in text.split(" | "))
    if not resource or not fragments or not all(fragments):
        raise ValueError(f"{path}: `# expect: {text}` is not `<resource> | <message fragment> [| ...]`")
    return Expectation(resource, tuple(fragments))


@dataclass(frozen=True)
class Sample:
    rule_pkg: str
    verdict: str
    """``allowed`` or ``disallowed``."""
    path: Path
    manifests: tuple[Mapping[str, Any], ...]
    expect: tuple[Expectation, ...] = ()
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
            expect = tuple(parse_expectation(e, path) for e in header.get("expect", []))
            samples.append(Sample(rule_pkg, verdict, path, docs, expect, policy_config, stack))
    return samples


def all_samples() -> list[Sample]:
    return [s for pkg in rule_packages() for s in load_samples(pkg)]


def rule_of(rule_pkg: str) -> Any:
    import importlib

    return importlib.import_module(f"policies.rules.{rule_pkg}.rule").RULE


def resource_name(manifest: Mapping[str, Any]) -> str:
    """``Kind ns/name`` (``Kind name`` for an object without namespace): how expectations name a resource."""
    meta = manifest.get("metadata") if isinstance(manifest.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    kind, name, ns = str(manifest.get("kind", "")), str(meta.get("name", "")), meta.get("namespace")
    return f"{kind} {ns}/{name}" if isinstance(ns, str) and ns else f"{kind} {name}"


def evaluate_in_process(sample: Sample, *, stack: str = SAMPLE_STACK_NAME) -> list[tuple[str, str]]:
    """(resource, message) of every finding of the sample's rule, through the direct runner (the path
    ``sovereign check`` takes; the suite runs the gRPC path too)."""
    from policies.framework.runner import DirectPack
    from policies.pack import PACK_NAME, load_rules
    from sovereign.analyzer.resource import resource_from_manifest

    rule = rule_of(sample.rule_pkg)
    pack = DirectPack(PACK_NAME, load_rules(), stack=stack, config=pulumi_config_shape(sample.stack_config))
    pack.configure({rule.id: dict(sample.policy_config)} if sample.policy_config else {})
    resources = [resource_from_manifest(m, stack=stack) for m in sample.manifests]
    names = {r.urn: resource_name(m) for r, m in zip(resources, sample.manifests, strict=True)}
    diagnostics = [d for r in resources for d in pack.analyze(r)] + pack.analyze_stack(resources)
    return [(names.get(d.urn, "stack"), d.detail) for d in diagnostics if d.policy_name == rule.id]


def pulumi_config_shape(values: Mapping[str, Any]) -> dict[str, str]:
    """Stack config values as the language host passes them (``PULUMI_CONFIG``): text, JSON for objects."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}
