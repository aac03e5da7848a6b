"""What every check report discloses besides findings: the catalog layers it judged with and the cross-border
transfers each stack declares, with their state at the evaluation time.

A reviewer (and, behind them, the legal team) must see from the report alone what may leave and under which
approval, and against which facts it was judged: a pass means little without the date, the catalog version and
the list of open doors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sovereign.catalog.model import Catalog
from sovereign.check.model import CatalogLayer, TransferStatus
from sovereign.core.errors import InputError
from sovereign.stackconfig.namespace import PREFIX

TRANSFERS_KEY = PREFIX + "transfers"


def catalog_layers(catalog: Catalog) -> tuple[CatalogLayer, ...]:
    """The public layer, then the organisation's (flagged when it is the bundled example)."""
    public = CatalogLayer("public", "sovereign-clusters", catalog.version, catalog.as_of.isoformat())
    org = catalog.organisation
    if not org.name:
        return (public,)
    note = "example organisation: its facts are made up" if org.example else ""
    return public, CatalogLayer("organisation", org.name, org.version, source=org.path, note=note)


def transfer_statuses(config: Mapping[str, str], *, stack: str, source: str, catalog: Catalog,
                      at: datetime) -> tuple[TransferStatus, ...]:
    """The transfers of a stack's display config (a render's or a stack file's), by id; none for plain manifests.

    The config was validated when the stack was rendered; a config that no longer validates has no transfers to
    show here (its problems are the check's findings)."""
    if TRANSFERS_KEY not in config:
        return ()
    from sovereign.stackconfig.loader import parse_display_config  # the stack validator: only when needed

    try:
        parsed = parse_display_config(config, stack=stack, source_file=source, catalog=catalog)
    except InputError:
        return ()
    return tuple(sorted(
        TransferStatus(
            id=t.id,
            state=t.state(at).value,
            approval_reference=t.approval_reference,
            regulator=t.regulator,
            destination=t.destination.jurisdiction,
            data_classes=t.data_classes,
            source_workloads=t.source_workloads,
            valid_from=t.valid_from.isoformat(),
            valid_until=t.valid_until.isoformat(),
            scope=t.scope,
            note=t.note,
        )
        for t in parsed.transfers
    ))
