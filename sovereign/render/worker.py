"""One render in one process: ``python -m sovereign.render.worker --stack S --out DIR --result FILE``.

The Pulumi runtime is process-global (settings, config, root resource), so every stack is rendered in a fresh
interpreter. The worker validates the stack (``load_stack``: bad input -> a structured error, exit 2), runs
the program under the mock runtime, and writes ``preview.json`` and ``manifests/`` into ``DIR`` (a staging
directory the parent renames into place only when every stack succeeded). The outcome goes to ``FILE`` as
JSON, so the program's own prints on stdout/stderr cannot be mistaken for it.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_PROGRAM_FAILED = 3
PROGRAM_PREFIX = "program"
"""``preview.json`` diagnostic prefix of the program's own ``pulumi.log`` messages."""


def _write_result(path: Path, result: dict[str, Any]) -> None:
    path.write_text(json.dumps(result, sort_keys=True), encoding="utf-8")


PROJECT_PACKAGES = ("sovereign", "infra", "policies")
"""Top-level packages of the project; in isolated mode they are re-imported from the project root."""


def use_project_sources(root: Path) -> None:
    """Make ``import sovereign/infra/policies`` resolve under ``root`` (another checkout, e.g. a git worktree
    of the diff base), as if that checkout were the one installed in editable mode. The renderer's own modules
    (``sovereign.render``), already imported, stay as they are: the tool is HEAD's, the program the base's.
    """
    for name in list(sys.modules):
        top = name.split(".", 1)[0]
        if top in PROJECT_PACKAGES and not name.startswith("sovereign.render"):
            del sys.modules[name]
    sys.path.insert(0, str(root))


def _input_errors(exc: BaseException) -> list[dict[str, Any]] | None:
    """Structured errors if ``exc`` (or its cause) is an ``InputError`` of any checkout (matched by shape)."""
    cause: BaseException | None = exc
    while cause is not None:
        if type(cause).__name__ in ("InputError", "InputErrors") and hasattr(cause, "key_path"):
            errors: tuple[Any, ...] = tuple(getattr(cause, "errors", (cause,)))
            return [
                {
                    "file": str(e.file),
                    "keyPath": list(e.key_path),
                    "expected": str(e.expected),
                    "found": str(e.found),
                }
                for e in errors
            ]
        cause = cause.__cause__ or cause.__context__
    return None


def render_into(
    stack: str, out_dir: Path, *, isolate: bool = False, manifest_helper: bool = False
) -> dict[str, Any]:
    """Capture the program and write the render; returns the figures for the parent's summary.

    With ``manifest_helper``, manifests are validated and written by a second process while the program runs
    (``sovereign.render.manifest_helper``; the same bytes, on another core)."""
    from sovereign.render import manifests as manifest_mod
    from sovereign.render.capture import run_program
    from sovereign.render.manifest_helper import CheckedManifest, ManifestHelper
    from sovereign.render.output import ManifestWriter, indented_step, preview_text, write_preview_text
    from sovereign.render.preview import (
        change_summary,
        preview_document,
        registration_order,
        schema_diagnostic,
        sorted_diagnostics,
        step_of,
    )
    from sovereign.render.project import load_project
    from sovereign.render.schemas import validate_object
    from sovereign.stackconfig.stack_file import read_stack_config, refuse_over_env_limit

    started = time.monotonic()
    project = load_project()
    if isolate:
        use_project_sources(project.root)
    stackconfig = importlib.import_module("sovereign.stackconfig.loader")
    stack_config = stackconfig.load_stack(stack)  # schema + catalog checks: file and key path on bad input
    file_config = read_stack_config(project.stack_file(stack))
    refuse_over_env_limit(file_config, stack)
    version = stack_config.cluster.kubernetes_version
    helper = ManifestHelper(out_dir, version) if manifest_helper else None
    try:
        capture = run_program(project, stack, file_config, on_record=helper.send if helper else None)
        diagnostics = _capture_diagnostics(capture)
        ordered = registration_order(capture.registrations)
        summary = change_summary(ordered)
        # With a helper, the steps are encoded while it catches up; its schema problems then complete the preview.
        step_texts = [indented_step(step_of(r, capture.outputs.get(r.urn))) for r in ordered]
        if helper is not None:
            checked = helper.finish()  # it has written the manifests
        else:
            writer = ManifestWriter(out_dir)
            checked = []
            for m in manifest_mod.collect(capture.registrations):
                checked.append(CheckedManifest(m.relative_path, m.urn, tuple(validate_object(m.plain, version))))
                writer.write(m)
        schema = [
            schema_diagnostic(m.urn, m.relative_path, p.path, p.message, version) for m in checked for p in m.problems
        ]
        document = preview_document(file_config.display(), [], [*diagnostics, *schema], summary)
        write_preview_text(out_dir, preview_text(document, step_texts))
    finally:
        if helper is not None:
            helper.close()
    program_messages = [
        {"severity": d["severity"], "message": d["message"]}
        for d in sorted_diagnostics(diagnostics)
        if d["prefix"] == PROGRAM_PREFIX and d["severity"] in ("warning", "error")
    ]
    return {
        "resources": len(ordered),
        "manifests": len(checked),
        "schemaErrors": sum(len(m.problems) for m in checked),
        "programMessages": program_messages,
        "seconds": round(time.monotonic() - started, 3),
    }


def _capture_diagnostics(capture: Any) -> list[dict[str, str]]:
    """``preview.json`` diagnostics of the run itself: provider functions the mocks answered empty, and the
    program's own ``pulumi.log`` messages (a real preview shows them as diagnostic events of their URN), and remote
    components the mock runtime registered without their children."""
    from sovereign.render.preview import unrendered_diagnostic

    diagnostics = [
        {
            "urn": "",
            "prefix": "mock",
            "severity": "warning",
            "message": f"provider function {token} got an empty result under the mock runtime",
        }
        for token in capture.invokes
    ]
    diagnostics.extend(
        {"urn": entry.urn, "prefix": PROGRAM_PREFIX, "severity": entry.severity, "message": entry.message}
        for entry in capture.logs
    )
    diagnostics.extend(unrendered_diagnostic(reg.urn, reg.type) for reg in capture.registrations if reg.remote)
    return diagnostics



def main(argv: list[str] | None = None) -> int:
    from sovereign.process.gc_tuning import tune_for_batch

    tune_for_batch()  # a batch process of our own (under `pulumi up` the language host runs the program)
    parser = argparse.ArgumentParser(prog="sovereign.render.worker")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--result", required=True, type=Path)
    parser.add_argument(
        "--isolate",
        action="store_true",
        help="import the project's packages from SOVEREIGN_ROOT (rendering another checkout)",
    )
    parser.add_argument(
        "--manifest-helper",
        action="store_true",
        help="validate and write manifests in a second process while the program runs (a core is free)",
    )
    args = parser.parse_args(argv)
    from sovereign.render.capture import emulate_shim_sys_path

    emulate_shim_sys_path()
    out_dir: Path = args.out.resolve()
    result_path: Path = args.result.resolve()
    try:
        figures = render_into(args.stack, out_dir, isolate=args.isolate, manifest_helper=args.manifest_helper)
    except BaseException as exc:  # noqa: BLE001 - the program may raise anything; report it to the parent
        # An InputError, raised by the loader or by the program (Pulumi re-raises it), is bad input.
        errors = _input_errors(exc)
        if errors is not None:
            _write_result(result_path, {"ok": False, "inputErrors": errors})
            return EXIT_BAD_INPUT
        _write_result(result_path, {"ok": False, "error": "".join(traceback.format_exception(exc))[-8000:]})
        return EXIT_PROGRAM_FAILED
    _write_result(result_path, {"ok": True, **figures})
    return EXIT_OK


if __name__ == "__main__":
    from sovereign.process.exiting import exit_now

    exit_now(main())  # the result file is written and closed; skip freeing the SDK's heap object by object
