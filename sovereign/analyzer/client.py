"""Start a policy pack process and talk to it over the analyzer gRPC protocol, as the Pulumi CLI does.

What the CLI does (docs/pulumi-runtime.md §2) and what this client reproduces:

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

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from sovereign.analyzer.resource import PROJECT
from sovereign.analyzer.session import AnalyzerError, AnalyzerSession, language_host_environment
from sovereign.core.pulumi_config_env import pulumi_config_text

DUMMY_ENGINE_ADDRESS = "127.0.0.1:1"
"""A Python pack never dials the engine (verified); the argument is only required by its argv parser."""
START_TIMEOUT_S = 30.0
RPC_TIMEOUT_S = 120.0
_MAX_MESSAGE = 400 * 1024 * 1024


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


def _drain(stream: IO[bytes]) -> None:
    """Keep reading the pack's stdout after the port line, so a chatty rule can never block on a full pipe."""
    try:
        for _ in iter(stream.readline, b""):
            pass
    except (ValueError, OSError):
        return  # closed by stop()


class PolicyPackProcess(AnalyzerSession):
    """A running policy pack process, spoken to over gRPC; use as a context manager or call :meth:`stop`."""

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
        super().__init__()

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
        pack, variables = language_host_environment(
            pack_dir, stack_config=stack_config, stack=stack, project=project, dry_run=dry_run,
            organization=organization,
        )
        interpreter = python or pack_python(pack)
        child_env = dict(os.environ)
        child_env.update(env or {})
        child_env.update(variables)
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

    # -- transport ----------------------------------------------------------------------------------------
    def _call(self, method: str, request: Any) -> Any:
        import grpc

        try:
            return getattr(self._stub, method)(request, timeout=RPC_TIMEOUT_S)
        except grpc.RpcError as exc:
            detail = exc.details() if hasattr(exc, "details") else str(exc)
            code = exc.code() if hasattr(exc, "code") else "?"
            time.sleep(0.05)
            raise AnalyzerError(f"{method} failed ({code}): {detail}\n{self.stderr_text()[-4000:]}") from None

