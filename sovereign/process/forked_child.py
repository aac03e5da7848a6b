"""A forked copy of this process that computes one answer while this process goes on: the idle core's helper.

Why a fork, not a new interpreter: the copy starts in a few milliseconds with everything this process has imported
and prepared (modules, the catalog), where a new interpreter would spend 0.1-0.3 s of the very time it is meant to
save importing them again. Used by ``sovereign check`` (check/manifest_parse_helper.py: parsing manifests;
check/policy_run.py: the stack rules).

Only where forking is safe (:func:`can_fork`): Linux, and a process running no other thread, Python's or a
library's (a lock another thread held at the fork would stay held in the child forever). The child runs ``work``,
writes ``(ANSWER, value)`` (marshalled, or pickled where marshal cannot) to a pipe and leaves with ``os._exit``
(it flushes, finalises and runs nothing of this process's). A child that raises, dies, exits non-zero, answers
something unreadable or takes longer than the timeout gives no answer (None): callers then do the work
themselves, so a helper only ever saves time.
"""

from __future__ import annotations

import contextlib
import gc
import marshal
import os
import pickle
import select
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from sovereign.process.gc_tuning import cycle_collection_paused

ANSWER = "answer"


def can_fork() -> bool:
    """Forking is safe here: Linux, and no other thread in this process, Python's or a library's (gRPC channels
    run threads of their own: ``/proc/self/task`` lists every thread of the process)."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork") or threading.active_count() != 1:
        return False
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


class ForkedChild:
    """One forked child computing one answer; always :meth:`stop` it (``answer`` does)."""

    def __init__(self, pid: int, answer_fd: int) -> None:
        self._pid = pid
        self._answer_fd = answer_fd
        self._status: int | None = None

    @classmethod
    def start(cls, work: Callable[[], Any]) -> ForkedChild | None:
        """Fork a child that answers ``work()``; None where forking is not safe or fails."""
        if not can_fork():
            return None
        parent = os.getpid()
        for stream in (sys.stdout, sys.stderr):  # what this process has buffered must not be written twice
            with contextlib.suppress(Exception):
                stream.flush()
        read_fd, write_fd = os.pipe()
        # Objects alive now go to the collector's permanent generation for the fork: the child's collections then
        # never walk (and so never copy) the pages it shares with this process.
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
                _write_all(write_fd, _encode((ANSWER, work())))
                status = 0
            except BaseException:  # noqa: BLE001, S110 - any failure: no answer, the parent does the work
                pass
            finally:
                os._exit(status)
        os.close(write_fd)
        return cls(pid, read_fd)

    def answer(self, timeout_s: float) -> tuple[bool, Any]:
        """``(True, value)`` once the child has answered and exited 0, else ``(False, None)``: it failed in any
        way or gave no complete answer within ``timeout_s`` (then it is ended). The child is stopped either way."""
        if self._answer_fd < 0:  # stopped before: whatever it had to say is gone
            return False, None
        try:
            raw = _read_all(self._answer_fd, time.monotonic() + timeout_s)
            if raw is None:
                return False, None
            self._reap()  # the child closed the pipe on its way out: its exit status decides whether the answer counts
            if self._status != 0:
                return False, None
            try:
                kind, value = _decode(raw)
            except Exception:  # noqa: BLE001 - any malformed answer means: no answer
                return False, None
            return (True, value) if kind == ANSWER else (False, None)
        finally:
            self.stop()

    def stop(self) -> None:
        """End the child if it still runs, reap it and release the pipe (idempotent)."""
        if self._status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._reap()
        if self._answer_fd >= 0:  # once: the number may belong to another file after the close
            os.close(self._answer_fd)
            self._answer_fd = -1

    def _reap(self) -> None:
        if self._status is not None:
            return
        try:
            _, status = os.waitpid(self._pid, 0)
        except ChildProcessError:  # reaped by someone else: its status is unknown, so nothing it said counts
            self._status = -1
            return
        self._status = os.waitstatus_to_exitcode(status)


def _encode(answer: Any) -> bytes:
    """``marshal`` where the answer is made of Python's core types only (parsed manifests: 3x faster to write and
    read than ``pickle``, which the parent waits for), else ``pickle``; the first byte says which."""
    try:
        return b"M" + marshal.dumps(answer)
    except ValueError:  # an object marshal does not know (a YAML date, a dataclass)
        return b"P" + pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)


def _decode(raw: bytes) -> Any:
    """The answer. The cycle collector is paused meanwhile: reading creates a million-odd containers in one go,
    none part of a cycle, and by then the parent's heap is large (the pack's libraries), so each collection that
    the allocations would trigger scans much for nothing (measured: 0.04 s instead of 0.013 s for 1,100 objects)."""
    with cycle_collection_paused():
        if raw[:1] == b"M":
            return marshal.loads(raw[1:])  # noqa: S302 - written by our own child process, same interpreter
        if raw[:1] == b"P":
            return pickle.loads(raw[1:])  # noqa: S301 - written by our own child process
        raise ValueError("an answer in no known encoding")


def _read_all(fd: int, deadline: float) -> bytes | None:
    """Everything written to ``fd`` until the writer closes it, or None when ``deadline`` passes first."""
    chunks: list[bytes] = []
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            return None
        try:
            chunk = os.read(fd, 1 << 20)
        except OSError:
            return None
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.close(fd)
