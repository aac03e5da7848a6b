"""Transfers as the stack declares them and as objects claim them (transfer annotations).

A transfer is approved in the stack config (``sovereign-clusters:transfers``); the program renders its path as
policies annotated with ``sovereign-clusters.dev/transfer*``. The stack rules check both sides: that every
declared transfer is lawful and current, and that every annotated policy belongs to one that is.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from policies.framework.context import RuleContext
from policies.framework.k8s import K8sObject
from policies.framework.values import text
from sovereign.core.labels import (
    TRANSFER_APPROVAL,
    TRANSFER_DATA_CLASSES,
    TRANSFER_DESTINATION,
    TRANSFER_ID,
    TRANSFER_REGULATOR,
    TRANSFER_VALID_FROM,
    TRANSFER_VALID_UNTIL,
)

if TYPE_CHECKING:
    from sovereign.stackconfig.model import Transfer


@dataclass(frozen=True)
class Claim:
    """What one annotated object says about the transfer(s) it implements."""

    obj: K8sObject
    ids: tuple[str, ...]
    approval: str
    regulator: str
    destination: str
    data_classes: tuple[str, ...]
    valid_from: str
    valid_until: str


def claims(objects: Sequence[K8sObject]) -> Iterator[Claim]:
    for obj in objects:
        ann = obj.annotations()
        ids = tuple(sorted(i.strip() for i in text(ann.get(TRANSFER_ID)).split(",") if i.strip()))
        approval = text(ann.get(TRANSFER_APPROVAL))
        if not ids and not approval:
            continue
        yield Claim(
            obj=obj,
            ids=ids,
            approval=approval,
            regulator=text(ann.get(TRANSFER_REGULATOR)),
            destination=text(ann.get(TRANSFER_DESTINATION)),
            data_classes=tuple(sorted(d for d in text(ann.get(TRANSFER_DATA_CLASSES)).replace(".", ",").split(",")
                                      if d.strip())),
            valid_from=text(ann.get(TRANSFER_VALID_FROM)),
            valid_until=text(ann.get(TRANSFER_VALID_UNTIL)),
        )


def lawfulness_problems(ctx: RuleContext, t: Transfer) -> list[str]:
    """Why the catalog does not let this transfer's data leave for its destination (empty: it does)."""
    jur = ctx.jurisdiction
    dest = t.destination.jurisdiction
    problems = []
    if not t.approval_reference.strip():
        problems.append("it has no approval reference")
    if dest == jur.id:
        problems.append(f"its destination is {dest}, its own jurisdiction")
    dest_jur = ctx.catalog.jurisdiction(dest)
    if dest_jur is None:
        problems.append(f"destination jurisdiction {dest!r} is not in the catalog")
    else:
        stray = [str(c) for c in t.destination.cidrs if not dest_jur.owns_address(c)]
        if stray:
            problems.append(f"destination CIDR(s) {', '.join(stray)} are not networks of {dest}")
        stray_domains = [d for d in t.destination.domains if not dest_jur.owns_domain(d.lstrip("*."))]
        if stray_domains:
            problems.append(f"destination domain(s) {', '.join(stray_domains)} are not domains of {dest}")
    for dc_id in t.data_classes:
        dc = jur.data_class(dc_id)
        if dc is None:
            problems.append(f"data class {dc_id} is not defined for {jur.id}")
            continue
        if not dc.may_leave_to(dest, approved=True):
            where = f" (allowed destinations: {', '.join(dc.destinations)})" if dc.destinations else ""
            problems.append(f"data class {dc_id} may not leave {jur.id} for {dest}: catalog export mode "
                            f"{dc.export.value}{where} (as of {dc.provenance.as_of}, {dc.provenance.source})")
        if dc.regulator and t.regulator and dc.regulator != t.regulator:
            problems.append(f"data class {dc_id} is regulated by {dc.regulator}, but the approval is from "
                            f"{t.regulator}")
    return problems


def window_problem(t: Transfer, at: datetime) -> str | None:
    """Why the transfer is not valid at ``at`` (None: it is); the state is the stack model's one rule."""
    from sovereign.stackconfig.model import TransferState

    state = t.state(at)
    if state is TransferState.PENDING:
        return f"it is not valid before {t.valid_from.isoformat()} (evaluation time {at.isoformat()})"
    if state is TransferState.EXPIRED:
        return f"it expired on {t.valid_until.isoformat()} (evaluation time {at.isoformat()})"
    return None
