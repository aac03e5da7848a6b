"""Parse most files of a large manifest directory in a second process while this one gets the pack ready.

Why: ``sovereign check --manifests DIR`` checks one cluster, in one process: PyYAML takes about 0.5 s per
1,000 objects, and the imports and catalog the policy pack needs about 0.45 s, one after the other. When a core
is idle (``sovereign.render.runner.usable_cores``), :meth:`ManifestLoad.start` hands the later files to a helper
process, the caller imports and loads what the pack needs meanwhile, then :meth:`ManifestLoad.documents` parses
the first files itself and appends the helper's.

Same result either way: the helper runs ``load_manifest_files`` (the sequential code) on its share and the
documents keep file order. Errors stay the sequential ones: a problem in this process's share is raised first,
as the sequential load would; if the helper's share has a problem, or the helper fails in any way (dies, answers
nonsense), this process parses that share itself, so the error raised (or the documents returned) are exactly
what the sequential load gives. The helper only ever saves time. ``tests/report/test_manifest_parse_helper.py``
compares both paths.

Protocol: stdin carries a JSON list of file paths; stdout one pickle: ``("documents", [...])`` or
``("failed", None)``.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sovereign.errors import InputError
from sovereign.report.manifest_input import Document, load_manifest_files, manifest_files

MIN_HELPER_FILES = 64
"""Below this a helper's start-up (about 0.1 s) costs more than the parsing it takes over."""

OWN_SHARE = 0.15
"""Files this process parses itself, after its own preparation: with the pack's imports and the catalog taking
about as long as the helper's start plus 85 % of the parsing, both finish together (measured on 1,251 objects)."""


class ManifestLoad:
    """The objects of a manifest file or directory, being read (in part by a helper process)."""

    def __init__(self, files: Sequence[Path], own: int, helper: subprocess.Popen[bytes] | None,
                 sender: threading.Thread | None, problem: InputError | None = None) -> None:
        self._files = list(files)
        self._own = own
        self._helper = helper
        self._sender = sender
        self._problem = problem

    @classmethod
    def start(cls, path: Path, *, helper: bool) -> ManifestLoad:
        """List the files, and with ``helper`` (a core is idle) start parsing the later ones in a second process.

        A listing problem (no such path, no manifests) is raised by :meth:`documents`, where the sequential
        load would raise it, not here.
        """
        try:
            files = manifest_files(path)
        except InputError as exc:
            return cls([], 0, None, None, exc)
        if not helper or len(files) < MIN_HELPER_FILES:
            return cls(files, len(files), None, None)
        own = max(1, int(len(files) * OWN_SHARE))
        try:
            process = subprocess.Popen(  # noqa: S603 - this interpreter, a module of this package
                [sys.executable, "-m", __name__],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError:
            return cls(files, len(files), None, None)
        payload = json.dumps([str(f) for f in files[own:]]).encode("utf-8")
        # From a thread: the list can exceed a pipe's buffer, and the helper reads it only once it has started.
        sender = threading.Thread(target=_send, args=(process, payload), daemon=True)
        sender.start()
        return cls(files, own, process, sender)

    def __enter__(self) -> ManifestLoad:
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Never leave a helper behind (e.g. when the caller fails before asking for the documents)."""
        self._stop_helper()

    def documents(self) -> list[Document]:
        """Every object, in file order (``List`` kinds expanded); the first bad file raises ``InputError``."""
        if self._problem is not None:
            raise self._problem
        try:
            own = load_manifest_files(self._files[: self._own])
        except BaseException:
            self._stop_helper()
            raise
        theirs = self._helper_documents() if self._helper is not None else None
        if theirs is None:  # no helper, a problem in its share, or a failed helper: parse the share here
            theirs = load_manifest_files(self._files[self._own :])
        return own + theirs

    def _helper_documents(self) -> list[Document] | None:
        helper = self._helper
        assert helper is not None and helper.stdout is not None
        try:
            raw = helper.stdout.read()
            status = helper.wait()
        finally:
            self._stop_helper()
        if status != 0:
            return None
        try:
            kind, documents = pickle.loads(raw)  # noqa: S301 - written by our own child process
        except Exception:  # noqa: BLE001 - any malformed answer means: parse the share here
            return None
        if kind != "documents" or not isinstance(documents, list):
            return None
        return documents

    def _stop_helper(self) -> None:
        helper, sender, self._helper, self._sender = self._helper, self._sender, None, None
        if helper is None:
            return
        if helper.poll() is None:
            helper.kill()
            helper.wait()
        if sender is not None:
            sender.join()
        for stream in (helper.stdin, helper.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()


def _send(process: subprocess.Popen[bytes], payload: bytes) -> None:
    assert process.stdin is not None
    try:
        process.stdin.write(payload)
        process.stdin.close()
    except OSError:  # the helper is gone: its answer (none) says so
        pass


def serve(files: Sequence[str]) -> tuple[str, Any]:
    """The helper's answer for ``files``: their documents, or ``failed`` (the caller parses them to find out why)."""
    try:
        return "documents", load_manifest_files([Path(f) for f in files])
    except InputError:
        return "failed", None


def main() -> int:
    files = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    sys.stdout.buffer.write(pickle.dumps(serve(files), protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    from sovereign.process_exit import exit_now

    exit_now(main())
