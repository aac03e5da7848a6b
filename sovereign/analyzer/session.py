"""The analyzer RPCs as the Pulumi CLI sends them, independent of how they reach the pack.

``AnalyzerSession`` builds every request the way the engine does (docs/pulumi-runtime.md) and reads the answers
into plain values; a subclass supplies ``_call(method, request)``: over gRPC to a pack process
(``client.PolicyPackProcess``, what ``pulumi preview --policy-pack`` does).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sovereign.analyzer.config import effective_policy_config
from sovereign.analyzer.model import (
    POLICY_TYPES,
    AnalyzerInfo,
    Diagnostic,
    PolicyInfo,
    level_name,
    severity_name,
)
from sovereign.analyzer.props_encoding import props_wire
from sovereign.analyzer.resource import PROJECT, AnalyzerResource
from sovereign.core.errors import ToolFailure
from sovereign.core.pulumi_config_env import env_string_bytes, over_limit_message, pulumi_config_text

_LEVEL_VALUES = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}


class AnalyzerError(ToolFailure):
    """The pack could not be started, or an RPC failed (the CLI would abort the preview)."""

    what = "the policy pack failed: "


def language_host_environment(
    pack_dir: str | Path,
    *,
    stack_config: Mapping[str, Any] | None,
    stack: str,
    project: str,
    dry_run: bool,
    organization: str | None,
) -> tuple[Path, dict[str, str]]:
    """The resolved pack dir and the variables the language host gives a pack process (docs/pulumi-runtime.md §2):
    ``PULUMI_CONFIG`` (refused over the 128 KiB the CLI could pass) and ``PULUMI_PROJECT/STACK/DRY_RUN``."""
    pack = Path(pack_dir).resolve()
    if not (pack / "__main__.py").is_file():
        raise AnalyzerError(f"{pack} is not a Python policy pack (no __main__.py)")
    config = dict(stack_config or {})
    too_big = over_limit_message(stack, env_string_bytes(config))
    if too_big:
        raise AnalyzerError(too_big)
    variables = {
        "PULUMI_CONFIG": pulumi_config_text(config),
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
    }
    if organization:
        variables["PULUMI_ORGANIZATION"] = organization
    return pack, variables


def _to_dict(struct: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return dict(json_format.MessageToDict(struct))


class AnalyzerSession:
    """One analysis (one preview's worth of RPCs) against a policy pack."""

    def __init__(self) -> None:
        self._info: AnalyzerInfo | None = None

    def _call(self, method: str, request: Any) -> Any:
        raise NotImplementedError

    def stop(self) -> None:
        """End the session (stop the pack process, or restore this process's state)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def configure_stack(
        self, *, stack: str, project: str = PROJECT, tags: Mapping[str, str] | None = None
    ) -> None:
        """``ConfigureStack``: the CLI sends it first (the language host's proxy answers it too)."""
        from pulumi.runtime import proto

        self._call(
            "ConfigureStack",
            proto.AnalyzerStackConfigureRequest(
                stack=stack, project=project, dry_run=True, tags=dict(tags or {})
            ),
        )

    def get_analyzer_info(self) -> AnalyzerInfo:
        from google.protobuf import empty_pb2

        raw = self._call("GetAnalyzerInfo", empty_pb2.Empty())
        policies = tuple(
            PolicyInfo(
                name=p.name,
                description=p.description,
                enforcement_level=level_name(p.enforcementLevel),
                policy_type=POLICY_TYPES[p.policy_type] if p.policy_type < len(POLICY_TYPES) else "unknown",
                severity=severity_name(p.severity),
                remediation_steps=p.remediation_steps,
                config_schema=_to_dict(p.configSchema.properties) if p.HasField("configSchema") else {},
                required=tuple(p.configSchema.required) if p.HasField("configSchema") else (),
            )
            for p in raw.policies
        )
        initial: dict[str, dict[str, Any]] = {}
        for key in raw.initialConfig:
            cfg = raw.initialConfig[key]
            entry = _to_dict(cfg.properties)
            if cfg.enforcementLevel:
                entry["enforcementLevel"] = level_name(cfg.enforcementLevel)
            initial[key] = entry
        self._info = AnalyzerInfo(
            name=raw.name,
            version=raw.version,
            supports_config=raw.supportsConfig,
            policies=policies,
            initial_config=initial,
        )
        return self._info

    def configure(
        self, policy_config: Mapping[str, Any] | None = None, *, source: str = "--policy-pack-config"
    ) -> dict[str, dict[str, Any]]:
        """Reconcile ``policy_config`` (``--policy-pack-config`` shape) as the CLI does, then ``Configure``.

        Props are validated against each policy's schema (``InputError`` if invalid).
        Returns the effective config.
        """
        from pulumi.runtime import proto

        info = self._info or self.get_analyzer_info()
        effective = effective_policy_config(info, policy_config, source=source)
        if not info.supports_config:
            return effective
        request = proto.ConfigureAnalyzerRequest()
        for name in sorted(effective):
            entry = effective[name]
            cfg = request.policyConfig[name]
            cfg.enforcementLevel = _LEVEL_VALUES.get(entry.get("enforcementLevel") or "advisory", 0)
            if entry.get("properties"):
                cfg.properties.update(json.loads(json.dumps(entry["properties"])))
        self._call("Configure", request)
        return effective

    def _options(self, resource: AnalyzerResource) -> Any:
        from pulumi.runtime import proto

        return proto.AnalyzerResourceOptions(parent=resource.parent)

    def _provider(self, resource: AnalyzerResource) -> Any:
        from pulumi.runtime import proto

        if not resource.provider_urn:
            return None
        name = resource.provider_urn.rsplit("::", 1)[-1]
        provider = proto.AnalyzerProviderResource(
            type=resource.provider_type or "pulumi:providers:kubernetes",
            urn=resource.provider_urn,
            name=name,
        )
        provider.properties.MergeFromString(props_wire(resource.provider_props))
        return provider

    def _request(self, resource: AnalyzerResource, props: Mapping[str, Any]) -> Any:
        from pulumi.runtime import proto

        request = proto.AnalyzeRequest(
            type=resource.type,
            urn=resource.urn,
            name=resource.name,
            options=self._options(resource),
        )
        request.properties.MergeFromString(props_wire(props))
        provider = self._provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        return request

    def remediate(self, resource: AnalyzerResource) -> tuple[Mapping[str, Any], list[Diagnostic]]:
        """``Remediate``: the props the engine would continue with, plus remediation diagnostics."""
        props, notes, _ = self._remediate(resource)
        return props, notes

    def _remediate(self, resource: AnalyzerResource) -> tuple[Mapping[str, Any], list[Diagnostic], bool]:
        response = self._call("Remediate", self._request(resource, resource.props))
        props: Mapping[str, Any] = resource.props
        notes: list[Diagnostic] = []
        changed = False
        for rem in response.remediations:
            if rem.HasField("properties") and rem.properties.fields:
                props = _to_dict(rem.properties)
                changed = True
            if rem.diagnostic:
                notes.append(
                    Diagnostic(
                        rem.policyName,
                        rem.policyPackName,
                        rem.policyPackVersion,
                        rem.description,
                        rem.diagnostic,
                        "advisory",
                        resource.urn,
                        "",
                    )
                )
        return props, notes, changed

    def analyze(self, resource: AnalyzerResource, *, remediate: bool = True) -> list[Diagnostic]:
        """``Remediate`` (as the engine does first) then ``Analyze`` one resource's inputs."""
        props: Mapping[str, Any] = resource.props
        notes: list[Diagnostic] = []
        if remediate:
            props, notes, _ = self._remediate(resource)
        response = self._call("Analyze", self._request(resource, props))
        return notes + [self._diagnostic(d, resource.urn) for d in response.diagnostics]

    def analyze_stack(self, resources: Iterable[AnalyzerResource]) -> list[Diagnostic]:
        """``AnalyzeStack`` over every resource (their outputs) at the end of a preview."""
        from pulumi.runtime import proto

        request = proto.AnalyzeStackRequest()
        for res in resources:
            item = request.resources.add()
            item.type = res.type
            item.urn = res.urn
            item.name = res.name
            item.properties.MergeFromString(props_wire(res.props))  # as in Analyze: the same bytes reach the pack
            item.options.CopyFrom(self._options(res))
            item.parent = res.parent
            item.dependencies.extend(res.dependencies)
            for key in sorted(res.property_dependencies):
                item.propertyDependencies[key].urns.extend(res.property_dependencies[key])
            provider = self._provider(res)
            if provider is not None:
                item.provider.CopyFrom(provider)
        response = self._call("AnalyzeStack", request)
        return [self._diagnostic(d, "") for d in response.diagnostics]

    @staticmethod
    def _diagnostic(d: Any, default_urn: str) -> Diagnostic:
        return Diagnostic(
            policy_name=d.policyName,
            policy_pack_name=d.policyPackName,
            policy_pack_version=d.policyPackVersion,
            description=d.description,
            message=d.message,
            enforcement_level=level_name(d.enforcementLevel),
            urn=d.urn or default_urn,
            severity=severity_name(d.severity),
        )
