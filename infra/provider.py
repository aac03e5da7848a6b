"""The one explicit Kubernetes provider per stack: a real cluster when a kubeconfig secret is configured,
otherwise renderYamlToDirectory so ``pulumi up`` works offline (trade-offs in docs/program.md).

Provider options and why (pulumi/pulumi-kubernetes ``provider/pkg/provider/provider.go``, docs/program.md):
* ``clusterIdentifier``: without it the provider is replaced, and with it every object of the stack, whenever the
  active cluster's entry in the kubeconfig changes (a CA rotation, a new endpoint). With it, only a change of the
  identifier replaces. The identifier names the target: ``<jurisdiction>/<cluster name>`` for a cluster,
  ``render:<directory>`` for a render, so moving a stack between the two (a new deployment, not an update) or
  to another render directory still replaces, and the protected objects (infra/lifecycle.py) stop it.
* ``alwaysRender`` (render mode, pulumi-kubernetes >= 4.26.0): every ``pulumi up`` rewrites every manifest, so
  the directory comes back after ``make clean`` deleted it; without it an unchanged object is not rewritten.
"""

from __future__ import annotations

import os
from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s

from sovereign.core.ambient_cluster import NO_AMBIENT_CLUSTER, ambient_cluster


def provider_name(stack: str) -> str:
    return f"k8s-{stack}"


def cluster_identifier(jurisdiction: str, cluster_name: str, render_dir: str, *, render: bool) -> str:
    """What the provider's replacement follows: the cluster the stack targets, or the render directory."""
    return f"render:{render_dir}" if render else f"{jurisdiction}/{cluster_name}"


def render_mode_refusal(environ: dict[str, str] | None = None, home: Path | None = None) -> str | None:
    """Why a render must not run in this environment (the provider would read and contact an ambient cluster),
    or None. The provider cannot be told "no cluster" through its inputs in render mode; see
    sovereign/core/ambient_cluster.py."""
    found = ambient_cluster(dict(os.environ) if environ is None else environ, Path.home() if home is None else home)
    if found is None:
        return None
    setting = " ".join(f"{k}={v}" for k, v in NO_AMBIENT_CLUSTER.items())
    return (
        f"render mode (no secret sovereign-clusters:kubeconfig): the Kubernetes provider would read the cluster "
        f"in {found} and contact it, even though it only writes files; a render must not touch any cluster, "
        f"which may be in another jurisdiction. Run with {setting} (e.g. `{setting} pulumi up --stack <stack>`), "
        f"or set the stack's kubeconfig secret to deploy to its own cluster."
    )


def kubernetes_provider(
    stack: str, kubeconfig: pulumi.Output[str] | None, render_dir: str, *, jurisdiction: str, cluster_name: str
) -> k8s.Provider:
    """Switching between the two modes (or changing render_dir) changes the cluster identifier and so replaces
    the provider and, with it, every Kubernetes resource of the stack; protected objects make that fail."""
    render = kubeconfig is None
    identifier = cluster_identifier(jurisdiction, cluster_name, render_dir, render=render)
    if kubeconfig is not None:
        return k8s.Provider(
            provider_name(stack),
            kubeconfig=pulumi.Output.secret(kubeconfig),  # type: ignore[arg-type]
            cluster_identifier=identifier,
        )
    return k8s.Provider(
        provider_name(stack), render_yaml_to_directory=render_dir, always_render=True, cluster_identifier=identifier
    )


def target_description(kubeconfig_configured: bool, render_dir: str) -> dict[str, str]:
    if kubeconfig_configured:
        return {"mode": "cluster", "kubeconfig": "secret sovereign-clusters:kubeconfig"}
    return {"mode": "render", "renderYamlToDirectory": render_dir}
