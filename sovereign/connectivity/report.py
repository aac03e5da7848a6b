"""ConnectivityReport: the answers (reach, query, cross-border paths) over an evaluated cluster."""

from __future__ import annotations

from typing import Any

from sovereign.connectivity.model import Answer, CrossBorderPath, IgnoredPolicy, Reach


class ConnectivityReport:
    """Read-only result of ``analyze``; answers are computed lazily from the evaluated classes."""

    workloads: tuple[str, ...]
    ignored_policies: list[IgnoredPolicy]

    def reach(self, src_ref: str) -> list[Reach]:
        raise NotImplementedError

    def query(self, src_ref: str, dst: str, port: int | None, protocol: str = "TCP") -> Answer:
        raise NotImplementedError

    def cross_border(self) -> list[CrossBorderPath]:
        raise NotImplementedError

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError
