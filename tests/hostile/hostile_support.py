"""Helpers of the hostile-input suite: run the CLI in-process, build throw-away project roots, mutate YAML.

Every hostile input must end in exit status 2 with one clear ``sovereign <cmd>: error: <file>: <key path>:
expected ...`` message, no traceback, and nothing written.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_EXAMPLES = 60
LONG_EXAMPLES = 2000
LONG = os.environ.get("HYPOTHESIS_PROFILE") == "long"


GENERATED = {"inputs": 0}
"""Generated inputs run in this process (printed in the terminal summary by conftest.py)."""


def counted(test: Callable[..., None]) -> Callable[..., None]:
    """Innermost decorator of a @given test: counts every generated input it runs."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        GENERATED["inputs"] += 1
        test(*args, **kwargs)

    return wrapper


def examples(default: int = DEFAULT_EXAMPLES, long: int = LONG_EXAMPLES) -> int:
    return long if LONG else default


def fuzz(default: int = DEFAULT_EXAMPLES, long: int = LONG_EXAMPLES) -> settings:
    """Per-test settings: fast by default, ``long`` under ``HYPOTHESIS_PROFILE=long``."""
    # Default profile: derandomized (the same inputs every run, so a strict xfail on a known bug is stable);
    # long: random, to explore.
    return settings(max_examples=examples(default, long), deadline=None, derandomize=not LONG, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@dataclass(frozen=True)
class CliResult:
    code: int
    stdout: str
    stderr: str


@contextlib.contextmanager
def environ(values: Mapping[str, str | None]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_main(argv: Sequence[str], *, root: Path | None = None) -> CliResult:
    """``sovereign <argv>`` in-process; an exception escaping ``main`` fails the test (it would be a traceback).

    Each call is one command: it starts with a fresh budget of YAML alias expansion, as a new process would."""
    from sovereign.cli.main import main
    from sovereign.core import yamlio

    yamlio.reset_alias_budget()

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            environ({"SOVEREIGN_ROOT": str(root) if root else None}):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse usage errors
            code = int(exc.code) if isinstance(exc.code, int) else 2
    return CliResult(code, out.getvalue(), err.getvalue())


def assert_bad_input(result: CliResult, command: str, *, not_written: Sequence[Path] = ()) -> None:
    """Exit 2, a one-line-per-problem error naming the command, no traceback, no output files; except ``check``'s
    report, which is always rewritten (never stale): there it must hold nothing but the problem, as
    ``invalid-input`` findings (its directory may be created for it)."""
    assert result.code == 2, f"expected exit 2, got {result.code}\nstdout: {result.stdout[-2000:]}\n" \
                             f"stderr: {result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr
    assert result.stderr.strip(), "no error message"
    assert f"sovereign {command}" in result.stderr or "usage:" in result.stderr, result.stderr[-2000:]
    assert "expected" in result.stderr or "usage:" in result.stderr, result.stderr[-2000:]
    raw = sorted({f"U+{ord(c):04X}" for c in result.stderr if (ord(c) < 32 and c not in "\n\t") or c == "\x7f"})
    assert not raw, f"raw control characters {raw} in the error text (terminal escapes from hostile input; RT-16)"
    if "usage:" not in result.stderr:
        for line in result.stderr.strip().split("\n"):
            assert line.startswith("sovereign ") or ": expected " in line, (
                f"not one clear line per problem (RT-11): {line!r}\n{result.stderr[-2000:]}")
    for path in not_written:
        if command == "check" and path.exists():
            _assert_only_input_findings(path)
            continue
        assert not path.exists(), f"{path} was written despite bad input"


def _assert_only_input_findings(path: Path) -> None:
    """A check report written on bad input: the problem as its only findings, nothing judged."""
    if path.is_dir():
        return
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        doc = json.loads(text)
        assert doc["summary"]["result"] == "error", text[:2000]
        assert {v["policy"] for v in doc["violations"]} <= {"invalid-input", "check-error"}, text[:2000]
        assert doc["violations"], text[:2000]
    else:
        assert "invalid-input" in text or "check-error" in text, text[:2000]


def assert_no_traceback(result: CliResult) -> None:
    assert result.code in (0, 1, 2), result.code
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, result.stderr


# ------------------------------------------------------------------------------------------ project roots
@contextlib.contextmanager
def project_copy(*, catalog: bool = False) -> Iterator[Path]:
    """A throw-away project root (``SOVEREIGN_ROOT``): Pulumi.yaml, stacks/ copied; policies linked (or the
    catalog copied when it will be mutated)."""
    with tempfile.TemporaryDirectory(prefix="hostile-root-") as tmp:
        root = Path(tmp)
        shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
        shutil.copytree(ROOT / "stacks", root / "stacks")
        if catalog:
            (root / "policies").mkdir()
            shutil.copytree(ROOT / "policies" / "catalog", root / "policies" / "catalog")
        else:
            (root / "policies").symlink_to(ROOT / "policies", target_is_directory=True)
        for name in ("infra", "sovereign", "examples"):  # examples: the example organisation (catalog layer)
            (root / name).symlink_to(ROOT / name, target_is_directory=True)
        yield root


# ------------------------------------------------------------------------------------------ mutations
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
    st.sampled_from(["", " ", "0.0.0.0/0", "::/0", "eu-central-1", "NVIDIA-H100-80GB-HBM3", "\u202e\U0001f4a3",
                     "\x00", "~", "yes", "no", "2027-02-30", "1e9999", "-", "*", "[secret]"]),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=12)


def _containers(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path to a mapping entry or list element (iteratively; hostile nesting is bounded by yamlio)."""
    out: list[tuple[Any, ...]] = []
    stack = [(data, path)]
    while stack:
        node, p = stack.pop()
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((*p, k))
                stack.append((v, (*p, k)))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((*p, i))
                stack.append((v, (*p, i)))
    return sorted(out, key=repr)


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    node = data
    for part in path[:-1]:
        node = node[part]
    return node


@st.composite
def mutated_document(draw: st.DrawFn, data: Any) -> Any:
    """``data`` with one or more structural mutations: replace a value (any type), delete or rename a key,
    bury a value in deep nesting, or empty the document."""
    import copy

    doc = copy.deepcopy(data)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _containers(doc)
        if not paths:
            return draw(VALUES)
        path = draw(st.sampled_from(paths))
        parent = _parent(doc, path)
        op = draw(st.sampled_from(["replace", "delete", "rename", "nest"]))
        key = path[-1]
        if op == "replace":
            parent[key] = draw(VALUES)
        elif op == "delete":
            del parent[key]
        elif op == "rename" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=20))] = parent.pop(key)
        else:
            value = parent[key]
            for _ in range(draw(st.integers(min_value=1, max_value=90))):
                value = [value]
            parent[key] = value
    return doc


def dump(doc: Any) -> str:
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


@st.composite
def text_mutation(draw: st.DrawFn, text: str) -> str:
    """Byte-level damage to valid YAML: insert junk, duplicate a line (duplicate key), truncate, re-indent."""
    lines = text.splitlines(keepends=True)
    op = draw(st.sampled_from(["insert", "duplicate", "truncate", "indent", "tab"]))
    i = draw(st.integers(min_value=0, max_value=max(0, len(lines) - 1)))
    if op == "insert":
        pos = draw(st.integers(min_value=0, max_value=len(text)))
        junk = draw(st.one_of(st.text(min_size=1, max_size=20),
                              st.sampled_from([":", "- ", "{", "]", "&a", "*a", "!!python/object:os.system", "\t",
                                               "\"", "'", "%YAML 9.9\n", "---\n", "? ", "|\n", "<<: *x"])))
        return text[:pos] + junk + text[pos:]
    if op == "duplicate" and lines:
        return "".join(lines[: i + 1] + [lines[i]] + lines[i + 1:])
    if op == "truncate":
        return text[: draw(st.integers(min_value=0, max_value=len(text)))]
    if op == "indent" and lines:
        lines[i] = " " * draw(st.integers(min_value=1, max_value=7)) + lines[i]
        return "".join(lines)
    if lines:
        lines[i] = "\t" + lines[i]
    return "".join(lines)


def deep(depth: int) -> str:
    return "a: " + "[" * depth + "1" + "]" * depth + "\n"


def alias_bomb(levels: int, width: int = 10) -> str:
    """A few hundred bytes that expand to width**(levels+1) scalars (the 'billion laughs')."""
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: lol, namespace: default}", "lol:"]
    lines.append("  a0: &a0 [" + ",".join(['"lol"'] * width) + "]")
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def write_bytes(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))


def run_bounded(argv: list[str], timeout: float, env: Mapping[str, str] | None = None) -> CliResult | None:
    """Run ``argv`` (from the project root, ``env`` added to the environment) in a new session with 3 GiB of
    address space; on timeout the whole group dies (the policy pack child included) and the answer is None: a
    hang or a runaway read fails the test instead of the suite."""
    proc = subprocess.Popen(  # noqa: S603 - fixed argv
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        preexec_fn=_limit_memory, env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None
    return CliResult(proc.returncode, out, err)
