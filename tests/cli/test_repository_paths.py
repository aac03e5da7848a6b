"""``RepositoryPaths`` (check/repository_paths.py) resolves each directory once; every path must come out as
``repository_path`` gives it, links, dot components and paths outside the working directory included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sovereign.check.repository_paths import RepositoryPaths, repository_path


def make_tree(tmp_path: Path) -> Path:
    """repo/ (the working directory) with real and linked directories and files, and a directory outside it."""
    repo = tmp_path / "repo"
    (repo / "m" / "sub").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    for name in ("a.yaml", "b.yaml"):
        (repo / "m" / name).write_text("x")
        (repo / "m" / "sub" / name).write_text("x")
        (tmp_path / "outside" / name).write_text("x")
    (repo / "linked-dir").symlink_to(repo / "m" / "sub")
    (repo / "m" / "link-in.yaml").symlink_to(repo / "m" / "sub" / "a.yaml")
    (repo / "m" / "link-out.yaml").symlink_to(tmp_path / "outside" / "a.yaml")
    (repo / "out-dir").symlink_to(tmp_path / "outside")
    (repo / "m" / "dangling.yaml").symlink_to(repo / "nowhere.yaml")
    return repo


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return make_tree(tmp_path)


COMPONENTS = ["m", "sub", "linked-dir", "out-dir", ".", "..", "", "a.yaml", "b.yaml", "link-in.yaml",
              "link-out.yaml", "dangling.yaml", "missing.yaml", "repo"]


def _compare(tree: Path, files: list[str]) -> None:
    cwd = Path.cwd().resolve()
    paths = RepositoryPaths()
    for file in files + files:  # the second time from its memo
        assert paths(file) == repository_path(file, cwd), file


def test_the_cases_that_need_the_full_resolution(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    files = ["m/a.yaml", "./m/a.yaml", "m//a.yaml", "m/./a.yaml", "m/sub/../a.yaml", "linked-dir/a.yaml",
             "m/link-in.yaml", "m/link-out.yaml", "out-dir/a.yaml", "m/dangling.yaml", "m/missing.yaml",
             "../outside/a.yaml", str(tree / "m" / "a.yaml"), str(tree.parent / "outside" / "b.yaml"), "m/..",
             "m/.", "m/", ".", "a.yaml", "../repo/m/b.yaml", "linked-dir/../a.yaml", "../repo", str(tree)]
    _compare(tree, files)
    assert RepositoryPaths()("linked-dir/a.yaml") == "m/sub/a.yaml"
    assert RepositoryPaths()("out-dir/a.yaml") == "out-dir/a.yaml"  # outside: as given


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=5), min_size=1, max_size=8),
       st.booleans())
def test_random_paths(tmp_path_factory: pytest.TempPathFactory, parts: list[list[str]], absolute: bool) -> None:
    base = tmp_path_factory.getbasetemp() / "repository-paths"
    repo = base / "repo" if base.exists() else make_tree(base)
    previous = Path.cwd()
    os.chdir(repo)
    try:
        files = [("/" if absolute else "") + "/".join(p) for p in parts]
        files = [str(repo) + f if absolute else f for f in files]
        _compare(repo, files)
    finally:
        os.chdir(previous)


def test_working_directory_at_the_root(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir("/")
    _compare(tree, [str(tree / "m" / "a.yaml"), str(tree / "linked-dir" / "b.yaml"), "tmp"])


def test_paths_outside_the_working_directory_come_out_as_given(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    outside = str(tree.parent / "outside")
    files = [f"{outside}/a.yaml", f"/{outside}/a.yaml", f"{outside}//b.yaml", f"{outside}/./b.yaml",
             f"{outside}/../outside/a.yaml", "../outside/a.yaml", ".././../" + tree.parent.name + "/outside/b.yaml",
             "out-dir/../../outside/a.yaml", "/a-file-at-the-root.yaml", "//a-file-at-the-root.yaml"]
    _compare(tree, files)
    assert RepositoryPaths()(f"/{outside}/a.yaml") == f"/{outside}/a.yaml"  # POSIX keeps a leading "//"
