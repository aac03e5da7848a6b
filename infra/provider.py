"""The one explicit Kubernetes provider per stack: a real cluster when a kubeconfig secret is configured,
otherwise renderYamlToDirectory so ``pulumi up`` works offline (trade-offs in docs/program.md)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s


def provider_name(stack: str) -> str:
    return f"k8s-{stack}"


def kubernetes_provider(stack: str, kubeconfig: pulumi.Output[str] | None, render_dir: str) -> k8s.Provider:
    """Switching between the two modes (or changing render_dir) replaces the provider and, with it, every
    Kubernetes resource of the stack: the provider's DiffConfig marks both inputs as replace-on-change."""
    if kubeconfig is not None:
        return k8s.Provider(provider_name(stack), kubeconfig=pulumi.Output.secret(kubeconfig))  # type: ignore[arg-type]
    return k8s.Provider(provider_name(stack), render_yaml_to_directory=render_dir)


def target_description(kubeconfig_configured: bool, render_dir: str) -> dict[str, str]:
    if kubeconfig_configured:
        return {"mode": "cluster", "kubeconfig": "secret sovereign-clusters:kubeconfig"}
    return {"mode": "render", "renderYamlToDirectory": render_dir}
