"""The manifest parse helper (sovereign/report/manifest_parse_helper.py) changes who parses the files of a large
``--manifests`` directory, never the result: the same documents in the same order, the same error for a bad file
wherever it sits, and a helper that fails costs time only."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

import sovereign.report.manifest_parse_helper as parse_helper
from sovereign.errors import InputError
from sovereign.report.manifest_input import load_manifest_files, load_manifests, manifest_files
from sovereign.report.manifest_parse_helper import ManifestLoad

FILES = 40


def write_manifests(root: Path, count: int = FILES) -> Path:
    """A Namespace, then ConfigMaps and Deployments; one file holds a List, one two documents, one is JSON."""
    root.mkdir(parents=True, exist_ok=True)
    ns = {"apiVersion": "v1", "kind": "Namespace",
          "metadata": {"name": "team", "labels": {"sovereign-clusters.dev/jurisdiction": "cn"}}}
    (root / "000-namespace.yaml").write_text(yaml.safe_dump(ns))
    for i in range(1, count):
        if i % 7 == 0:
            obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMapList", "items": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"l{i}-{j}", "namespace": "team"}}
                for j in range(3)]}
            (root / f"{i:03d}-list.yaml").write_text(yaml.safe_dump(obj))
        elif i % 11 == 0:
            (root / f"{i:03d}-pair.json").write_text(
                f'{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "j{i}", "namespace": "team"}}}}')
        elif i % 5 == 0:
            docs = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"d{i}-{j}", "namespace": "team"},
                     "data": {"at": "2026-01-01", "when": "yes"}} for j in range(2)]
            (root / f"{i:03d}-docs.yml").write_text("---\n".join(yaml.safe_dump(d) for d in docs))
        else:
            deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                          "metadata": {"name": f"w{i}", "namespace": "team", "labels": {"app": f"w{i}"}},
                          "spec": {"selector": {"matchLabels": {"app": f"w{i}"}}, "template": {
                              "metadata": {"labels": {"app": f"w{i}"}},
                              "spec": {"containers": [{"name": "main", "image": "registry.example.cn/app:1"}]}}}}
            (root / f"{i:03d}-deployment.yaml").write_text(yaml.safe_dump(deployment))
    return root


@pytest.fixture
def helper_for_small_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse_helper, "MIN_HELPER_FILES", 2)


def load_with_helper(path: Path) -> Any:
    with ManifestLoad.start(path, helper=True) as load:
        return load.documents()


def outcome(load: Callable[[], Any]) -> Any:
    try:
        return ("documents", load())
    except InputError as exc:
        return ("error", exc.message)


def test_the_helper_parses_its_share_and_the_documents_keep_file_order(
    tmp_path: Path, helper_for_small_dirs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = write_manifests(tmp_path / "m")
    files = manifest_files(root)
    parsed_here: list[list[Path]] = []

    def spy(chunk: Any) -> Any:
        parsed_here.append(list(chunk))
        return load_manifest_files(chunk)

    monkeypatch.setattr(parse_helper, "load_manifest_files", spy)
    documents = load_with_helper(root)
    own = max(1, int(len(files) * parse_helper.OWN_SHARE))
    assert parsed_here == [files[:own]], "this process parsed more than its share: the helper's answer was not used"
    assert documents == load_manifests(root)  # values compare with their types: a YAML date is not its text


DAMAGE = ["duplicate: 1\nduplicate: 2\n", "kind: [unclosed\n", "- just a list\n", b"\xff\xfe"]


@pytest.mark.parametrize("bad_files", [(), (0,), (1,), (FILES - 1,), (FILES - 3, FILES - 1), (2, FILES - 2)])
@pytest.mark.parametrize("damage", DAMAGE)
def test_errors_are_the_sequential_ones_wherever_the_bad_file_is(
    tmp_path: Path, helper_for_small_dirs: None, bad_files: tuple[int, ...], damage: str | bytes
) -> None:
    root = write_manifests(tmp_path / "m")
    files = manifest_files(root)
    for index in bad_files:
        if isinstance(damage, bytes):
            files[index].write_bytes(damage)
        else:
            files[index].write_text(damage)
    sequential = outcome(lambda: load_manifests(root))
    assert sequential[0] == ("error" if bad_files else "documents")
    assert outcome(lambda: load_with_helper(root)) == sequential


@pytest.mark.parametrize("script", [
    "import sys; sys.exit(3)",  # dies
    "import sys; sys.stdout.write('not a pickle')",  # answers nonsense
    "import pickle, sys; sys.stdout.buffer.write(pickle.dumps(('documents', 'oops')))",  # answers the wrong type
    "import sys, time; sys.stdin.close(); time.sleep(0.2)",  # reads nothing, answers nothing
    "import pickle, sys; sys.stdout.buffer.write(pickle.dumps(('documents', []))); sys.stdout.flush(); sys.exit(1)",
])
def test_a_failed_helper_costs_time_only(
    tmp_path: Path, helper_for_small_dirs: None, monkeypatch: pytest.MonkeyPatch, script: str
) -> None:
    root = write_manifests(tmp_path / "m")
    real_popen = subprocess.Popen

    def broken_helper(argv: list[str], **kwargs: Any) -> Any:
        assert argv[1:] == ["-m", parse_helper.__name__]
        return real_popen([sys.executable, "-c", script], **kwargs)

    monkeypatch.setattr(parse_helper.subprocess, "Popen", broken_helper)
    assert load_with_helper(root) == load_manifests(root)


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
    monkeypatch.setattr(parse_helper.subprocess, "Popen", lambda *a, **k: started.append(a))
    for helper in (False, True):  # 40 files < MIN_HELPER_FILES
        with ManifestLoad.start(root, helper=helper) as load:
            assert load.documents() == load_manifests(root)
    assert started == []


def test_a_helper_is_stopped_when_the_caller_fails_first(tmp_path: Path, helper_for_small_dirs: None) -> None:
    root = write_manifests(tmp_path / "m")
    with pytest.raises(RuntimeError), ManifestLoad.start(root, helper=True) as load:
        helper = load._helper
        raise RuntimeError("the caller failed before asking for the documents")
    assert helper is not None and helper.poll() is not None


def test_asking_twice_gives_the_same_documents(tmp_path: Path, helper_for_small_dirs: None) -> None:
    root = write_manifests(tmp_path / "m")
    with ManifestLoad.start(root, helper=True) as load:
        first = load.documents()
        assert load.documents() == first == load_manifests(root)
