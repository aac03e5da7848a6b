"""Which cluster the Kubernetes provider would find in the environment when the program gives it no kubeconfig.

In render mode (``renderYamlToDirectory``) the provider still configures a client the way kubectl does and, if
that finds a cluster, asks it for its version and API resources (pulumi/pulumi-kubernetes
``provider/pkg/provider/provider.go``, ``Configure``; docs/pulumi-runtime.md §4). Its ``Check`` refuses an
explicit kubeconfig, context or cluster next to ``renderYamlToDirectory`` unless the kubeconfig equals
``$KUBECONFIG``, and the Python SDK fills an unset kubeconfig from ``$KUBECONFIG``. So a render cannot be told
"no cluster" through its inputs; only the environment decides, and the program must refuse to render while the
environment names a cluster (which may sit in another jurisdiction).

The provider finds a cluster:
* with ``KUBECONFIG`` set: in the file it names (the SDK passes the value as the provider's kubeconfig);
* without it: in ``~/.kube/config``, else in-cluster (``KUBERNETES_SERVICE_HOST``/``_PORT`` and the service
  account token, as client-go's in-cluster config looks for them).
``KUBECONFIG=/dev/null`` (:data:`NO_AMBIENT_CLUSTER`) names an empty kubeconfig: no cluster, no contact.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import yaml

NO_AMBIENT_CLUSTER: dict[str, str] = {"KUBECONFIG": os.devnull}
"""The environment under which the provider finds no cluster; the mock harnesses run the program with it, as
docs/program.md tells users to run ``pulumi up`` in render mode."""

IN_CLUSTER_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def _names_a_cluster(path: Path) -> bool:
    """Whether the kubeconfig file at ``path`` lists a cluster; an unreadable or unparsable one counts as
    naming one (closed world: we cannot tell what the provider would make of it)."""
    if str(path) == os.devnull:
        return False
    try:
        text = path.read_text()
    except FileNotFoundError:
        return False
    except OSError:
        return True
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return True
    if doc is None:
        return False
    return not isinstance(doc, dict) or bool(doc.get("clusters"))


def ambient_cluster(environ: Mapping[str, str], home: Path, token: Path = IN_CLUSTER_TOKEN) -> str | None:
    """Where the provider would find a cluster in this environment (for the error message), or None."""
    kubeconfig = environ.get("KUBECONFIG")
    if kubeconfig:
        named = [Path(p) for p in kubeconfig.split(os.pathsep) if p]
        if len(named) != 1:
            return f"KUBECONFIG={kubeconfig} (the provider reads it as one path or as kubeconfig text)"
        return f"KUBECONFIG={kubeconfig}" if _names_a_cluster(named[0]) else None
    default = home / ".kube" / "config"
    if _names_a_cluster(default):
        return str(default)
    if environ.get("KUBERNETES_SERVICE_HOST") and environ.get("KUBERNETES_SERVICE_PORT") and token.exists():
        return "the in-cluster service account (KUBERNETES_SERVICE_HOST)"
    return None
