"""Only regular files are read as input: a FIFO, a device, a socket or a directory where a catalog (or stack) file
is expected, or a symlink to one, is bad input naming the path, never a hang (opening a FIFO for reading blocks
until a writer comes) or a read without end (``/dev/zero``).

Each case runs in a bounded child process (``run_bounded``: 3 GiB, a timeout) so that a regression fails the test
instead of hanging the suite.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hostile_support import ROOT, assert_bad_input, run_bounded

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIFOs, sockets and /dev on Linux")

CATALOG = ROOT / "policies" / "catalog"


def fifo(path: Path) -> str:
    os.mkfifo(path)
    return "a FIFO"


def fifo_link(path: Path) -> str:
    os.mkfifo(path.with_name(path.name + ".pipe"))
    path.symlink_to(path.with_name(path.name + ".pipe"))
    return "a symlink to a FIFO"


def dev_zero(path: Path) -> str:
    path.symlink_to("/dev/zero")
    return "a symlink to a character device"


def dev_null(path: Path) -> str:
    path.symlink_to("/dev/null")
    return "a symlink to a character device"


def directory(path: Path) -> str:
    path.mkdir()
    return "a directory"


def unix_socket(path: Path) -> str:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
    finally:
        server.close()  # the socket file stays
    return "a socket"


MAKERS: dict[str, Callable[[Path], str]] = {
    "fifo": fifo, "symlink-to-fifo": fifo_link, "symlink-to-dev-zero": dev_zero, "symlink-to-dev-null": dev_null,
    "directory": directory, "socket": unix_socket,
}


@pytest.mark.parametrize("name", ["catalog.yaml", "catalog.schema.json", "jurisdictions/cn.yaml",
                                  "jurisdictions/zz.yaml"])
@pytest.mark.parametrize("case", sorted(MAKERS))
def test_a_special_file_in_the_catalog_is_bad_input(case: str, name: str, tmp_path: Path) -> None:
    if case == "socket" and len(str(tmp_path / "catalog" / name)) > 100:
        pytest.skip("the path is too long for a Unix socket")
    directory_ = tmp_path / "catalog"
    shutil.copytree(CATALOG, directory_)
    target = directory_ / name
    target.unlink(missing_ok=True)
    found = MAKERS[case](target)
    result = run_bounded([sys.executable, "-m", "sovereign", "validate", "--catalog", str(directory_)], timeout=60)
    assert result is not None, f"sovereign validate hung (or read without end) on {case} as {name}"
    assert_bad_input(result, "validate")
    assert f"{target}: (top level): expected a regular file" in result.stderr, result.stderr
    assert f"found {found}" in result.stderr, result.stderr


def test_the_jurisdictions_entry_must_be_a_directory(tmp_path: Path) -> None:
    directory_ = tmp_path / "catalog"
    shutil.copytree(CATALOG, directory_)
    shutil.rmtree(directory_ / "jurisdictions")
    os.mkfifo(directory_ / "jurisdictions")
    result = run_bounded([sys.executable, "-m", "sovereign", "validate", "--catalog", str(directory_)], timeout=60)
    assert result is not None, "sovereign validate hung"
    assert_bad_input(result, "validate")
    assert f"{directory_ / 'jurisdictions'}: (top level): expected a directory with one <id>.yaml file per " \
           "jurisdiction; found a FIFO" in result.stderr, result.stderr


def test_a_fifo_as_the_stack_file_is_bad_input(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", root / "Pulumi.yaml")
    shutil.copytree(ROOT / "stacks", root / "stacks")
    (root / "policies").symlink_to(ROOT / "policies", target_is_directory=True)
    (root / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    stack = root / "stacks" / "Pulumi.cn-prod.yaml"
    stack.unlink()
    os.mkfifo(stack)
    env_root = {"SOVEREIGN_ROOT": str(root)}
    result = run_bounded([sys.executable, "-m", "sovereign", "validate", "cn-prod"], timeout=60, env=env_root)
    assert result is not None, "sovereign validate hung on a FIFO stack file"
    assert_bad_input(result, "validate")
    # The stack loader refuses it before reading (sovereign/stackconfig: "expected an existing stack file"); were
    # it read, yamlio.read_text would refuse it as "expected a regular file; found a FIFO".
    assert f"{stack}: (top level): expected " in result.stderr, result.stderr
