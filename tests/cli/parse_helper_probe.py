"""Scenarios of the manifest parse helper, each run in a fresh interpreter by tests/cli/test_manifest_parse_helper.py.

The helper forks only from a process running a single thread, as ``sovereign check`` is when it starts; a pytest
session may hold other threads (gRPC channels of pack processes other tests started), so these run apart:
``python tests/cli/parse_helper_probe.py SCENARIO DIR`` prints ``ok`` and exits 0 when the scenario holds.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from manifest_samples import FILES, write_manifests

import sovereign.check.manifest_parse_helper as parse_helper
import sovereign.process.forked_child as forked_child
from sovereign.check.manifest_parse_helper import ManifestLoad
from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifest_files, load_manifests, manifest_files

PARENT = os.getpid()
parse_helper.MIN_HELPER_FILES = 2  # the sample directories are small
ANSWERED: list[bool] = []
"""Whether the child's documents were used, per load."""

_real_helper_documents = ManifestLoad._helper_documents


def _recorded_helper_documents(load: ManifestLoad) -> Any:
    documents = _real_helper_documents(load)
    ANSWERED.append(documents is not None)
    return documents


ManifestLoad._helper_documents = _recorded_helper_documents  # type: ignore[method-assign, assignment]


def load_with_helper(path: Path) -> Any:
    with ManifestLoad.start(path, helper=True) as load:
        return load.documents()


def outcome(load: Callable[[], Any]) -> Any:
    try:
        return ("documents", load())
    except InputError as exc:
        return ("error", exc.message)


def shares(root: Path) -> None:
    """The child parses its share and this process only the first files; documents in file order."""
    root = write_manifests(root)
    files = manifest_files(root)
    parsed_here: list[list[Path]] = []

    def spy(chunk: Any) -> Any:
        if os.getpid() == PARENT:
            parsed_here.append(list(chunk))
        return load_manifest_files(chunk)

    parse_helper.load_manifest_files = spy  # type: ignore[assignment]
    documents = load_with_helper(root)
    own = parse_helper.own_files(files)
    assert 1 <= own < len(files) - 1, own
    assert parsed_here == [files[:own]], f"this process parsed more than its share: {parsed_here}"
    assert ANSWERED == [True], ANSWERED
    assert documents == load_manifests(root)  # values compare with their types: a YAML date is not its text


DAMAGE: list[str | bytes] = ["duplicate: 1\nduplicate: 2\n", "kind: [unclosed\n", "- just a list\n", b"\xff\xfe"]
BAD_FILES = [(), (0,), (1,), (FILES - 1,), (FILES - 3, FILES - 1), (2, FILES - 2)]


def errors(root: Path) -> None:
    """Whichever files are bad, and however, the outcome is the sequential load's."""
    cases = 0
    for d, damage in enumerate(DAMAGE):
        for b, bad_files in enumerate(BAD_FILES):
            case = write_manifests(root / f"{d}-{b}")
            files = manifest_files(case)
            for index in bad_files:
                if isinstance(damage, bytes):
                    files[index].write_bytes(damage)
                else:
                    files[index].write_text(damage)
            sequential = outcome(lambda case=case: load_manifests(case))  # type: ignore[misc]
            assert sequential[0] == ("error" if bad_files else "documents"), (damage, bad_files)
            assert outcome(lambda case=case: load_with_helper(case)) == sequential, (damage, bad_files)  # type: ignore[misc]
            cases += 1
    assert cases == len(DAMAGE) * len(BAD_FILES)


def fails(root: Path, how: str) -> None:
    """The child fails ``how``: its answer is not used and the documents are the sequential load's."""
    real_serve = parse_helper.serve

    def serve(files: Any) -> Any:
        if how == "raises":
            raise RuntimeError("planted")
        if how == "dies":
            os._exit(3)
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "wrong-type":
            return ("documents", "oops")
        if how == "wrong-kind":
            return ("something", [])
        if how == "hangs":
            time.sleep(60)
        return real_serve(files)

    parse_helper.serve = serve
    if how == "hangs":
        parse_helper.HELPER_TIMEOUT_S = 1.0
    if how == "answers-then-dies":  # a complete answer (of nothing), then a failed exit: not to be trusted
        real_write = forked_child._write_all

        def write_then_die(fd: int, data: bytes) -> None:
            real_write(fd, forked_child._encode((forked_child.ANSWER, ("documents", []))))
            os._exit(3)

        forked_child._write_all = write_then_die
    root = write_manifests(root)
    started = time.monotonic()
    assert load_with_helper(root) == load_manifests(root)
    assert ANSWERED == [False], ANSWERED
    assert time.monotonic() - started < 30


def caller_fails_first(root: Path) -> None:
    """A caller that fails before asking for the documents leaves no child behind."""
    root = write_manifests(root)
    child: Any = None
    try:
        with ManifestLoad.start(root, helper=True) as load:
            child = load._helper
            raise RuntimeError("the caller failed before asking for the documents")
    except RuntimeError:
        pass
    assert child is not None, "no child started"
    try:
        os.waitpid(child._pid, os.WNOHANG)
    except ChildProcessError:
        return  # reaped: gone
    raise AssertionError("the child was not reaped")


def twice(root: Path) -> None:
    """Asking twice gives the same documents."""
    root = write_manifests(root)
    with ManifestLoad.start(root, helper=True) as load:
        first = load.documents()
        assert load.documents() == first == load_manifests(root)


SCENARIOS: dict[str, Callable[..., None]] = {
    "shares": shares, "errors": errors, "fails": fails,
    "caller-fails-first": caller_fails_first, "twice": twice,
}


if __name__ == "__main__":
    name, _, argument = sys.argv[1].partition(":")
    assert forked_child.can_fork(), "the probe must be able to fork"
    SCENARIOS[name](Path(sys.argv[2]), *([argument] if argument else []))
    print("ok")
