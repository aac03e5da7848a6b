"""Pair the stacks of two render directories and compute posture + resource differences for each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sovereign.catalog.model import Catalog
from sovereign.check.model import Violation
from sovereign.diff.flowmap import FlowEdge, flow_edges, mermaid
from sovereign.diff.posture import Posture, PostureDiff, compare, posture_of
from sovereign.diff.resources import ResourceChange, diff_resources
from sovereign.render.rendered import RenderedStack, find_renders, load_render

PolicyRunner = Callable[[RenderedStack], Sequence[Violation]]


@dataclass
class StackDiff:
    stack: str
    status: str
    """``added``, ``removed``, ``changed`` or ``unchanged``."""
    posture: PostureDiff
    resources: list[ResourceChange]
    notes: list[str] = field(default_factory=list)
    """What the connectivity proof of each side says about its input (e.g. duplicate objects: the last one
    counts), prefixed ``BASE:`` or ``HEAD:``."""


@dataclass
class DiffResult:
    base_label: str
    head_label: str
    at: datetime
    expiring_days: int
    policy_checked: bool
    stacks: list[StackDiff] = field(default_factory=list)
    flow_edges: list[FlowEdge] = field(default_factory=list)
    """HEAD's flow map as data: transfers by their state at ``at``, unapproved cross-border flows."""
    flow_map: str = ""
    """The same map in Mermaid."""

    @property
    def exit_code(self) -> int:
        """1 when the change adds a mandatory violation or a cross-border flow no transfer approves."""
        for s in self.stacks:
            if any(v.mandatory for v in s.posture.policy_added) or s.posture.unapproved_flows_added:
                return 1
        return 0


def _renders(directory: Path) -> dict[str, RenderedStack]:
    out: dict[str, RenderedStack] = {}
    for d in find_renders(directory):
        rendered = load_render(d)
        out[rendered.stack] = rendered
    return out


def diff_render_dirs(
    base_dir: Path,
    head_dir: Path,
    *,
    catalog: Catalog,
    at: datetime,
    expiring_days: int,
    policy: PolicyRunner | None,
    base_label: str,
    head_label: str,
    progress: Callable[[str], None] | None = None,
) -> DiffResult:
    base, head = _renders(base_dir), _renders(head_dir)
    if len(base) == 1 and len(head) == 1 and set(base) != set(head):
        # Two single-stack directories: compare them whatever their stack names.
        only_base, (h_name, only_head) = next(iter(base.values())), next(iter(head.items()))
        base, head = {h_name: only_base}, {h_name: only_head}
    result = DiffResult(base_label, head_label, at, expiring_days, policy is not None)
    head_postures: list[Posture] = []
    for stack in sorted(set(base) | set(head)):
        b, h = base.get(stack), head.get(stack)
        b_posture = posture_of(b, catalog, at) if b else None
        h_posture = posture_of(h, catalog, at) if h else None
        if h_posture:
            head_postures.append(h_posture)
        b_viol = list(policy(b)) if (policy and b) else []
        h_viol = list(policy(h)) if (policy and h) else []
        posture = compare(
            b_posture,
            h_posture,
            at=at,
            expiring_days=expiring_days,
            base_violations=b_viol,
            head_violations=h_viol,
        )
        resources = diff_resources(b, h)
        status = (
            "added"
            if b is None
            else "removed"
            if h is None
            else ("changed" if resources or not posture.is_empty() else "unchanged")
        )
        notes = [f"{side}: {note}" for side, found in (("BASE", b_posture), ("HEAD", h_posture)) if found
                 for note in found.notes]
        result.stacks.append(StackDiff(stack, status, posture, resources, notes))
        if progress is not None:
            progress(f"{stack}: {status}")
    result.flow_edges = flow_edges(head_postures, at)
    result.flow_map = mermaid(head_postures, result.flow_edges)
    return result
