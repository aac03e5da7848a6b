"""Where the time of one render or one check goes, stage by stage (wall and CPU seconds), in this process.

It wraps the stages' functions with timers (no edits to them) and runs the same code the CLI runs:

    SOVEREIGN_ROOT=<fleet root> python bench/profile_stages.py render STACK OUT_DIR [--cprofile FILE]
    python bench/profile_stages.py check MANIFEST_DIR [--cprofile FILE]

``render`` times ``sovereign.render.worker.render_into`` (what one worker process does per stack); ``check``
times ``sovereign check --manifests`` (CLI side; the policy pack's own work shows as the time of its RPCs).
With ``--cprofile`` the whole run is also written as a cProfile file for ``python -m pstats``. For a sampling
profile of both processes (CLI and pack), py-spy works too: ``py-spy record --subprocesses -- python -m
sovereign check ...``.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

Timings = dict[str, list[float]]


def _wrap(owner: Any, name: str, label: str, timings: Timings) -> None:
    original: Callable[..., Any] = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        cpu, wall = time.process_time(), time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            entry = timings.setdefault(label, [0.0, 0.0, 0])
            entry[0] += time.perf_counter() - wall
            entry[1] += time.process_time() - cpu
            entry[2] += 1

    setattr(owner, name, timed)


def profile_render(stack: str, out: Path, timings: Timings) -> Any:
    import sovereign.core.yamlio as yamlio
    import sovereign.render.capture as capture
    import sovereign.render.manifests as manifests
    import sovereign.render.output as output
    import sovereign.render.preview as preview
    import sovereign.render.schemas as schemas
    import sovereign.render.worker as worker
    import sovereign.stackconfig as stackconfig
    import sovereign.stackconfig.loader as loader
    import sovereign.stackconfig.stack_file as stackfile

    _wrap(capture, "run_program", "run_program: mock runtime + infra program", timings)
    _wrap(output, "preview_text", "preview_text: preview.json text", timings)
    _wrap(output.ManifestWriter, "write", "ManifestWriter.write: manifest YAML", timings)
    _wrap(stackconfig, "load_stack", "load_stack: stack file validation", timings)
    _wrap(stackfile, "read_stack_config", "read_stack_config: stack file as Pulumi config", timings)
    _wrap(schemas, "validate_object", "validate_object: Kubernetes/CRD schemas", timings)
    _wrap(manifests, "collect", "manifests.collect", timings)
    _wrap(preview, "registration_order", "registration_order", timings)
    _wrap(yamlio, "parse_yaml_documents", "(all callers) yamlio.parse_yaml_documents", timings)
    _wrap(loader, "schema_errors_of", "(all callers) stack JSON schema", timings)
    capture.emulate_shim_sys_path()
    return worker.render_into(stack, out.resolve())


def profile_check(directory: Path, timings: Timings) -> Any:
    import sovereign.catalog.loader as catalog_loader
    import sovereign.cli.check as check
    import sovereign.core.manifests as manifest_input
    from policies.framework.runner import DirectPack
    from sovereign.analyzer.client import PolicyPackProcess
    from sovereign.check.manifest_parse_helper import ManifestLoad
    from sovereign.cli.main import main

    _wrap(ManifestLoad, "documents", "manifests: parse this process's share, wait for the helper's", timings)
    _wrap(check, "_prepare_pack", "pack libraries + catalog, while the helper parses", timings)
    _wrap(manifest_input, "parse_yaml_documents_with_lines", "(inside) strict YAML parse (objects + lines)", timings)
    _wrap(PolicyPackProcess, "start", "pack spawn until its port is printed (gRPC transport)", timings)
    _wrap(DirectPack, "analyze", "resource rules, one resource at a time (direct)", timings)
    _wrap(DirectPack, "analyze_stack", "stack rules incl. the connectivity proof (direct)", timings)
    _wrap(catalog_loader, "load_catalog", "(all callers) catalog load (build, when not kept)", timings)
    _wrap(check, "write_output", "report written", timings)
    # A real file: `--output` replaces its target atomically (temp file + rename), so never a device.
    with tempfile.TemporaryDirectory() as tmp:
        return main(["check", "--manifests", str(directory), "--format", "json", "--output", f"{tmp}/report.json"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/profile_stages.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    render = sub.add_parser("render")
    render.add_argument("stack")
    render.add_argument("out", type=Path)
    check = sub.add_parser("check")
    check.add_argument("directory", type=Path)
    for p in (render, check):
        p.add_argument("--cprofile", type=Path, help="also write a cProfile file")
    args = parser.parse_args(argv)
    timings: Timings = {}
    profiler = cProfile.Profile() if args.cprofile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    if args.what == "render":
        result = profile_render(args.stack, args.out, timings)
    else:
        result = profile_check(args.directory, timings)
    if profiler:
        profiler.disable()
        profiler.dump_stats(str(args.cprofile))
    total_wall, total_cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{'wall s':>8} {'share':>6} {'cpu s':>8} {'calls':>6}  stage")
    print(f"{total_wall:8.2f} {100:5.0f}% {total_cpu:8.2f} {1:6d}  TOTAL ({args.what})")
    for label, (w, c, n) in sorted(timings.items(), key=lambda item: -item[1][0]):
        print(f"{w:8.2f} {100 * w / total_wall:5.1f}% {c:8.2f} {int(n):6d}  {label}")
    print(f"result: {result}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
