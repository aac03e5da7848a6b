"""Run the Pulumi program once under the SDK's mock runtime, the way the language host runs it, and write
every registration to a JSON file. Run as a subprocess (the Pulumi runtime is process-global):

    python tests/program/program_capture.py <stack> <out.json> [<config-override.json>]

Emulated like pulumi-language-python-exec: stack config -> ``set_all_config`` (objects as JSON text, secret
keys listed), Settings with project/stack/root_directory, chdir to infra/, ``runpy.run_path(".")`` inside
``run_in_stack``. Differences from a real preview (see docs/program.md): URNs use the mock form
(``Stack$type``), there is no provider Check() (no autonaming, no defaults), no default provider is
registered, and outputs are the echoed inputs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy
import sys
from pathlib import Path
from typing import Any

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockEngine, MockMonitor, Mocks, MockSettings
from pulumi.runtime.stack import run_in_stack

try:
    from sovereign.core.ambient_cluster import NO_AMBIENT_CLUSTER
except ModuleNotFoundError:  # the "venv without the project" test: the program itself stops at its imports
    NO_AMBIENT_CLUSTER = {}

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "sovereign-clusters"
SECRET_SIG = "4dabf18193072939515e22adb298388d"


class EchoMocks(Mocks):
    """Outputs = inputs, as a preview-create of the Kubernetes provider echoes its checked inputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registrations: list[dict[str, Any]] = []
        self.stack_outputs: dict[str, Any] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        self.registrations.append(
            {
                "type": request.type,
                "name": request.name,
                "urn": response.urn,
                "parent": request.parent,
                "provider": request.provider,
                "providers": dict(request.providers),
                "custom": request.custom,
                "dependencies": sorted(request.dependencies),
                "protect": request.protect,
                "retainOnDelete": request.retainOnDelete,
                # Raw wire form: secrets keep their signature wrapper, so tests can check secretness.
                "inputs": json_format.MessageToDict(request.object),
            }
        )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if "pulumi:pulumi:Stack" in request.urn.split("::")[2]:
            self.stack_outputs = json_format.MessageToDict(request.outputs)
        return super().RegisterResourceOutputs(request)


def config_from_stack_file(stack: str, overrides: dict[str, Any] | None) -> tuple[dict[str, str], list[str]]:
    """What the CLI puts in PULUMI_CONFIG: strings, objects/lists as JSON text, ``secure:`` decrypted."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    values: dict[str, Any] = dict(data.get("config") or {})
    if overrides:
        for key, value in overrides.items():
            if value is None:
                values.pop(key, None)
            else:
                values[key] = value
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in values.items():
        if isinstance(value, dict) and set(value) == {"secure"}:
            # Mocks cannot decrypt; tests pass the plaintext a CLI would have decrypted, as {"secure": text}.
            config[key] = value["secure"]
            secret_keys.append(key)
        elif isinstance(value, dict | list):
            config[key] = json.dumps(value)
        elif isinstance(value, bool):
            config[key] = "true" if value else "false"
        else:
            config[key] = str(value)
    return config, secret_keys


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append({"level": record.levelname, "message": record.getMessage()})


def _run_entry_point() -> None:
    runpy.run_path(".", run_name="__main__")


KEEP_AMBIENT_ENV = "CAPTURE_KEEP_AMBIENT_KUBECONFIG"
"""Set to 1 to run the program with this process's KUBECONFIG (the render-mode guard's test); otherwise the
program runs with NO_AMBIENT_CLUSTER, as docs/program.md tells users to run a render."""


def capture(stack: str, overrides: dict[str, Any] | None) -> dict[str, Any]:
    if os.environ.get(KEEP_AMBIENT_ENV) != "1":
        os.environ.update(NO_AMBIENT_CLUSTER)
    config, secret_keys = config_from_stack_file(stack, overrides)
    set_all_config(config, secret_keys)
    logger = logging.getLogger("sovereign-capture")
    logger.setLevel(logging.DEBUG)
    collector = _Collect()
    logger.addHandler(collector)
    mocks = EchoMocks()
    monitor = RecordingMonitor(mocks)
    runtime_settings.configure(
        MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=MockEngine(logger),
            project=PROJECT,
            stack=stack,
            dry_run=True,
            organization="organization",
            root_directory=str(ROOT),
            callbacks=None,
        )
    )
    os.chdir(ROOT / "infra")
    error: str | None = None
    try:
        asyncio.new_event_loop().run_until_complete(run_in_stack(_run_entry_point))
    except pulumi.RunError as exc:
        error = str(exc)
    return {
        "stack": stack,
        "error": error,
        "registrations": monitor.registrations,
        "outputs": monitor.stack_outputs,
        "logs": collector.records,
    }


def main(argv: list[str]) -> int:
    stack, out = argv[1], argv[2]
    overrides = json.loads(Path(argv[3]).read_text()) if len(argv) > 3 else None
    result = capture(stack, overrides)
    Path(out).write_text(json.dumps(result, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
