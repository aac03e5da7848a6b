"""Config overrides for variant builds: each starts from an example stack and changes one thing."""

from __future__ import annotations

import copy
from typing import Any

from program_support import stack_config_values

NS = "sovereign-clusters:"


def with_transfer(stack: str, source: str, destination: str, cidr: str, data_class: str) -> dict[str, Any]:
    """Adds one approved transfer (valid through 2026) from ``source`` (namespace/name)."""
    values = stack_config_values(stack)
    transfers = list(values.get(NS + "transfers", []))
    transfers.append(
        {
            "id": f"test-{data_class}-to-{destination}",
            "approvalReference": "TEST-APPROVAL-1",
            "regulator": "TEST-REGULATOR",
            "scope": f"{data_class} from {source} to {destination}",
            "note": "test approval",
            "dataClasses": [data_class],
            "sourceWorkloads": [source],
            "destination": {
                "jurisdiction": destination,
                "cidrs": [cidr],
                "ports": [
                    {"port": 443, "protocol": "TCP"},
                    {"port": 8000, "endPort": 8100, "protocol": "TCP"},
                ],
            },
            "validFrom": "2026-01-01T00:00:00Z",
            "validUntil": "2027-01-01T00:00:00Z",
        }
    )
    return {NS + "transfers": transfers}


def with_cni_enforcing(stack: str, enforces: list[str]) -> dict[str, Any]:
    cluster = copy.deepcopy(stack_config_values(stack)[NS + "cluster"])
    cluster["cni"]["enforces"] = enforces
    return {NS + "cluster": cluster}


def with_kubeconfig(secret: bool) -> dict[str, Any]:
    """A kubeconfig as the CLI hands it over: decrypted text, listed as secret (or, wrongly, plain)."""
    text = "apiVersion: v1\nkind: Config\nclusters: []\n"
    return {NS + "kubeconfig": {"secure": text} if secret else text}
