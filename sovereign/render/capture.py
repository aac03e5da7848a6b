"""Run the Pulumi program under the mock runtime exactly as the language host's exec shim runs it.

The shim (sdk/python/cmd/pulumi-language-python-exec, docs/pulumi-runtime.md §1): ``set_all_config`` ->
``configure(Settings(..., root_directory))`` -> chdir to the program dir -> ``runpy.run_path(entry,
run_name="__main__")`` inside ``run_in_stack``. The runtime is process-global, so this must run once per
process: ``sovereign.render.worker`` is that process.

``sys.path[0]`` under the CLI is the CLI's bin dir, not the project root; ``emulate_shim_sys_path`` does
the same (with the interpreter's bin dir) so an import that only works from the root fails here as it does
under ``pulumi``.

One SDK internal is swapped for an equivalent: the per-resource stack trace is built by
``stack_trace.same_stack_trace`` (the identical message, without reading source files; a fifth of the mock
runtime's time otherwise).
"""

from __future__ import annotations

import asyncio
import os
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi.runtime
from pulumi.runtime.settings import Settings, configure

from sovereign.core.ambient_cluster import NO_AMBIENT_CLUSTER
from sovereign.render.project import Project
from sovereign.render.recorder import LogEntry, RecordingEngine, RecordingMonitor, Registration, RenderMocks
from sovereign.render.stack_trace import install as install_same_stack_trace
from sovereign.stackconfig.stack_file import StackFileConfig

ORGANIZATION = "organization"
"""What the local backend reports as organization."""


@dataclass
class Capture:
    registrations: list[Registration]
    invokes: list[str]
    logs: list[LogEntry]
    """The program's ``pulumi.log`` messages, sorted (arrival order depends on threads)."""
    outputs: dict[str, dict[str, Any]]
    """URN -> registered outputs; the root Stack's are the program's exports."""


def emulate_shim_sys_path() -> None:
    """Replace the launcher's entry (``-m`` puts the cwd first) with a bin dir, as the exec shim has it."""
    sys.path[0] = os.path.dirname(sys.executable)


def _run_entry(entry: str) -> None:
    runpy.run_path(entry, run_name="__main__")


def run_program(
    project: Project,
    stack: str,
    config: StackFileConfig,
    on_record: Callable[[Registration], None] | None = None,
) -> Capture:
    """Run the program once in this process and return what it registered (``on_record`` is told of each
    registration as it happens)."""
    mocks = RenderMocks()
    engine = RecordingEngine()
    monitor = RecordingMonitor(
        mocks,
        stack=stack,
        project=project.name,
        config=dict(config.values),
        secret_keys=set(config.secret_keys),
        on_record=on_record,
    )
    pulumi.runtime.set_all_config(dict(config.values), sorted(config.secret_keys))
    settings = Settings(
        project=project.name,
        stack=stack,
        monitor=monitor,
        engine=engine,
        parallel=4,
        dry_run=True,  # a preview: values the provider would compute stay unknown
        organization=ORGANIZATION,
        root_directory=str(project.root),
    )
    configure(settings)
    install_same_stack_trace()
    sys.argv = [project.entry]
    # As docs/program.md tells users to run a render: the provider finds no ambient cluster, and its recorded
    # inputs do not depend on the caller's KUBECONFIG (sovereign/core/ambient_cluster.py).
    os.environ.update(NO_AMBIENT_CLUSTER)
    os.chdir(project.pwd)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: _run_entry(project.entry)))
    finally:
        loop.close()
    return Capture(
        registrations=list(monitor.registrations),
        invokes=sorted(set(mocks.calls)),
        logs=sorted(engine.entries),
        outputs=dict(monitor.outputs),
    )
