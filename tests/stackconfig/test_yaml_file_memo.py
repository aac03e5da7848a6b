"""``load_yaml_file`` parses a file once while its text is unchanged, and every caller gets its own copy."""

from __future__ import annotations

from pathlib import Path

import pytest

from sovereign.core import yamlio
from sovereign.core.errors import InputError


def test_a_second_load_is_an_equal_but_separate_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_text("config:\n  a:b: [1, {c: d}]\n", encoding="utf-8")
    first = yamlio.load_yaml_file(path)
    calls: list[str] = []
    monkeypatch.setattr(yamlio, "parse_yaml_documents", lambda text, source: calls.append(text) or [None])
    second = yamlio.load_yaml_file(path)
    assert calls == [] and second == first == {"config": {"a:b": [1, {"c": "d"}]}}
    first["config"]["a:b"][1]["c"] = "changed"  # one caller's edits never reach another's document
    assert yamlio.load_yaml_file(path) == {"config": {"a:b": [1, {"c": "d"}]}}


def test_changed_text_is_parsed_again(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n", encoding="utf-8")
    assert yamlio.load_yaml_file(path) == {"a": 1}
    path.write_text("a: 2\n", encoding="utf-8")
    assert yamlio.load_yaml_file(path) == {"a": 2}


def test_a_bad_file_is_reported_every_time(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text("a: 1\n---\nb: 2\n", encoding="utf-8")
    for _ in range(2):
        with pytest.raises(InputError, match="exactly one YAML document"):
            yamlio.load_yaml_file(path)
