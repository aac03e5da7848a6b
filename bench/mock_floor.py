"""The floor for rendering: a tiny program that only registers N ConfigMaps under the SDK's mock runtime.

Nothing can render a resource faster than the Pulumi runtime registers it, so ``sovereign render``'s time per
resource is reported against this. Run in its own process (the runtime is process-global), like a render
worker: ``python bench/mock_floor.py N`` prints one JSON line with the interpreter+import time, the
registration time and the process total.

``--kind deployment --parented`` registers Deployments under one component instead: the same SDK work the
program's resources cause (pulumi_kubernetes gives Deployments, NetworkPolicies, ... type aliases, which the SDK
resolves per resource), so the gap between the two floors is the SDK's, not the renderer's.

``--replay OUT/STACK/preview.json`` registers exactly what a render registered (same types, names, inputs,
parents, explicit provider and dependencies, in the same order) and nothing else: the SDK's own cost of that
stack's resources, so ``render / replay`` is the renderer's overhead proper (planning, validation, writing).
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pulumi  # noqa: E402
import pulumi_kubernetes as k8s  # noqa: E402
from pulumi.runtime.stack import run_pulumi_func  # noqa: E402

IMPORTED = time.perf_counter()


class EchoMocks(pulumi.runtime.Mocks):
    """Outputs = inputs, as a k8s create echoes its checked inputs in preview (docs/pulumi-runtime.md §5.4)."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None


def register(count: int, kind: str, parented: bool) -> None:
    parent = pulumi.ComponentResource("bench:index:Group", "group") if parented else None
    opts = pulumi.ResourceOptions(parent=parent) if parent is not None else None
    labels = {"app": "floor"}
    for i in range(count):
        meta: Any = {"name": f"{kind}-{i}", "namespace": "bench", "labels": labels}
        if kind == "configmap":
            k8s.core.v1.ConfigMap(f"cm-{i}", metadata=meta, data={"key": f"value-{i}"}, opts=opts)
        else:
            template: Any = {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "r/app:1"}]},
            }
            k8s.apps.v1.Deployment(
                f"deploy-{i}",
                metadata=meta,
                spec={"selector": {"matchLabels": labels}, "template": template},
                opts=opts,
            )


STACK_TYPE = "pulumi:pulumi:Stack"


def replay_steps(preview: Path) -> list[dict[str, Any]]:
    """The registered resources of a render's preview.json, the root stack left out (the runtime makes its own)."""
    steps = json.loads(preview.read_text(encoding="utf-8"))["steps"]
    return [step["newState"] for step in steps if step["newState"]["type"] != STACK_TYPE]


def replay(states: list[dict[str, Any]]) -> None:
    made: dict[str, pulumi.Resource] = {}
    for state in states:
        kind, urn = state["type"], state["urn"]
        name = urn.rsplit("::", 1)[1]
        provider_ref = state.get("provider", "")
        provider = made.get(provider_ref.rsplit("::", 1)[0]) if provider_ref else None
        dependencies = [made[d] for d in state.get("dependencies", []) if d in made]
        opts = pulumi.ResourceOptions(
            parent=made.get(state.get("parent", "")),
            depends_on=dependencies or None,
            provider=provider if isinstance(provider, pulumi.ProviderResource) else None,
        )
        inputs = state.get("inputs") or {}
        if kind.startswith("pulumi:providers:"):
            made[urn] = pulumi.ProviderResource(kind.split(":")[2], name, inputs, opts)
        elif state.get("custom"):
            made[urn] = pulumi.CustomResource(kind, name, inputs, opts)
        else:
            made[urn] = pulumi.ComponentResource(kind, name, None, opts)


def main(count: int, kind: str = "configmap", parented: bool = False,
         states: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    pulumi.runtime.set_mocks(EchoMocks(), project="bench", stack="floor", preview=True)
    begin = time.perf_counter()
    if states is not None:
        count, kind = len(states) + 1, "replay"  # + the root stack, as the render counts it
        loop.run_until_complete(run_pulumi_func(lambda: replay(states)))
    else:
        loop.run_until_complete(run_pulumi_func(lambda: register(count, kind, parented)))
    end = time.perf_counter()
    return {
        "resources": count,
        "kind": kind,
        "parented": parented,
        "import_s": round(IMPORTED - STARTED, 4),
        "register_s": round(end - begin, 4),
        "process_s": round(end - STARTED, 4),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="bench/mock_floor.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("count", type=int, nargs="?", help="resources to register (not with --replay)")
    parser.add_argument("--kind", choices=("configmap", "deployment"), default="configmap")
    parser.add_argument("--parented", action="store_true", help="under one ComponentResource")
    parser.add_argument("--replay", type=Path, metavar="PREVIEW_JSON", help="register what this render registered")
    args = parser.parse_args()
    if (args.count is None) == (args.replay is None):
        parser.error("give either COUNT or --replay PREVIEW_JSON")
    replayed = replay_steps(args.replay) if args.replay else None
    print(json.dumps(main(args.count or 0, args.kind, args.parented, replayed)))
