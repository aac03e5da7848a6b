"""Entry point: build the inventory, translate policies, evaluate (implementation lands next commit)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sovereign.catalog.model import Catalog, IPNetwork
from sovereign.connectivity.model import CniParams
from sovereign.connectivity.report import ConnectivityReport


def analyze(
    objects: Sequence[Mapping[str, Any]],
    *,
    cni: CniParams,
    catalog: Catalog | None = None,
    jurisdiction: str | None = None,
    cluster_cidrs: Sequence[IPNetwork] = (),
) -> ConnectivityReport:
    """Compute what every workload can reach; see the package docstring."""
    raise NotImplementedError("engine lands in the next commit")
