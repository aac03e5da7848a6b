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
* within one RPC, ``json_format.MessageToDict`` and ``deserialize_properties`` of the same value are computed
  once and shared by the policies: the servicer only reads them, and each policy still gets its own
  ``unknown_checking_proxy`` copy (which a policy may write to without another policy seeing it);
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

from sovereign.analyzer.resource import PROJECT
from sovereign.analyzer.session import AnalyzerError, AnalyzerSession, language_host_environment

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


class _OncePerMessage:
    """``json_format`` for the servicer: ``MessageToDict`` memoised per message object until ``clear()``."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._memo: dict[int, tuple[Any, Any]] = {}

    def MessageToDict(self, message: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802 - the library's name
        if args or kwargs:
            return self._real.MessageToDict(message, *args, **kwargs)
        hit = self._memo.get(id(message))
        if hit is not None and hit[0] is message:
            return hit[1]
        value = self._real.MessageToDict(message)
        self._memo[id(message)] = (message, value)
        return value

    def clear(self) -> None:
        self._memo.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


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
        self._messages: _OncePerMessage | None = None
        self._settings_done = False
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
        # parser gives, the order the pack sees over gRPC; costs a few microseconds per resource.
        received = type(request).FromString(request.SerializeToString())
        with _shared_message_dicts() as messages:
            try:
                return handler(received, None)
            except Exception as exc:  # noqa: BLE001 - what gRPC would report as an UNKNOWN status
                raise AnalyzerError(f"{method} failed: {type(exc).__name__}: {exc}") from None
            finally:
                messages.clear()


class _OncePerDict:
    """``deserialize_properties`` for the servicer, memoised per input dict (and ``proxy_secrets``) until
    ``clear()``. Sharing the result is safe: the servicer only hands it to ``unknown_checking_proxy``, which
    copies every container, so no policy can reach (or change) what another policy receives."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self._real = real
        self._memo: dict[tuple[int, bool], tuple[Any, Any]] = {}

    def __call__(self, props: Any, proxy_secrets: bool = False) -> Any:
        key = (id(props), proxy_secrets)
        hit = self._memo.get(key)
        if hit is not None and hit[0] is props:
            return hit[1]
        value = self._real(props, proxy_secrets)
        self._memo[key] = (props, value)
        return value

    def clear(self) -> None:
        self._memo.clear()


class _SharedDecoding:
    def __init__(self, messages: _OncePerMessage, dicts: _OncePerDict) -> None:
        self.messages, self.dicts = messages, dicts

    def clear(self) -> None:
        self.messages.clear()
        self.dicts.clear()


@contextlib.contextmanager
def _shared_message_dicts() -> Iterator[_SharedDecoding]:
    import pulumi_policy.policy

    policy_module: Any = pulumi_policy.policy
    real_format, real_deserialize = policy_module.json_format, policy_module.deserialize_properties
    shared = _SharedDecoding(_OncePerMessage(real_format), _OncePerDict(real_deserialize))
    policy_module.json_format = shared.messages
    policy_module.deserialize_properties = shared.dicts
    try:
        yield shared
    finally:
        policy_module.json_format = real_format
        policy_module.deserialize_properties = real_deserialize


@contextlib.contextmanager
def _fresh_sdk_config() -> Iterator[None]:
    """The pack process starts with an empty SDK config map; so does each session (and leaves none behind)."""
    from pulumi.runtime import config as sdk_config

    token = sdk_config.CONFIG.set({})
    try:
        yield
    finally:
        sdk_config.CONFIG.reset(token)
