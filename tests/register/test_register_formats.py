"""The register's formats: the JSON validates against the published schema, the HTML page is self-contained
(nothing to load, no script) with the flow diagram drawing states apart, every format is byte-identical across
runs and hash seeds, no secret value appears, and bad input writes nothing (exit 2)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from register_support import AT, SCHEMA, run_cli

from sovereign.register.model import DISCREPANCY_KINDS


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_the_json_validates_against_the_published_schema(registers: dict[str, Any]) -> None:
    errors = sorted(_validator().iter_errors(registers), key=lambda e: list(e.path))
    assert [f"{list(e.path)}: {e.message}" for e in errors] == []
    assert [r["stack"] for r in registers["registers"]] == ["cn-prod", "eu-prod", "us-prod"]


def test_the_schema_rejects_what_it_does_not_describe(registers: dict[str, Any]) -> None:
    """The schema can fail: an unknown key, a flow without its status, a state that is not one."""
    doc = json.loads(json.dumps(registers))
    doc["registers"][0]["surprise"] = 1
    del doc["registers"][0]["crossBorderFlows"][0]["status"]
    doc["registers"][0]["transfers"][0]["state"] = "valid"
    messages = " ".join(e.message for e in _validator().iter_errors(doc))
    assert "surprise" in messages and "'status' is a required property" in messages and "'valid'" in messages


def test_the_schema_knows_every_discrepancy_kind() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    kinds = schema["$defs"]["register"]["properties"]["discrepancies"]["items"]["properties"]["kind"]["enum"]
    assert sorted(kinds) == sorted(DISCREPANCY_KINDS)


def _register(project: Path, fmt: str, *extra: str, seed: str = "0") -> str:
    out = project / f"register-{fmt}-{seed}.out"
    result = run_cli("register", "cn-prod", "--at", AT, "--format", fmt, "--output", out, *extra, root=project,
                     env={"PYTHONHASHSEED": seed})
    assert result.returncode == 0, result.stderr
    return out.read_text(encoding="utf-8")


@pytest.mark.parametrize("fmt", ["json", "markdown", "html"])
def test_byte_identical_across_runs_and_hash_seeds(project: Path, fmt: str) -> None:
    first = _register(project, fmt, seed="1")
    assert first == _register(project, fmt, seed="4242")
    assert AT in first


def test_the_html_page_is_self_contained(project: Path) -> None:
    page = _register(project, "html")
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|<iframe|<img|@import|\bsrc\s*=|\bhref\s*=", page, re.IGNORECASE)
    assert re.findall(r"url\(([^)]*)\)", page) and all(u.startswith("#") for u in re.findall(r"url\(([^)]*)\)", page))
    svg = re.search(r"<svg.*?</svg>", page, re.DOTALL)
    assert svg is not None
    tree = ET.fromstring(svg.group(0))  # well-formed: it renders offline in any browser
    texts = " ".join(t.text or "" for t in tree.iter("text"))
    assert "cn" in texts and "eu" in texts and "ACTIVE CAC-SA-2026-0042" in texts and "model-weights" in texts
    lines = [el for el in tree.iter("line")]
    assert [el.get("marker-end") for el in lines] == ["url(#end-active)"]
    for heading in ("Data classes", "Cross-border flows", "Transfers and their approvals", "Paths out of the cluster",
                    "Intent against proof"):
        assert f"<h2>{heading}</h2>" in page


def test_markdown_sections(project: Path) -> None:
    text = _register(project, "markdown")
    assert text.startswith("# Data-flow register: cn-prod (China (mainland), `cn`)")
    assert "| model-weights | personal-information; export approved-transfer to eu; regulator CAC |" in text
    assert "CAC-SA-2026-0042 (CAC, weights-to-eu, until 2027-02-28)" in text
    assert "## Intent against proof" in text and "declared-egress-not-found" in text


def test_states_are_drawn_apart_in_the_diagram(project: Path) -> None:
    """After the approval's window the transfer is expired: drawn grey and dotted, ending in a cross."""
    out = project / "expired.html"
    result = run_cli("register", "cn-prod", "--at", "2027-03-01T00:00:00Z", "--format", "html", "--output", out,
                     "--out", project / "out-expired", root=project)
    assert result.returncode == 0, result.stderr
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", out.read_text(encoding="utf-8"), re.DOTALL).group(0))  # type: ignore[union-attr]
    [line] = list(svg.iter("line"))
    assert line.get("marker-end") == "url(#end-expired)" and line.get("stroke-dasharray")
    assert any((t.text or "").startswith("EXPIRED CAC-SA-2026-0042") for t in svg.iter("text"))


def test_bad_input_writes_nothing(project: Path) -> None:
    out = project / "nothing.json"
    for args in (("no-such-stack",), ("cn-prod", "--at", "yesterday"), ()):
        result = run_cli("register", *args, "--output", out, root=project)
        assert result.returncode == 2, (args, result.stderr)
        assert "sovereign register: error:" in result.stderr or "usage:" in result.stderr
        assert not out.exists()


def test_the_readme_excerpt_is_what_the_command_writes(project: Path) -> None:
    """README.md shows cn-prod's register as `sovereign register cn-prod --at <AT> --format markdown` writes it."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"sovereign register cn-prod --at {AT} --format" in readme
    excerpt = [line[2:] for line in readme.splitlines() if line.startswith("> ") and line[2:].strip()]
    assert len(excerpt) >= 4
    generated = _register(project, "markdown").splitlines()
    assert [line for line in excerpt if line not in generated] == []
