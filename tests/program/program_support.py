"""Run the program under mocks in a subprocess (the Pulumi runtime is process-global) and read back the
recorded resource graph."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
# Inside every example transfer's validity window (cn-prod weights-to-eu: 2026-03-01 .. 2027-02-28).
DEFAULT_AT = "2026-11-25T00:00:00Z"
SECRET_SIG = "4dabf18193072939515e22adb298388d"
PROVIDER_TYPE = "pulumi:providers:kubernetes"


@dataclass
class Capture:
    stack: str
    error: str | None
    registrations: list[dict[str, Any]]
    outputs: dict[str, Any]
    logs: list[dict[str, str]]

    @property
    def k8s(self) -> list[dict[str, Any]]:
        """Every Kubernetes object (custom resources of the kubernetes package, not the provider)."""
        return [r for r in self.registrations if r["type"].startswith("kubernetes:")]

    def kind(self, kind: str) -> list[dict[str, Any]]:
        return [r["inputs"] for r in self.k8s if r["inputs"].get("kind") == kind]

    @property
    def providers(self) -> list[dict[str, Any]]:
        return [r for r in self.registrations if r["type"] == PROVIDER_TYPE]

    @property
    def warnings(self) -> list[str]:
        return [rec["message"] for rec in self.logs if rec["level"] == "WARNING"]


def _capture_in_child(stack: str, at: str, overrides: dict[str, Any] | None, out: str) -> None:
    """Runs in a forked child: the runtime there starts unconfigured, and everything the parent already
    imported (the SDK, pulumi_kubernetes, the catalog) is reused instead of imported again."""
    os.environ["SOVEREIGN_AT"] = at
    import program_capture as capture_module

    result = capture_module.capture(stack, overrides)
    Path(out).write_text(json.dumps(result, sort_keys=True))


def run_capture(tmp: Path, stack: str, at: str, overrides: dict[str, Any] | None) -> Capture:
    """One program build in its own process (the Pulumi runtime is process-global). On POSIX the process is
    forked from the test process, which never configures the runtime itself; elsewhere a fresh interpreter
    runs program_capture.py."""
    out = tmp / "capture.json"
    if "fork" in multiprocessing.get_all_start_methods():
        child = multiprocessing.get_context("fork").Process(
            target=_capture_in_child, args=(stack, at, overrides, str(out))
        )
        child.start()
        child.join(timeout=120)
        assert child.exitcode == 0, f"capture of {stack} crashed (exit code {child.exitcode})"
    else:  # pragma: no cover - non-POSIX
        cmd = [sys.executable, str(HERE / "program_capture.py"), stack, str(out)]
        if overrides is not None:
            override_file = tmp / "overrides.json"
            override_file.write_text(json.dumps(overrides))
            cmd.append(str(override_file))
        env = {**os.environ, "SOVEREIGN_AT": at}
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert proc.returncode == 0, f"capture of {stack} crashed:\n{proc.stdout}\n{proc.stderr}"
    data = json.loads(out.read_text())
    return Capture(stack, data["error"], data["registrations"], data["outputs"], data["logs"])


def stack_config_values(stack: str) -> dict[str, Any]:
    """The ``config:`` mapping of an example stack, for tests that derive overrides from it."""
    import yaml

    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    return dict(data["config"])
