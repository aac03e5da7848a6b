"""A directory of small manifests for the manifest parse helper's tests (tests/cli/test_manifest_parse_helper.py,
parse_helper_probe.py, test_check_on_idle_cores.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

FILES = 40


def write_manifests(root: Path, count: int = FILES) -> Path:
    """A Namespace, then ConfigMaps, Secrets and Deployments; some files hold a List, some two documents, some are
    JSON."""
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
        elif i % 13 == 0:
            secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "namespace": "team"},
                      "stringData": {"token": f"token-{i}"}}
            (root / f"{i:03d}-secret.yaml").write_text(yaml.safe_dump(secret))
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
