"""The floor for rendering: a tiny program that only registers N ConfigMaps under the SDK's mock runtime.

Nothing can render a resource faster than the Pulumi runtime registers it, so ``sovereign render``'s time per
resource is reported against this. Run in its own process (the runtime is process-global), like a render
worker: ``python bench/mock_floor.py N`` prints one JSON line with the interpreter+import time, the
registration time and the process total.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import asyncio  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import pulumi  # noqa: E402
import pulumi_kubernetes as k8s  # noqa: E402
from pulumi.runtime.stack import run_pulumi_func  # noqa: E402

IMPORTED = time.perf_counter()


class EchoMocks(pulumi.runtime.Mocks):
    """Outputs = inputs, as a k8s create echoes its checked inputs in preview (pulumi-runtime.md §5.4)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


def register(count: int) -> None:
    for i in range(count):
        k8s.core.v1.ConfigMap(
            f"cm-{i}",
            metadata={"name": f"cm-{i}", "namespace": "bench", "labels": {"app": "floor"}},
            data={"key": f"value-{i}"},
        )


def main(count: int) -> dict[str, float]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(EchoMocks(), project="bench", stack="floor", preview=True)
    begin = time.perf_counter()
    loop.run_until_complete(run_pulumi_func(lambda: register(count)))
    end = time.perf_counter()
    return {
        "resources": count,
        "import_s": round(IMPORTED - STARTED, 4),
        "register_s": round(end - begin, 4),
        "process_s": round(end - STARTED, 4),
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]))))
