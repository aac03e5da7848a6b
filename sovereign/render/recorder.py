"""A resource monitor for the SDK's mock runtime that records every registration the way the engine sees it.

``pulumi.runtime.mocks.Mocks.new_resource`` never learns a resource's parent or dependencies, so the recording
happens one level down, in a ``MockMonitor`` subclass that receives the raw ``RegisterResourceRequest``.
Differences from the engine, on purpose and documented:

* URNs are minted in engine form (see ``sovereign.render.urns``), not the mock form;
* ids are deterministic UUIDv5 values of the URN (the engine/provider would assign random/unknown ones);
* outputs = the checked inputs (a real preview of a Kubernetes create echoes the checked inputs too);
* outputs a resource registers itself (``register_outputs``; for the root Stack: ``pulumi.export``) are kept per
  URN, as the engine keeps them in the resource's state;
* the engine's default provider (``pulumi:providers:kubernetes::default_4_34_2``), which mocks never register,
  is synthesised from the ``kubernetes:*`` stack config the first time a resource needs it
  (pkg/resource/deploy/default_providers.go).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime.proto import engine_pb2, resource_pb2

from sovereign.render import urns, wire
from sovereign.render.k8s_check import check_inputs
from sovereign.render.registration import Registration

__all__ = ["LogEntry", "RecordingEngine", "RecordingMonitor", "Registration", "RenderMocks"]


@dataclass(frozen=True, order=True)
class LogEntry:
    """One ``pulumi.log.*`` call of the program, as the engine would turn it into a diagnostic event."""

    urn: str
    """Engine-form URN of the resource the message is about; empty when the program named none."""
    severity: str
    """``info``, ``warning`` or ``error`` (the severities of ``pulumi preview --json`` diagnostics)."""
    message: str


SEVERITIES = {engine_pb2.INFO: "info", engine_pb2.WARNING: "warning", engine_pb2.ERROR: "error"}
"""Debug messages are left out, as the CLI leaves them out of a preview unless run with ``--debug``."""


class RecordingEngine(pulumi_mocks.MockEngine):
    """The engine end of ``pulumi.log``: under the mock runtime ``MockEngine.Log`` only forwards to Python
    logging (lost in the worker); here every message is kept with its severity and URN. Thread-safe: messages
    about a resource are sent from the event loop once its URN resolves."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("pulumi-program"))
        self.entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def Log(self, request: Any) -> None:  # noqa: N802 - gRPC method name
        severity = SEVERITIES.get(request.severity)
        if severity is None:
            return
        with self._lock:
            self.entries.append(LogEntry(urn=request.urn, severity=severity, message=request.message))


class RenderMocks(pulumi_mocks.Mocks):
    """Answers provider functions and reads; registrations are handled by ``RecordingMonitor`` directly.

    Invokes return empty results: the program is expected not to depend on provider functions
    (docs/pulumi-runtime.md §5.5: yaml.v1 and helm.v3 would need them; a call is recorded so the render can say
    so).
    """

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def call(self, args: pulumi_mocks.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        with self._lock:
            self.calls.append(args.token)
        return {}, None

    def new_resource(self, args: pulumi_mocks.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        # Only reached for ReadResource (``Resource.get``): echo the state that was asked for.
        return args.resource_id or "", dict(args.inputs)


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """Records registrations with engine-form URNs; thread-safe (the SDK calls it from executor threads)."""

    def __init__(
        self,
        mocks: RenderMocks,
        *,
        stack: str,
        project: str,
        config: dict[str, str],
        secret_keys: set[str],
        on_record: Callable[[Registration], None] | None = None,
    ) -> None:
        super().__init__(mocks)
        self._on_record = on_record
        """Told of every registration as it is recorded, in recording order (under the lock)."""
        self.stack = stack
        self.project = project
        self.config = config
        self.secret_keys = secret_keys
        self.registrations: list[Registration] = []
        self.outputs: dict[str, dict[str, Any]] = {}
        """URN -> outputs the resource registered (``register_outputs``; the root Stack's are its exports)."""
        self._default_providers: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    # -- URNs
    # -------------------------------------------------------------------------------------------------
    def make_urn(self, parent: str, type_: str, name: str) -> str:  # noqa: D102 - overrides the mock form
        return urns.engine_urn(self.stack, self.project, parent, type_, name)

    # -- recording
    # ----------------------------------------------------------------------------------------------
    def _append(self, reg: Registration) -> None:
        reg.arrival = len(self.registrations)
        self.registrations.append(reg)
        if self._on_record is not None:
            self._on_record(reg)

    def _default_provider_ref(self, type_: str, version: str) -> str:
        """Register (once) the engine's default provider for the resource's package; return its reference."""
        package = urns.package_of(type_)
        key = (package, version)
        ref = self._default_providers.get(key)
        if ref is not None:
            return ref
        name = urns.default_provider_name(version)
        provider_type = urns.provider_type(package)
        urn = urns.engine_urn(self.stack, self.project, "", provider_type, name)
        id_ = urns.deterministic_id(urn)
        inputs: dict[str, Any] = {}
        prefix = package + ":"
        for key_name in sorted(self.config):
            if key_name.startswith(prefix):
                value: Any = self.config[key_name]
                inputs[key_name[len(prefix) :]] = wire.secret(value) if key_name in self.secret_keys else value
        if version:
            inputs["version"] = version
        self._append(
            Registration(
                op="create",
                type=provider_type,
                name=name,
                urn=urn,
                id=id_,
                custom=True,
                remote=False,
                parent="",
                provider="",
                dependencies=[],
                property_dependencies={},
                inputs=inputs,
                version=version,
                protect=False,
                arrival=0,
                synthesised=True,
            )
        )
        ref = urns.provider_reference(urn, id_)
        self._default_providers[key] = ref
        return ref

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = wire.struct_to_value(request.object)
        custom = bool(request.custom)
        is_stack = request.type == urns.ROOT_STACK_TYPE
        checked = inputs if is_stack else check_inputs(request.type, custom, urn, request.name, inputs)
        id_ = urns.deterministic_id(urn) if custom else ""
        with self._lock:
            provider = request.provider
            if custom and not provider and not request.type.startswith(urns.PROVIDER_TYPE_PREFIX):
                provider = self._default_provider_ref(request.type, request.version)
            self._append(
                Registration(
                    op="create",
                    type=request.type,
                    name=request.name,
                    urn=urn,
                    id=id_,
                    custom=custom,
                    remote=bool(request.remote),
                    parent=request.parent,
                    provider=provider,
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    inputs=checked,
                    version=request.version,
                    protect=bool(request.protect),
                    arrival=0,
                )
            )
            if not is_stack:
                self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, checked)
        if is_stack:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=wire.value_to_struct(checked))

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        # The mock monitor drops these; the engine stores them in the resource's state, and a preview shows the
        # root Stack's (the program's exports). Unknown values stay the preview sentinel, secrets stay wrapped.
        outputs = wire.struct_to_value(request.outputs)
        with self._lock:
            self.outputs[request.urn] = outputs
        return super().RegisterResourceOutputs(request)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().ReadResource(request)
        with self._lock:
            self._append(
                Registration(
                    op="read",
                    type=request.type,
                    name=request.name,
                    urn=response.urn,
                    id=request.id,
                    custom=True,
                    remote=False,
                    parent=request.parent,
                    provider=request.provider,
                    dependencies=list(request.dependencies),
                    property_dependencies={},
                    inputs=wire.struct_to_value(request.properties),
                    version=request.version,
                    protect=False,
                    arrival=0,
                )
            )
        return response
