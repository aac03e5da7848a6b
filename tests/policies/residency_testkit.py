"""Helpers shared by the residency pack tests (a top-level module: tests/policies is on sys.path under pytest's
default prepend import mode, and has no __init__.py so that it does not shadow the real ``policies`` package)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policies.framework.samples import SAMPLE_STACK_NAME
from sovereign.analyzer.client import PolicyPackProcess
from sovereign.check.policy_run import PackTarget, target_from_manifests
from sovereign.core.clock import AT_ENV
from sovereign.core.manifests import load_manifests
from sovereign.core.paths import project_root

EVALUATION_AT = "2026-11-25T00:00:00Z"
"""Fixed evaluation time, so transfer validity does not depend on the day the tests run."""
PACK_DIR = project_root() / "policies"


class PackPool:
    """Starts one pack process per distinct stack config and reuses it (a start costs ~0.3 s)."""

    def __init__(self) -> None:
        self._packs: dict[str, PolicyPackProcess] = {}

    def get(self, stack_config: Mapping[str, Any], *, stack: str = SAMPLE_STACK_NAME) -> PolicyPackProcess:
        key = json.dumps([stack, stack_config], sort_keys=True, default=str)
        if key not in self._packs:
            self._packs[key] = PolicyPackProcess.start(PACK_DIR, stack_config=stack_config, stack=stack,
                                                       env={AT_ENV: EVALUATION_AT})
        return self._packs[key]

    def close(self) -> None:
        for pack in self._packs.values():
            pack.stop()
        self._packs.clear()


VECTORS = project_root() / "tests" / "redteam" / "vectors"


def vector_targets(directory: Path = VECTORS) -> list[tuple[str, PackTarget]]:
    """Every red-team vector side that is valid input, as the pack target ``check --manifests`` builds for it."""
    targets = []
    for side in sorted(directory.glob("*/*")):
        if not side.is_dir() or not any(side.glob("*.yaml")):
            continue
        try:
            docs = load_manifests(side)
        except Exception:  # noqa: BLE001 - sides that are bad input on purpose are judged by exit status elsewhere
            continue
        jurisdictions = {
            (obj.get("metadata") or {}).get("labels", {}).get("sovereign-clusters.dev/jurisdiction")
            for _, _, obj in docs
            if isinstance(obj, dict) and obj.get("kind") == "Namespace"
        } - {None}
        jurisdiction = sorted(jurisdictions)[0] if jurisdictions else "cn"
        targets.append((f"{side.parent.name}/{side.name}", target_from_manifests("manifests", "p", jurisdiction, docs)))
    return targets


def typed(value: Any) -> Any:
    """A value with every type and every key order made visible (``==`` alone ignores both: 1 == 1.0 == True)."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(v) for v in value])
    return (type(value).__name__, repr(value))
