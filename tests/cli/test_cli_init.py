"""``sovereign init`` and the organisation layer on the command line: the round trip init -> check --manifests,
overwrite refused, ``--organisation``, and the warning when the example organisation judges other input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import REPO, make_project, run_cli

from sovereign.catalog import load_catalog
from sovereign.core.paths import ORGANISATION_ENV, ORGANISATION_FILE

APP = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {sovereign-clusters.dev/jurisdiction: eu}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - {name: web, image: ghcr.io/acme/web:1.0}
"""
WARNING = "warning: the example organisation"
PACK = REPO / "policies"
CHECK = ("--format", "json", "--policy-pack", str(PACK), "--at", "2026-11-25T00:00:00Z")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "project")
    (tmp_path / "app.yaml").write_text(APP, encoding="utf-8")
    return root


def _registry_rules(report: str) -> list[str]:
    """The image-registry findings of a JSON check report."""
    violations = json.loads(report)["violations"]
    return [v["policy"] for v in violations if v.get("policy") == "image-registry-allowed"]


def test_init_writes_a_valid_file_at_the_project_root_and_check_uses_it_at_once(project: Path) -> None:
    app = project.parent / "app.yaml"
    before = run_cli("check", "--manifests", app, *CHECK, root=project)
    assert before.returncode == 1, before.stderr
    assert _registry_rules(before.stdout) == ["image-registry-allowed"]
    assert before.stderr.count(WARNING) == 1  # once per command
    assert "sovereign init" in before.stderr

    made = run_cli("init", "--jurisdiction", "eu", "--registry", "ghcr.io", "--name", "Acme", root=project)
    assert made.returncode == 0, made.stderr
    written = project / ORGANISATION_FILE
    catalog = load_catalog(project / "policies" / "catalog", written)
    assert catalog.organisation.name == "Acme" and not catalog.organisation.example
    eu = catalog.jurisdictions["eu"]
    assert eu.registries == ("ghcr.io",)
    assert {c.category for c in eu.data_classes.values()} == set(eu.data_categories)
    assert written.read_text(encoding="utf-8").startswith("# Organisation file of Acme")

    after = run_cli("check", "--manifests", app, *CHECK, root=project)
    assert after.returncode == 1, after.stderr  # the app has other findings (no egress policy, no affinity)
    assert _registry_rules(after.stdout) == []
    assert WARNING not in after.stderr


def test_init_refuses_to_overwrite_without_force(project: Path) -> None:
    target = project / ORGANISATION_FILE
    target.write_text("mine\n", encoding="utf-8")
    refused = run_cli("init", "--jurisdiction", "eu", root=project)
    assert refused.returncode == 2
    assert "pass --force to overwrite" in refused.stderr and str(target) in refused.stderr
    assert target.read_text(encoding="utf-8") == "mine\n"
    forced = run_cli("init", "--jurisdiction", "eu", "--force", root=project)
    assert forced.returncode == 0, forced.stderr
    assert target.read_text(encoding="utf-8").startswith("# Organisation file")


def test_init_takes_jurisdictions_of_the_public_layer_only_and_writes_nothing_on_bad_input(project: Path) -> None:
    unknown = run_cli("init", "--jurisdiction", "mars", root=project)
    assert unknown.returncode == 2
    assert "expected a jurisdiction id of the public layer (cn, eu, hk, us); found 'mars'" in unknown.stderr
    bad_registry = run_cli("init", "--jurisdiction", "eu", "--registry", "Not A Host", root=project)
    assert bad_registry.returncode == 2
    assert "jurisdictions.eu.registries[0]" in bad_registry.stderr
    assert not (project / ORGANISATION_FILE).exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".")] == []  # no temporary file left


def test_init_output_elsewhere_is_used_through_the_flag_or_the_environment(project: Path, tmp_path: Path) -> None:
    app = project.parent / "app.yaml"
    elsewhere = tmp_path / "org" / "acme.yaml"
    assert run_cli("init", "--jurisdiction", "eu", "--registry", "ghcr.io", "--output", elsewhere,
                   root=project).returncode == 0
    by_flag = run_cli("check", "--manifests", app, *CHECK, "--organisation", elsewhere, root=project)
    by_env = run_cli("check", "--manifests", app, *CHECK, root=project,
                     env={ORGANISATION_ENV: str(elsewhere)})
    for result in (by_flag, by_env):
        assert result.returncode == 1, result.stderr
        assert _registry_rules(result.stdout) == [] and WARNING not in result.stderr
    assert by_flag.stdout == by_env.stdout


def test_the_example_judging_the_example_stacks_says_nothing(project: Path) -> None:
    """validate of a stack the example names is quiet (the fixture project's example names the fixture stack);
    of another stack it warns, once."""
    quiet = run_cli("validate", "--organisation", project / "examples" / "automaker" / ORGANISATION_FILE,
                    root=project)
    assert quiet.returncode == 0, quiet.stderr
    assert WARNING not in quiet.stderr
    (project / "stacks" / "Pulumi.fixture-cn.yaml").rename(project / "stacks" / "Pulumi.team-cn.yaml")
    other = run_cli("validate", root=project)
    assert other.returncode == 0, other.stderr
    assert other.stderr.count(WARNING) == 1 and "stack(s) team-cn" in other.stderr


def test_a_bad_organisation_file_is_bad_input_naming_file_and_key_path(project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('name: "x"\nversion: "1"\njurisdictions:\n  mars: {}\n  eu: {registries: [1]}\n', encoding="utf-8")
    result = run_cli("validate", "--organisation", bad, root=project)
    assert result.returncode == 2
    assert f"{bad}: jurisdictions.eu.registries[0]: expected" in result.stderr
    missing = run_cli("validate", "--organisation", tmp_path / "none.yaml", root=project)
    assert missing.returncode == 2 and "none.yaml" in missing.stderr
