"""The manifest parse helper (sovereign/check/manifest_parse_helper.py) changes who parses the files of a large
``--manifests`` directory, never the result: the same documents in the same order, the same error for a bad file
wherever it sits, and a helper that fails costs time only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from manifest_samples import write_manifests

import sovereign.check.manifest_parse_helper as parse_helper
from sovereign.check.manifest_parse_helper import ManifestLoad, own_files
from sovereign.core.errors import InputError
from sovereign.core.manifests import load_manifests
from sovereign.process.forked_child import ForkedChild

PROBE = Path(__file__).resolve().parent / "parse_helper_probe.py"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the helper forks on Linux only")
@pytest.mark.parametrize("scenario", [
    "shares", "errors", "twice", "caller-fails-first",
    "fails:raises", "fails:dies", "fails:killed", "fails:wrong-type", "fails:wrong-kind", "fails:hangs",
    "fails:answers-then-dies",
])
def test_the_parse_helper_in_a_fresh_process(scenario: str, tmp_path: Path) -> None:
    """Run apart (parse_helper_probe.py): the helper forks only from a single-threaded process, as ``sovereign
    check`` is, and this test session may hold gRPC threads of pack processes other tests started."""
    done = subprocess.run([sys.executable, str(PROBE), scenario, str(tmp_path / "m")], capture_output=True,
                          text=True, timeout=600, check=False, cwd=PROBE.parent)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stdout + done.stderr


def test_listing_problems_are_raised_where_the_sequential_load_raises_them(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "missing", tmp_path / "empty"):
        load = ManifestLoad.start(path, helper=True)  # does not raise yet
        with pytest.raises(InputError) as got:
            load.documents()
        with pytest.raises(InputError) as expected:
            load_manifests(path)
        assert got.value.message == expected.value.message


def test_no_helper_when_told_so_or_for_few_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_manifests(tmp_path / "m")
    started: list[Any] = []
    monkeypatch.setattr(ForkedChild, "start", classmethod(lambda cls, work: started.append(work)))
    for helper in (False, True):  # 40 files < MIN_HELPER_FILES
        with ManifestLoad.start(root, helper=helper) as load:
            assert load.documents() == load_manifests(root)
    assert started == []


def test_no_fork_possible_means_everything_is_parsed_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = write_manifests(tmp_path / "m")
    monkeypatch.setattr(parse_helper, "MIN_HELPER_FILES", 2)
    monkeypatch.setattr(ForkedChild, "start", classmethod(lambda cls, work: None))
    with ManifestLoad.start(root, helper=True) as load:
        assert load.documents() == load_manifests(root)


def test_this_process_takes_a_share_of_the_bytes(tmp_path: Path) -> None:
    sizes = [400] * 5 + [1000] * 10  # 12,000 bytes
    files = []
    for i, size in enumerate(sizes):
        files.append(tmp_path / f"{i:02d}.yaml")
        files[-1].write_text("#" * size)
    own = own_files(files)
    assert sum(sizes[:own]) <= 12_000 * parse_helper.OWN_SHARE < sum(sizes[: own + 1])
    assert own_files(files[:2]) == 1  # at least one file here, and at least one for the child
    big_first = [files[0], *files[1:]]
    files[0].write_text("#" * 100_000)
    assert own_files(big_first) == 1
