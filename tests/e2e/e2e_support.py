"""End-to-end helpers: the real CLI as a subprocess, and the real policy pack over gRPC (analyzer client)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sovereign.analyzer.client import PolicyPackProcess
from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import resource_from_manifest

ROOT = Path(__file__).resolve().parents[2]
PACK_DIR = ROOT / "policies"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The engine's 'unknown at preview' sentinel for strings (pulumi_policy/proxy.py)."""
JURISDICTION_ONLY = {"sovereign-clusters:jurisdiction": "cn"}


def command_available(name: str) -> bool:
    return importlib.util.find_spec(f"sovereign.cli.{name}") is not None


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(args: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 600,
            cwd: Path = ROOT) -> Run:
    child = dict(os.environ)
    child.update(env or {})
    proc = subprocess.run(  # noqa: S603 - fixed argv
        [sys.executable, "-m", "sovereign", *args], cwd=cwd, env=child, capture_output=True, text=True,
        timeout=timeout, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def stack_config(stack: str) -> dict[str, Any]:
    """A stack file's ``config:`` as the language host hands it to the pack (no secure values expected)."""
    data = yaml.safe_load((ROOT / "stacks" / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    return dict(data["config"])


@contextmanager
def pack(config: Mapping[str, Any], *, stack: str = "e2e", policy_config: Mapping[str, Any] | None = None,
         env: Mapping[str, str] | None = None) -> Iterator[PolicyPackProcess]:
    """The real pack, started as the CLI starts it, configured as the CLI configures it."""
    with PolicyPackProcess.start(PACK_DIR, stack_config=dict(config), stack=stack, env=env) as process:
        process.configure_stack(stack=stack)
        process.get_analyzer_info()
        process.configure(dict(policy_config or {}))
        yield process


def analyze(process: PolicyPackProcess, manifests: Sequence[Mapping[str, Any]], *, stack: str = "e2e",
            ) -> list[Diagnostic]:
    """Remediate + Analyze per resource, then AnalyzeStack, as a preview does."""
    resources = [resource_from_manifest(m, stack=stack) for m in manifests]
    out: list[Diagnostic] = []
    for r in resources:
        out.extend(process.analyze(r))
    out.extend(process.analyze_stack(resources))
    return out


def describe(diags: Sequence[Diagnostic]) -> str:
    return "\n".join(f"[{d.policy_name}/{d.enforcement_level}] {d.message[:300]}" for d in diags) or "(none)"


def namespace(name: str = "fleet-ingest", jurisdiction: str = "cn") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"sovereign-clusters.dev/jurisdiction": jurisdiction}}}


def default_deny(ns: str = "fleet-ingest") -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": ns},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


def pod_spec(image: str = "registry.automaker.cn/fleet/ingest-gateway:2.4.1", **extra: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": [{"key": "topology.kubernetes.io/region", "operator": "In",
                                   "values": ["cn-north-1", "cn-northwest-1"]}]}]}}},
        "containers": [{"name": "app", "image": image}],
    }
    spec.update(extra)
    return spec


def deployment(spec: Mapping[str, Any] | None = None, *, ns: str = "fleet-ingest", name: str = "ingest-gateway",
               api: str = "apps/v1", kind: str = "Deployment") -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": dict(spec or pod_spec())}}}


def tree_bytes(directory: Path) -> dict[str, bytes]:
    """Every file under ``directory`` (relative path -> bytes)."""
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def load_json(text: str) -> Any:
    return json.loads(text)
