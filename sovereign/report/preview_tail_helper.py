"""Answer the tail of a check's preview in a forked copy of the prepared pack while this process sends the head.

Why: a check is one preview's RPCs to one pack (``policy_run.run_pack``): ``Remediate`` + ``Analyze`` per
resource, then one ``AnalyzeStack``, where the stack rules and the connectivity proof run (about 40 % of the pack's
time). When a core is idle (one stack on two cores), the process forks right after the pack is prepared
(``policy_run.prepared_pack``: the language host's environment, ``ConfigureStack``, ``GetAnalyzerInfo``,
``Configure``): the child, an exact copy of that prepared pack, answers the tail (``Remediate`` + ``Analyze`` of
the last resources, ``HELPER_ANALYZE_SHARE``, then ``AnalyzeStack`` over all of them), while the parent answers the
head. The diagnostics are joined in the order one pack gives them. A fork costs a few milliseconds and nothing is
imported or loaded twice.

Why the answers are the same: the residency pack keeps no state from one RPC to the next (exceptions of advisory
rules are reported by a companion policy in the RPC that raised them, policies/framework/guard.py; its caches are
functions of the config), so each answer depends only on the request and the configuration, both identical in
the copy. ``serves_rpcs_independently`` allows this only for the pack this project ships, whose tests check it
(tests/policies/test_rpc_independence.py); another pack may keep state across RPCs (the CLI gives it every RPC in
one process), so it gets every RPC in one process here too.

Only where forking is safe: on Linux, from a process running no other thread, Python's or a library's (a lock held
by another thread at the fork would stay held in the child forever). The child writes one pickle to a pipe,
``("diagnostics", [...])``, and leaves with ``os._exit`` (it flushes and finalises nothing of the parent's). The
helper only ever saves time: if it fails in any way, the parent sends the tail to its own pack, which gives the
answer, or the error, that a run without it gives.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sovereign.analyzer.model import Diagnostic
from sovereign.analyzer.resource import AnalyzerResource

HELPER_ANALYZE_SHARE = 0.15
"""The share of the resources whose ``Remediate`` + ``Analyze`` the child answers besides ``AnalyzeStack``, so that
both processes finish together (measured at 1,251 objects: per-resource RPCs ~0.65-0.8 ms each; the child's
AnalyzeStack ~0.8 s, since it also encodes and decodes the properties of the resources the parent analyses)."""


HELPER_TIMEOUT_S = 600.0
"""How long the parent waits for the child's answer once its own share is done (a 5,000-object stack's tail takes
about 3 s); past it the child is ended and the parent answers the tail itself."""


def helper_share(resources: int) -> int:
    """How many of the last resources the child analyses one by one."""
    return int(resources * HELPER_ANALYZE_SHARE)


def serves_rpcs_independently(pack_dir: Path) -> bool:
    """Whether ``pack_dir`` is the pack this project ships (``policies/``), the one whose answers are known not to
    depend on earlier RPCs."""
    import policies

    return pack_dir.resolve() == Path(policies.__file__).resolve().parent


def can_fork() -> bool:
    """Forking is safe here: Linux, and no other thread in this process, Python's or a library's (gRPC channels
    run threads of their own: ``/proc/self/task`` lists every thread of the process)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class PreviewTailHelper:
    """A forked child answering the tail of one preview."""

    def __init__(self, pid: int, answer_fd: int) -> None:
        self._pid = pid
        self._answer_fd = answer_fd
        self._answer: list[bytes] = []
        self._reader = threading.Thread(target=_read_all, args=(answer_fd, self._answer), daemon=True)
        self._reader.start()
        self._status: int | None = None

    @classmethod
    def fork(cls, pack: Any, analyze: Sequence[AnalyzerResource], resources: Sequence[AnalyzerResource]
             ) -> PreviewTailHelper | None:
        """Fork a child that sends ``analyze`` one by one and then ``resources`` as the stack to ``pack`` (its copy
        of it); None where forking is not safe or fails (then the caller does it all)."""
        if not can_fork():
            return None
        parent = os.getpid()
        for stream in (sys.stdout, sys.stderr):  # what the parent has buffered must not be written twice
            with contextlib.suppress(Exception):
                stream.flush()
        read_fd, write_fd = os.pipe()
        # Objects alive now go to the collector's permanent generation for the fork: the child's collections then
        # never walk (and so never copy) the pages it shares with the parent.
        gc.freeze()
        try:
            pid = os.fork()
        except OSError:
            os.close(read_fd)
            os.close(write_fd)
            return None
        finally:
            if os.getpid() == parent:
                gc.unfreeze()
        if pid == 0:  # the child: answer, write, leave without running anything of the parent's
            status = 1
            try:
                os.close(read_fd)
                diagnostics = [d for r in analyze for d in pack.analyze(r)] + pack.analyze_stack(resources)
                _write_all(write_fd, pickle.dumps(("diagnostics", diagnostics), protocol=pickle.HIGHEST_PROTOCOL))
                status = 0
            except BaseException:  # noqa: BLE001, S110 - any failure: no answer, the parent does the work
                pass
            finally:
                os._exit(status)
        os.close(write_fd)
        return cls(pid, read_fd)

    def diagnostics(self) -> list[Diagnostic] | None:
        """The child's diagnostics (its resources' in order, then the stack's), or None if it has none to give
        (then ask the pack)."""
        self._reader.join(HELPER_TIMEOUT_S)
        if self._reader.is_alive():  # stuck: end it, the parent does the work
            self.stop()
            return None
        if self._wait() != 0 or not self._answer:
            return None
        try:
            kind, value = pickle.loads(self._answer[0])  # noqa: S301 - written by our own child process
        except Exception:  # noqa: BLE001 - any malformed answer means: ask the pack
            return None
        if kind != "diagnostics" or not isinstance(value, list) or not all(isinstance(d, Diagnostic) for d in value):
            return None
        return value

    def stop(self) -> None:
        """End the child if it still runs and release the pipe (always call it)."""
        if self._status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
        self._wait()
        self._reader.join()
        if self._answer_fd >= 0:  # once: the number may belong to another file after the close
            os.close(self._answer_fd)
            self._answer_fd = -1

    def _wait(self) -> int:
        if self._status is None:
            _, status = os.waitpid(self._pid, 0)
            self._status = os.waitstatus_to_exitcode(status)
        return self._status


def _read_all(fd: int, answer: list[bytes]) -> None:
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
    answer.append(b"".join(chunks))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)
