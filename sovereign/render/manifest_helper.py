"""Validate and write a render's manifests in a second process while the program is still running.

Why: a render is one Python process, and the Pulumi SDK's registration keeps it busy for most of its time;
schema validation and YAML writing (a fifth of a render) need only each object, which is known the moment it
is registered. When a core is free (``sovereign.render.runner`` decides), the worker starts this helper, hands
it every Kubernetes object as it is recorded, and after the program has finished encodes ``preview.json``'s
steps while the helper catches up, then asks for the outcome (the schema problems, which the preview lists).

The helper runs the very code the worker runs otherwise (``ManifestCollector``, ``validate_object``,
``ManifestWriter``), so a render is byte-identical either way (tests/cli/test_manifest_helper.py). It fails
closed: a helper that dies, or does not answer, fails the render.

Protocol: stdin carries one pickle per ``Registration`` of a manifest and a final ``None``; stdout carries one
JSON document: ``{"manifests": [[path, urn], ...], "problems": {path: [[where, message], ...]}}``,
``{"nameError": message}`` or ``{"failure": message}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import pickle
import queue
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sovereign.render.manifests import ManifestCollector, ManifestNameError, is_manifest
from sovereign.render.output import ManifestWriter
from sovereign.render.registration import Registration
from sovereign.render.schemas import SchemaProblem

HELPER_TIMEOUT_S = 120
"""How long the worker waits for the outcome once the program has finished."""


@dataclass(frozen=True)
class CheckedManifest:
    """A written manifest and its schema problems (what the worker reports as diagnostics)."""

    relative_path: str
    urn: str
    problems: tuple[SchemaProblem, ...]


class ManifestHelperFailed(RuntimeError):
    """The helper died or answered nonsense: the manifests are not known to be valid, so the render fails."""


# ----------------------------------------------------------------------------------------------- helper side


def serve(source: IO[bytes], stack_dir: Path, kubernetes_version: str) -> dict[str, Any]:
    """Collect, validate and write every registration read from ``source`` until ``None``; the outcome."""
    from sovereign.render.schemas import validate_object  # here: the worker side never validates

    collector = ManifestCollector()
    writer = ManifestWriter(stack_dir)
    problems: dict[str, list[list[str]]] = {}
    name_error: str | None = None
    while isinstance(item := pickle.load(source), Registration):  # noqa: S301 - our worker, a private pipe
        if name_error is not None:
            continue  # the render fails anyway; read on so the worker never blocks on a full pipe
        try:
            manifest = collector.add(item)
        except ManifestNameError as exc:
            name_error = str(exc)
            continue
        if manifest is None:
            continue
        found = validate_object(manifest.plain, kubernetes_version)
        if found:
            problems[manifest.relative_path] = [[p.path, p.message] for p in found]
        writer.write(manifest)
    if item is not None:
        return {"failure": f"expected a registration or the end, got {type(item).__name__}"}
    if name_error is not None:
        return {"nameError": name_error}
    return {"manifests": [[m.relative_path, m.urn] for m in collector.manifests()], "problems": problems}


def main(argv: list[str] | None = None) -> int:
    from sovereign.process.gc_tuning import tune_for_batch

    tune_for_batch()
    parser = argparse.ArgumentParser(prog="sovereign.render.manifest_helper")
    parser.add_argument("--out", required=True, type=Path, help="the stack's render directory")
    parser.add_argument("--kubernetes-version", required=True)
    args = parser.parse_args(argv)
    outcome = serve(sys.stdin.buffer, args.out, args.kubernetes_version)
    sys.stdout.write(json.dumps(outcome, sort_keys=True))
    return 0


# ----------------------------------------------------------------------------------------------- worker side


class ManifestHelper:
    """The worker's end: ``send`` each recorded registration, then ``finish`` for the outcome.

    ``send`` only queues: a thread of its own pickles and writes, so the recorder (called by the SDK under a
    lock) never waits for the pipe when the helper is busy; that stalled the whole program."""

    def __init__(self, stack_dir: Path, kubernetes_version: str) -> None:
        self._proc = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            [
                sys.executable,
                "-m",
                "sovereign.render.manifest_helper",
                "--out",
                str(stack_dir.resolve()),
                "--kubernetes-version",
                kubernetes_version,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._broken: str | None = None
        self._queue: queue.SimpleQueue[Registration | None] = queue.SimpleQueue()
        self._sender = threading.Thread(target=self._pump, name="manifest-helper-sender", daemon=True)
        self._sender.start()

    def send(self, reg: Registration) -> None:
        """Hand over one registration if it is a manifest (called by the recorder, under its lock, in
        recording order)."""
        if is_manifest(reg):
            self._queue.put(reg)

    def _pump(self) -> None:
        while (reg := self._queue.get()) is not None:
            if self._broken is not None:
                continue
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(pickle.dumps(reg, protocol=pickle.HIGHEST_PROTOCOL))
            except (OSError, ValueError) as exc:  # the helper has gone: finish() reports it
                self._broken = f"sending to it failed ({exc})"

    def _stop_sending(self) -> None:
        if self._sender.is_alive():
            self._queue.put(None)
            self._sender.join()

    def finish(self) -> list[CheckedManifest]:
        """Every manifest, sorted by file name, with its problems; ``ManifestNameError`` as ``collect`` raises
        it; ``ManifestHelperFailed`` if the helper did not do its job."""
        self._stop_sending()
        try:
            stdout, _ = self._proc.communicate(
                None if self._broken else pickle.dumps(None, protocol=pickle.HIGHEST_PROTOCOL),
                timeout=HELPER_TIMEOUT_S,
            )
        except (OSError, ValueError) as exc:
            self._broken = self._broken or f"finishing failed ({exc})"
            stdout = b""
        except subprocess.TimeoutExpired:
            self.close()
            raise ManifestHelperFailed(f"the manifest helper did not answer within {HELPER_TIMEOUT_S} s") from None
        if self._broken is not None or self._proc.returncode != 0:
            raise ManifestHelperFailed(
                f"the manifest helper failed (exit status {self._proc.returncode}; {self._broken or 'see stderr'})"
            )
        try:
            outcome = json.loads(stdout)
            name_error = outcome.get("nameError")
            failure = outcome.get("failure")
            problems = outcome.get("problems", {})
            checked = (
                []
                if name_error is not None or failure is not None
                else [
                    CheckedManifest(
                        relative_path=path,
                        urn=urn,
                        problems=tuple(SchemaProblem(where, message) for where, message in problems.get(path, [])),
                    )
                    for path, urn in outcome["manifests"]
                ]
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestHelperFailed(f"the manifest helper answered nonsense ({exc!r})") from None
        if name_error is not None:
            raise ManifestNameError(str(name_error))
        if failure is not None:
            raise ManifestHelperFailed(f"the manifest helper failed: {failure}")
        return checked

    def close(self) -> None:
        """Stop the helper if it still runs (the program failed, or the outcome was never asked for)."""
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._stop_sending()  # its writes fail fast now that the helper is gone
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()


if __name__ == "__main__":
    # Run the module's importable copy, so the classes it checks are the ones pickles name.
    from sovereign.process.exiting import exit_now
    from sovereign.render import manifest_helper

    exit_now(manifest_helper.main())
