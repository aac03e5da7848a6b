"""Run a Python policy pack inside this process: its own ``PolicyPack`` and servicer, called without gRPC.

Why: over gRPC every resource costs two round trips to a second process, and that process's servicer turns
the resource's protobuf ``Struct`` into a dict once per policy (16 times per resource for our pack) and
re-reads the whole ``PULUMI_CONFIG`` on every call. That is the price ``pulumi preview --policy-pack`` pays;
a CI check of thousands of objects need not pay it to get the same answers.

What stays exactly as under the CLI (pulumi-runtime.md §2):

* the pack is built by running its ``__main__.py`` with ``PULUMI_CONFIG``, ``PULUMI_PROJECT/STACK/DRY_RUN``
  set as the language host sets them; ``pulumi_policy.PolicyPack`` itself runs
  (argument checks, the real ``_PolicyAnalyzerServicer``); only the gRPC server it would start is replaced by
  a stand-in that hands the servicer over instead of serving;
* every RPC is the servicer's own method, given the same protobuf request the gRPC client sends
  (``session.AnalyzerSession`` builds both), in the same order;
* the 128 KiB ``PULUMI_CONFIG`` limit is enforced: a config the CLI could not pass is refused here too.

What differs, none of it visible in the answers:

* the working directory stays the caller's (the CLI starts a pack in its own directory; changing a
  process-wide cwd under other threads is not safe). The residency pack resolves every path from its own
  location, which the differential tests below confirm by running from the repository root;
* the environment and the SDK's config map are process-wide: a session sets them while it runs and restores
  them after, one session at a time (a lock). Code that reads ``SOVEREIGN_AT`` or ``PULUMI_*`` from other
  threads meanwhile would see the session's values, so run parallel checks in processes (``pack_runs``);

* no transport: each request is serialised and parsed again (so a ``Struct``'s keys arrive in the order they
  do over gRPC, which decides the order of a rule's findings), responses are read as returned;
* decoding is shared (``_SharedDecoding``): a resource's properties are turned into a dict and deserialised
  once, not once per policy and RPC, and every policy's ``unknown_checking_proxy`` is built lazily
  (lazy_proxy.py: the same observable behaviour, tested against the library's; each policy still gets its own
  writable copy, which no other policy sees);
* ``_configure_runtime_settings`` (re-parse ``PULUMI_CONFIG``, re-configure the SDK) runs on the first RPC
  only: the environment it reads does not change within a session;
* an exception inside the servicer becomes ``AnalyzerError`` directly, where gRPC would first turn it into
  an ``UNKNOWN`` status.

``tests/policies/test_in_process_pack.py`` checks that both transports give identical diagnostics on every
rule sample, every red-team vector and the example stacks.
"""

from __future__ import annotations

import contextlib
import os
import runpy
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sovereign.analyzer.lazy_proxy import lazy_unknown_checking_proxy
from sovereign.analyzer.resource import PROJECT
from sovereign.analyzer.session import AnalyzerError, AnalyzerSession, language_host_environment
from sovereign.struct_decode import struct_to_dict

_lock = threading.Lock()
"""One in-process session at a time: the pack reads process-wide state (environment, SDK config)."""


class _PackBuilt(Exception):  # noqa: N818 - a signal, not an error
    """Raised by the stand-in server's ``start()``: the pack is built; stop running its ``__main__``."""


class _StandInServer:
    """Takes the place of ``grpc.server(...)`` inside ``PolicyPack.__init__``."""

    def add_generic_rpc_handlers(self, handlers: Any) -> None:
        return None

    def add_registered_method_handlers(self, service: str, handlers: Any) -> None:
        return None

    def add_insecure_port(self, address: str) -> int:
        return 0

    def start(self) -> None:
        raise _PackBuilt


@contextlib.contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in previous.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def build_servicer(pack_dir: Path) -> Any:
    """Run the pack's ``__main__.py`` as ``python -m pulumi.policy`` would, and return the servicer its
    ``PolicyPack`` created (instead of the gRPC server it would have started)."""
    import pulumi_policy.policy

    policy_module: Any = pulumi_policy.policy  # private names of the library, patched for the build only
    built: list[Any] = []
    real_servicer = policy_module._PolicyAnalyzerServicer

    class RecordingServicer(real_servicer):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            built.append(self)

    real_grpc = policy_module.grpc
    policy_module._PolicyAnalyzerServicer = RecordingServicer
    policy_module.grpc = SimpleNamespace(server=lambda *a, **k: _StandInServer())
    added_path = str(pack_dir) not in sys.path
    if added_path:
        sys.path.insert(0, str(pack_dir))
    try:
        runpy.run_path(str(pack_dir / "__main__.py"), run_name="__main__")
    except _PackBuilt:
        pass
    except SystemExit as exc:
        raise AnalyzerError(f"the policy pack in {pack_dir} exited while starting (status {exc.code})") from None
    except Exception as exc:  # noqa: BLE001 - the CLI would report a pack that fails to start, so do we
        raise AnalyzerError(f"the policy pack in {pack_dir} failed to start: {type(exc).__name__}: {exc}") from None
    finally:
        policy_module._PolicyAnalyzerServicer = real_servicer
        policy_module.grpc = real_grpc
        if added_path:
            sys.path.remove(str(pack_dir))
    if not built:
        raise AnalyzerError(f"the policy pack in {pack_dir} did not create a PolicyPack")
    return built[-1]


class InProcessPolicyPack(AnalyzerSession):
    """A policy pack loaded into this process; use as a context manager (it sets and restores process state)."""

    def __init__(self, servicer: Any, pack_dir: Path, restore: contextlib.ExitStack) -> None:
        super().__init__()
        self.pack_dir = pack_dir
        self._servicer = servicer
        self._restore = restore
        self._decoding = _SharedDecoding(*_library_decoders())
        self._last_sent: tuple[Any, bytes] = (None, b"")
        self._settings_done = False
        self._remediating: bool | None = None
        """Whether a policy remediates, as ``Configure`` left the levels (None: not asked since)."""
        original = servicer._configure_runtime_settings

        def configure_once() -> None:
            if not self._settings_done:
                original()
                self._settings_done = True

        servicer._configure_runtime_settings = configure_once

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
    ) -> InProcessPolicyPack:
        """Load the pack with the environment the language host would give its process."""
        pack, host_variables = language_host_environment(
            pack_dir, stack_config=stack_config, stack=stack, project=project, dry_run=dry_run,
            organization=organization,
        )
        variables = {**(env or {}), **host_variables}
        restore = contextlib.ExitStack()
        if not _lock.acquire(timeout=600):
            raise AnalyzerError("another in-process policy pack session did not finish")
        restore.callback(_lock.release)
        try:
            restore.enter_context(_environment(variables))
            restore.enter_context(_fresh_sdk_config())
            servicer = build_servicer(pack)
        except BaseException:
            restore.close()
            raise
        return cls(servicer, pack, restore)

    def stop(self) -> None:
        self._restore.close()

    def _call(self, method: str, request: Any) -> Any:
        handler: Callable[[Any, Any], Any] = getattr(self._servicer, method)
        # Through bytes, as gRPC carries it: map fields (a Struct's keys) come out in the order the wire
        # parser gives, the order the pack sees over gRPC; costs a few microseconds per resource. The same request
        # sent twice in a row (Remediate, then Analyze) is serialised once.
        if self._last_sent[0] is not request:
            self._last_sent = (request, request.SerializeToString())
        received = type(request).FromString(self._last_sent[1])
        if method == "Configure":
            self._remediating = None  # the levels may change
        elif method == "Remediate":
            if self._remediating is None:
                self._remediating = _remediates(self._servicer)
            self._decoding.remediation_unused = not self._remediating
        with _decoding_installed(self._decoding, method):
            try:
                return handler(received, None)
            except Exception as exc:  # noqa: BLE001 - what gRPC would report as an UNKNOWN status
                raise AnalyzerError(f"{method} failed: {type(exc).__name__}: {exc}") from None


_SIG_KEY_BYTES = b"4dabf18193072939515e22adb298388d"
"""``pulumi_policy.deserialize.SPECIAL_SIG_KEY`` as it appears on the wire (checked equal by the tests)."""

RESOURCE_RPCS = frozenset({"Analyze", "AnalyzeStack", "Remediate"})
"""The RPCs whose decoded properties go only to ``deserialize_properties`` and then to a proxy (never stored,
never handed to a policy as they are), so they may be decoded once per session instead of once per use."""


class _SharedDecoding:
    """The servicer's ``json_format`` and ``deserialize_properties``, memoised.

    * ``MessageToDict`` of a ``Struct`` is struct_decode.py's (the same result, without the generic printer);
      that of a message object is computed once per RPC; within the resource RPCs, once per session
      for every ``Struct`` with the same bytes: Remediate, Analyze and AnalyzeStack of one resource carry the same
      properties, and parsing the same bytes gives the same map order, so the same dict.
    * ``deserialize_properties(d)`` is computed once per session for each such dict (it builds a new tree and only
      reads ``d``); with ``proxy_secrets=True`` (Remediate) it is left alone: that tree is a writable secrets proxy
      a remediation may change. Where the wire holds no signature key (the text of ``SPECIAL_SIG_KEY`` appears
      nowhere in its bytes, so no mapping has that key: no secret, asset or archive to turn into an object), the
      library would build a plain copy of ``d`` with the same keys in the same order; ``d`` itself is returned
      instead. Nothing writes to it: the servicer only hands it to the lazy proxy, which never writes to its input.
      And when no policy is at the ``remediate`` level, ``Remediate`` reads its secrets tree nowhere (the servicer
      skips every policy), so for such a dict it gets ``d`` too instead of a tree built for nothing.
    * ``unknown_checking_proxy`` is the lazy one (lazy_proxy.py), which never writes to its input: so one decoded
      tree can back every policy's proxy while each policy still has a copy of its own.
    """

    def __init__(self, json_format: Any, deserialize: Callable[..., Any]) -> None:
        self._json_format = json_format
        self._deserialize = deserialize
        self._per_rpc: dict[int, tuple[Any, Any]] = {}
        self._by_bytes: dict[bytes, Any] = {}
        self._decoded: dict[int, tuple[Any, Any]] = {}
        self._unsigned: dict[int, Any] = {}
        """id -> dict decoded from a wire without the signature key (kept alive by ``_by_bytes``)."""
        self.lasting = False
        self.remediation_unused = False
        """Set for each ``Remediate``: no policy will remediate, so its secrets tree will not be read."""

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the library's name
        if args or kwargs:
            return self._json_format.MessageToDict(message, *args, **kwargs)
        hit = self._per_rpc.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        if message.DESCRIPTOR.full_name != "google.protobuf.Struct":
            value = self._json_format.MessageToDict(message)
        elif self.lasting:
            wire = message.SerializeToString()
            value = self._by_bytes.get(wire)
            if value is None:
                value = self.remember(wire, struct_to_dict(message))
        else:
            value = struct_to_dict(message)
        self._per_rpc[id(message)] = (message, value)
        return value

    def remember(self, wire: bytes, decoded: dict[str, Any]) -> dict[str, Any]:
        """Keep ``decoded``, the ``MessageToDict`` of a ``Struct`` whose bytes are ``wire``, for the session."""
        self._by_bytes[wire] = decoded
        if _SIG_KEY_BYTES not in wire:
            self._unsigned[id(decoded)] = decoded
        return decoded

    def deserialize_properties(self, props: Any, proxy_secrets: bool = False) -> Any:
        if self.lasting and self._unsigned.get(id(props)) is props and (self.remediation_unused or not proxy_secrets):
            return props  # see the class docstring: nothing to turn into an object, and nothing writes to it
        if proxy_secrets or not self.lasting:
            return self._deserialize(props, proxy_secrets)
        hit = self._decoded.get(id(props))
        if hit is not None and hit[0] is props:
            return hit[1]
        value = self._deserialize(props, proxy_secrets)
        self._decoded[id(props)] = (props, value)
        return value

    def end_rpc(self) -> None:
        self._per_rpc.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._json_format, name)


@contextlib.contextmanager
def _decoding_installed(shared: _SharedDecoding, method: str) -> Iterator[None]:
    """Point the servicer's module at ``shared`` for one RPC (and back after it, for any other user of the
    library in this process)."""
    import pulumi_policy.policy

    policy_module: Any = pulumi_policy.policy
    real = policy_module.json_format, policy_module.deserialize_properties, policy_module.unknown_checking_proxy
    shared.lasting = method in RESOURCE_RPCS
    policy_module.json_format = shared
    policy_module.deserialize_properties = shared.deserialize_properties
    policy_module.unknown_checking_proxy = lazy_unknown_checking_proxy
    try:
        yield
    finally:
        policy_module.json_format, policy_module.deserialize_properties, policy_module.unknown_checking_proxy = real
        shared.end_rpc()


def _remediates(servicer: Any) -> bool:
    """Whether ``Remediate`` would call any policy's ``remediate``: the servicer's own test, for its policies at the
    levels ``Configure`` gave them (a resource policy at ``remediate``)."""
    import pulumi_policy.policy

    policy_module: Any = pulumi_policy.policy
    level = servicer._get_enforcement_level
    return any(
        isinstance(p, policy_module.ResourceValidationPolicy)
        and level(p) == policy_module.EnforcementLevel.REMEDIATE
        for p in servicer._PolicyAnalyzerServicer__policies
    )


def _library_decoders() -> tuple[Any, Callable[..., Any]]:
    import pulumi_policy.policy

    policy_module: Any = pulumi_policy.policy
    return policy_module.json_format, policy_module.deserialize_properties


@contextlib.contextmanager
def _fresh_sdk_config() -> Iterator[None]:
    """The pack process starts with an empty SDK config map; so does each session (and leaves none behind)."""
    from pulumi.runtime import config as sdk_config

    token = sdk_config.CONFIG.set({})
    try:
        yield
    finally:
        sdk_config.CONFIG.reset(token)
