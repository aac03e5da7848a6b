"""The pack finds the organisation file the way the Pulumi CLI starts it: ``python -m pulumi.policy`` in the pack
directory, with the CLI's environment (docs/pulumi-runtime.md §2): ``$SOVEREIGN_ORGANISATION`` (absolute, or
relative to the project root), else ``organisation.yaml`` at the project root, else the example organisation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from residency_testkit import EVALUATION_AT, PACK_DIR

from sovereign.analyzer.client import PolicyPackProcess
from sovereign.analyzer.resource import resource_from_manifest
from sovereign.core.paths import ORGANISATION_ENV, ORGANISATION_FILE, ROOT_ENV, project_root

TEAM_REGISTRY = "ghcr.io"
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "web", "namespace": "shop"},
    "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}},
                     "spec": {"containers": [{"name": "web", "image": f"{TEAM_REGISTRY}/acme/web:1.0"}]}},
    },
}
TEAM_ORGANISATION = f"""\
name: "Acme"
version: "3"
jurisdictions:
  eu:
    registries: ["{TEAM_REGISTRY}"]
"""


def _registry_findings(env: dict[str, str]) -> list[str]:
    """The image-registry findings on the team's Deployment, judged by a pack started as the CLI starts it."""
    with PolicyPackProcess.start(PACK_DIR, stack_config={"sovereign-clusters:jurisdiction": "eu"},
                                 env={"SOVEREIGN_AT": EVALUATION_AT, **env}) as pack:
        pack.configure({})
        found = pack.analyze(resource_from_manifest(DEPLOYMENT, stack="dev"))
    return [d.message for d in found if d.policy_name == "image-registry-allowed"]


def test_without_an_organisation_file_the_example_judges_and_flags_the_team_image() -> None:
    [message] = _registry_findings({})
    assert "registry.automaker.eu" in message


def test_the_pack_reads_the_organisation_file_named_by_the_environment(tmp_path: Path) -> None:
    team = tmp_path / "acme.yaml"
    team.write_text(TEAM_ORGANISATION, encoding="utf-8")
    assert _registry_findings({ORGANISATION_ENV: str(team)}) == []


def test_organisation_yaml_at_the_project_root_is_found_from_the_pack_directory(tmp_path: Path) -> None:
    """A project of its own (SOVEREIGN_ROOT), holding the pack and the public layer, and its organisation.yaml:
    found although the pack runs in policies/, as under ``pulumi preview --policy-pack policies``."""
    root = tmp_path / "project"
    root.mkdir()
    shutil.copyfile(project_root() / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "policies").symlink_to(PACK_DIR)
    (root / "stacks").symlink_to(project_root() / "stacks")
    (root / ORGANISATION_FILE).write_text(TEAM_ORGANISATION, encoding="utf-8")
    assert _registry_findings({ROOT_ENV: str(root)}) == []
    relative = root / "org" / "acme.yaml"  # a relative $SOVEREIGN_ORGANISATION is taken from the project root
    relative.parent.mkdir()
    relative.write_text(TEAM_ORGANISATION.replace(TEAM_REGISTRY, "quay.io"), encoding="utf-8")
    [message] = _registry_findings({ROOT_ENV: str(root), ORGANISATION_ENV: "org/acme.yaml"})
    assert "allowed: quay.io" in message


@pytest.mark.parametrize("text", ["name: x\n", "name: x\nversion: '1'\njurisdictions: {mars: {}}\n"])
def test_a_bad_organisation_file_fails_every_rule_closed(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with PolicyPackProcess.start(PACK_DIR, stack_config={"sovereign-clusters:jurisdiction": "eu"},
                                 env={"SOVEREIGN_AT": EVALUATION_AT, ORGANISATION_ENV: str(bad)}) as pack:
        pack.configure({})
        found = pack.analyze(resource_from_manifest(DEPLOYMENT, stack="dev"))
    assert found and all(d.mandatory for d in found)
    assert any("bad.yaml" in d.message for d in found)
