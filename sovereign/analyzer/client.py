"""Start a policy pack process and talk to it over the analyzer gRPC protocol, as the Pulumi CLI does.

What the CLI does (pulumi-runtime.md §2) and what this client reproduces:

* spawn ``<python> -u -m pulumi.policy <engineAddress> <packDir>`` with cwd = the pack dir and env
  ``PULUMI_PROJECT/STACK/DRY_RUN`` plus ``PULUMI_CONFIG`` = the stack's config (JSON, values as strings);
  ``<python>`` comes from ``runtime.options.virtualenv`` in PulumiPolicy.yaml, relative to the pack dir;
* the engine address is never dialled by a Python pack, so a dummy address is passed;
* read the port the pack prints on stdout, then: ``GetAnalyzerInfo`` -> config reconciliation -> ``Configure``
  -> per resource ``Remediate`` then ``Analyze`` -> one ``AnalyzeStack``.

Difference from the real CLI: the language host's PolicyProxy (which answers Handshake itself) is not in
between; the pack answers every RPC directly, which is what the proxy forwards to anyway.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from sovereign.analyzer.config import effective_policy_config
from sovereign.analyzer.model import (
    POLICY_TYPES,
    AnalyzerInfo,
    Diagnostic,
    PolicyInfo,
    level_name,
    severity_name,
)
from sovereign.analyzer.resource import PROJECT, AnalyzerResource
from sovereign.errors import ToolFailure
from sovereign.pulumi_config_env import env_string_bytes, over_limit_message, pulumi_config_text

DUMMY_ENGINE_ADDRESS = "127.0.0.1:1"
"""A Python pack never dials the engine (verified); the argument is only required by its argv parser."""
START_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 120.0
_MAX_MESSAGE = 400 * 1024 * 1024
_LEVEL_VALUES = {"advisory": 0, "mandatory": 1, "disabled": 2, "remediate": 3}


class AnalyzerError(ToolFailure):
    """The pack could not be started, or an RPC failed (the CLI would abort the preview)."""

    what = "the policy pack failed: "


def stack_config_env(values: Mapping[str, Any]) -> str:
    """The ``PULUMI_CONFIG`` text the language host sets: ``{"ns:key": "<string or JSON text>"}``."""
    return pulumi_config_text(values)


def pack_python(pack_dir: Path) -> str:
    """The interpreter the CLI would use.

    PulumiPolicy.yaml ``runtime.options.virtualenv`` (relative to the pack dir), else ``python3`` from PATH.
    """
    import yaml  # lazy

    project_file = pack_dir / "PulumiPolicy.yaml"
    try:
        project = yaml.safe_load(project_file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise AnalyzerError(f"cannot read {project_file}: {exc}") from None
    runtime = project.get("runtime") if isinstance(project, dict) else None
    options = runtime.get("options") if isinstance(runtime, dict) else None
    venv = options.get("virtualenv") if isinstance(options, dict) else None
    if isinstance(venv, str) and venv:
        candidate = (pack_dir / venv).resolve() / "bin" / "python"
        if candidate.exists():
            return str(candidate)
        raise AnalyzerError(f"{project_file}: virtualenv {venv!r} has no bin/python at {candidate}")
    found = shutil.which("python3")
    return found or sys.executable


def _struct(props: Mapping[str, Any]) -> Any:
    from google.protobuf import struct_pb2

    s = struct_pb2.Struct()
    # JSON round trip: plain JSON types only, as the engine marshals them (numbers become doubles).
    s.update(json.loads(json.dumps(props)))
    return s


def _to_dict(struct: Any) -> dict[str, Any]:
    from google.protobuf import json_format

    return dict(json_format.MessageToDict(struct))


def _drain(stream: IO[bytes]) -> None:
    """Keep reading the pack's stdout after the port line, so a chatty rule can never block on a full pipe."""
    try:
        for _ in iter(stream.readline, b""):
            pass
    except (ValueError, OSError):
        return  # closed by stop()


class PolicyPackProcess:
    """A running policy pack; use as a context manager or call :meth:`stop`."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, stderr_file: IO[bytes], pack_dir: Path
    ) -> None:
        import grpc
        from pulumi.runtime.proto import analyzer_pb2_grpc

        self.process = process
        self.port = port
        self.pack_dir = pack_dir
        self._stderr_file = stderr_file
        self._channel = grpc.insecure_channel(
            f"127.0.0.1:{port}",
            options=[
                ("grpc.max_receive_message_length", _MAX_MESSAGE),
                ("grpc.max_send_message_length", _MAX_MESSAGE),
            ],
        )
        try:
            grpc.channel_ready_future(self._channel).result(timeout=START_TIMEOUT_S)
        except grpc.FutureTimeoutError:
            self.stop()
            raise AnalyzerError(f"policy pack at port {port} did not accept connections") from None
        self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        self._info: AnalyzerInfo | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        pack_dir: str | Path,
        *,
        stack_config: Mapping[str, Any] | None = None,
        stack: str = "dev",
        project: str = PROJECT,
        dry_run: bool = True,
        organization: str | None = None,
        env: Mapping[str, str] | None = None,
        python: str | None = None,
    ) -> PolicyPackProcess:
        """Spawn the pack and return once its port is known. ``stack_config``: ``{"ns:key": value}``."""
        pack = Path(pack_dir).resolve()
        if not (pack / "__main__.py").is_file():
            raise AnalyzerError(f"{pack} is not a Python policy pack (no __main__.py)")
        interpreter = python or pack_python(pack)
        child_env = dict(os.environ)
        child_env.update(env or {})
        child_env["PULUMI_CONFIG"] = stack_config_env(stack_config or {})
        too_big = over_limit_message(stack, env_string_bytes(stack_config or {}))
        if too_big:
            raise AnalyzerError(too_big)
        child_env["PULUMI_PROJECT"] = project
        child_env["PULUMI_STACK"] = stack
        child_env["PULUMI_DRY_RUN"] = "true" if dry_run else "false"
        if organization:
            child_env["PULUMI_ORGANIZATION"] = organization
        stderr_file = tempfile.TemporaryFile()  # noqa: SIM115 - owned by the returned object
        try:
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [interpreter, "-u", "-m", "pulumi.policy", DUMMY_ENGINE_ADDRESS, str(pack)],
                cwd=pack,
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr_file,
            )
        except OSError as exc:
            stderr_file.close()
            raise AnalyzerError(f"cannot start the policy pack with {interpreter}: {exc}") from None
        assert process.stdout is not None
        port = cls._read_port(process, stderr_file)
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        return cls(process, port, stderr_file, pack)

    @staticmethod
    def _read_port(process: subprocess.Popen[bytes], stderr_file: IO[bytes]) -> int:
        assert process.stdout is not None
        result: list[bytes] = []
        reader = threading.Thread(target=lambda: result.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(START_TIMEOUT_S)
        line = result[0].strip() if result else b""
        if line.isdigit():
            return int(line)
        process.kill()
        process.wait()
        stderr_file.seek(0)
        err = stderr_file.read().decode("utf-8", "replace")[-4000:]
        raise AnalyzerError(f"policy pack did not print a port (got {line!r}); stderr:\n{err}")

    def stderr_text(self) -> str:
        """What the pack wrote to stderr so far (``pulumi.log`` goes there when no engine is attached)."""
        self._stderr_file.flush()
        self._stderr_file.seek(0)
        return self._stderr_file.read().decode("utf-8", "replace")

    def stop(self) -> None:
        channel = getattr(self, "_channel", None)
        if channel is not None:
            channel.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()
        self._stderr_file.close()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- RPCs ---------------------------------------------------------------------------------------------
    def _call(self, method: str, request: Any) -> Any:
        import grpc

        try:
            return getattr(self._stub, method)(request, timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            code = exc.code() if hasattr(exc, "code") else "?"
            time.sleep(0.05)
            raise AnalyzerError(f"{method} failed ({code}): {detail}\n{self.stderr_text()[-4000:]}") from None

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
        return proto.AnalyzerProviderResource(
            type=resource.provider_type or "pulumi:providers:kubernetes",
            properties=_struct(resource.provider_props),
            urn=resource.provider_urn,
            name=name,
        )

    def remediate(self, resource: AnalyzerResource) -> tuple[Mapping[str, Any], list[Diagnostic]]:
        """``Remediate``: the props the engine would continue with, plus remediation diagnostics."""
        from pulumi.runtime import proto

        request = proto.AnalyzeRequest(
            type=resource.type,
            properties=_struct(resource.props),
            urn=resource.urn,
            name=resource.name,
            options=self._options(resource),
        )
        provider = self._provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        response = self._call("Remediate", request)
        props: Mapping[str, Any] = resource.props
        notes: list[Diagnostic] = []
        for rem in response.remediations:
            if rem.HasField("properties") and rem.properties.fields:
                props = _to_dict(rem.properties)
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
        return props, notes

    def analyze(self, resource: AnalyzerResource, *, remediate: bool = True) -> list[Diagnostic]:
        """``Remediate`` (as the engine does first) then ``Analyze`` one resource's inputs."""
        from pulumi.runtime import proto

        props: Mapping[str, Any] = resource.props
        notes: list[Diagnostic] = []
        if remediate:
            props, notes = self.remediate(resource)
        request = proto.AnalyzeRequest(
            type=resource.type,
            properties=_struct(props),
            urn=resource.urn,
            name=resource.name,
            options=self._options(resource),
        )
        provider = self._provider(resource)
        if provider is not None:
            request.provider.CopyFrom(provider)
        response = self._call("Analyze", request)
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
            item.properties.CopyFrom(_struct(res.props))
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
