"""Serve a check's ``AnalyzeStack`` from a second pack process while this one sends every resource's RPCs.

Why: a check is one preview's RPCs to one pack (``policy_run.run_pack``): ``Remediate`` + ``Analyze`` per
resource, then one ``AnalyzeStack``, where the stack rules and the connectivity proof run (about 40 % of the pack's
time). When a core is idle (one stack on two cores), a helper process starts a second instance of the same pack
the same way (``policy_run.prepared_pack``: the language host's environment, ``ConfigureStack``,
``GetAnalyzerInfo``, ``Configure``) and answers ``AnalyzeStack`` for the same resources, while this process sends
the per-resource RPCs to its own instance.

Why the answer is the same: the residency pack keeps no state from one RPC to the next (exceptions of advisory
rules are reported by a companion policy in the RPC that raised them, policies/framework/guard.py; its caches are
functions of the config), so its ``AnalyzeStack`` answer depends only on the request and the configuration, both
identical here. ``serves_rpcs_independently`` allows this only for the pack this project ships, whose tests
check it (tests/policies/test_rpc_independence.py); another pack may keep state across RPCs (the CLI gives it
every RPC in one process), so it gets every RPC in one process here too.

The helper only ever saves time: if it fails in any way (dies, answers nonsense, the pack fails to start), the
caller asks its own pack, which gives the answer or the error the sequential run gives.

Protocol: the helper imports the pack's libraries as soon as it starts, then reads one pickled ``StackJob`` from
stdin and writes one pickle to stdout: ``("diagnostics", [Diagnostic, ...])`` or ``("failed", message)``.
"""

from __future__ import annotations

import contextlib
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import AnalyzerResource

HELPER_TIMEOUT_S = 600
"""How long the caller waits for the answer once its own RPCs are done (a stack of 5,000 objects takes ~3 s)."""


HELPER_ANALYZE_SHARE = 0.12
"""The share of the resources whose ``Remediate`` + ``Analyze`` the helper answers besides ``AnalyzeStack``, so
that both processes finish together (measured at 1,251 objects: per-resource RPCs ~0.8 ms each, AnalyzeStack
~0.55 ms per resource)."""


@dataclass(frozen=True)
class StackJob:
    """The tail of a preview: the pack, how the CLI would start it, the resources to analyse one by one, and the
    whole stack for ``AnalyzeStack``."""

    pack_dir: Path
    config: Mapping[str, Any]
    stack: str
    project: str
    env: Mapping[str, str]
    at: str | None
    analyze: Sequence[AnalyzerResource]
    resources: Sequence[AnalyzerResource]


def helper_share(resources: int) -> int:
    """How many of the last resources the helper analyses one by one."""
    return int(resources * HELPER_ANALYZE_SHARE)


def serves_rpcs_independently(pack_dir: Path) -> bool:
    """Whether ``pack_dir`` is the pack this project ships (``policies/``), the one whose answers are known not to
    depend on earlier RPCs."""
    import policies

    return pack_dir.resolve() == Path(policies.__file__).resolve().parent


@contextlib.contextmanager
def stack_helper_for(
    pack_dir: Path, wanted: bool, started: StackAnalysisHelper | None
) -> Iterator[StackAnalysisHelper | None]:
    """The helper a pack run may use: ``started`` (the caller's, which the caller stops), else a new one when
    ``wanted`` (stopped on exit); none unless the pack answers each RPC independently."""
    if not serves_rpcs_independently(pack_dir) or not (wanted or started is not None):
        yield None
        return
    if started is not None:
        yield started
        return
    helper = StackAnalysisHelper.start()
    try:
        yield helper
    finally:
        helper.stop()


class StackAnalysisHelper:
    """A helper process that answers the tail of one preview."""

    def __init__(self, process: subprocess.Popen[bytes] | None) -> None:
        self._process = process
        self._sender: threading.Thread | None = None
        self._reader: threading.Thread | None = None
        self._answer: list[bytes] = []

    @classmethod
    def start(cls) -> StackAnalysisHelper:
        """Start the helper now, so that it imports the pack's libraries while the caller gets its job ready."""
        try:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, a module of this package
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            process = None
        return cls(process)

    def submit(self, job: StackJob) -> None:
        """Hand over the job (from a thread: it can exceed a pipe's buffer while the helper is still importing)."""
        if self._process is None:
            return
        payload = pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL)
        self._sender = threading.Thread(target=_send, args=(self._process, payload), daemon=True)
        self._reader = threading.Thread(target=_read, args=(self._process, self._answer), daemon=True)
        self._sender.start()
        self._reader.start()

    def diagnostics(self) -> list[Diagnostic] | None:
        """The helper's diagnostics (its resources' in order, then the stack's), or None if it has none to give
        (then ask the pack)."""
        process, reader = self._process, self._reader
        if process is None or reader is None:
            return None
        reader.join(HELPER_TIMEOUT_S)
        if reader.is_alive():
            return None
        try:
            status = process.wait(timeout=HELPER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None
        if status != 0 or not self._answer:
            return None
        try:
            kind, value = pickle.loads(self._answer[0])  # noqa: S301 - written by our own child process
        except Exception:  # noqa: BLE001 - any malformed answer means: ask the pack
            return None
        if kind != "diagnostics" or not isinstance(value, list) or not all(isinstance(d, Diagnostic) for d in value):
            return None
        return value

    def stop(self) -> None:
        """Kill the helper if it still runs and release its pipes and threads (always call it)."""
        process, threads = self._process, (self._sender, self._reader)
        self._process = self._sender = self._reader = None
        if process is None:
            return
        if process.poll() is None:
            process.kill()
        process.wait()
        for thread in threads:
            if thread is not None:
                thread.join()
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                stream.close()


def _send(process: subprocess.Popen[bytes], payload: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except OSError:  # the helper is gone: its answer (none) says so
        pass


def _read(process: subprocess.Popen[bytes], answer: list[bytes]) -> None:
    assert process.stdout is not None
    with contextlib.suppress(OSError):  # a broken pipe: no answer
        answer.append(process.stdout.read())


def serve(job: StackJob) -> tuple[str, Any]:
    """Start the pack as ``run_pack`` does and answer ``AnalyzeStack``; any failure is reported, not raised."""
    from sovereign.report.policy_run import prepared_pack

    try:
        with prepared_pack("in-process", job.pack_dir, config=job.config, stack=job.stack, project=job.project,
                           env=job.env, at=job.at) as (pack, _info):
            diagnostics: list[Diagnostic] = []
            for resource in job.analyze:
                diagnostics.extend(pack.analyze(resource))
            return "diagnostics", diagnostics + pack.analyze_stack(job.resources)
    except Exception as exc:  # noqa: BLE001 - the caller repeats the RPC on its own pack and reports from there
        return "failed", f"{type(exc).__name__}: {exc}"


def _warm_up() -> None:
    """What the pack will need, done while the caller prepares the job: its libraries, its rules and the
    shipped catalog (a job with ``--catalog`` makes the pack load that one instead; nothing here is reported)."""
    import sovereign.connectivity  # noqa: F401 - the proof's engine, used by the stack rules
    import sovereign.report.policy_run  # noqa: F401 - pulumi_policy, the Pulumi SDK, the in-process host
    from policies.pack import load_rules
    from sovereign.catalog import default_catalog
    from sovereign.errors import InputError

    load_rules()
    with contextlib.suppress(InputError):
        default_catalog()


def main() -> int:
    _warm_up()
    job = pickle.loads(sys.stdin.buffer.read())  # noqa: S301 - written by our own parent process
    sys.stdout.buffer.write(pickle.dumps(serve(job), protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    from sovereign.gc_tuning import tune_for_batch
    from sovereign.process_exit import exit_now

    tune_for_batch()
    exit_now(main())
