"""The evaluation time: when transfers are judged valid or expired.

Injectable everywhere (program, pack, check, diff) so CI is reproducible: ``--at`` on the CLI, the
``SOVEREIGN_AT`` environment variable for the Pulumi program, the ``at`` property in policy-pack config.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from sovereign.core.errors import InputError

AT_ENV = "SOVEREIGN_AT"
EXPIRY_WARNING_DAYS_ENV = "SOVEREIGN_EXPIRY_WARNING_DAYS"
DEFAULT_EXPIRY_WARNING_DAYS = 30


def parse_instant(text: str, *, source: str = "--at", key_path: tuple[str | int, ...] = ()) -> datetime:
    """ISO 8601 date or date-time; a date means its midnight UTC; naive times are UTC."""
    try:
        if len(text) == 10:
            d = date.fromisoformat(text)
            return datetime(d.year, d.month, d.day, tzinfo=UTC)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, TypeError):
        raise InputError(source, key_path, "an ISO 8601 date or date-time (e.g. 2026-11-25T00:00:00Z)", text) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def evaluation_time(explicit: str | None = None) -> datetime:
    """The explicit value, else ``$SOVEREIGN_AT``, else now (UTC)."""
    if explicit:
        return parse_instant(explicit)
    env = os.environ.get(AT_ENV)
    if env:
        return parse_instant(env, source=f"${AT_ENV}")
    return datetime.now(UTC)


def expiry_warning_window(configured: object = None) -> timedelta:
    """How long before a transfer's end the expiry warning starts: ``configured`` (the rule's ``warningDays`` policy
    config) when it is a number, else ``$SOVEREIGN_EXPIRY_WARNING_DAYS``, else 30 days. One rule, asked by the
    warning itself and by the check's verdict cache (which must know when the warning's text changes)."""
    if isinstance(configured, int | float) and not isinstance(configured, bool):
        return timedelta(days=float(configured))
    raw = os.environ.get(EXPIRY_WARNING_DAYS_ENV)
    if raw is None:
        return timedelta(days=DEFAULT_EXPIRY_WARNING_DAYS)
    try:
        days = int(raw)
    except ValueError:
        raise InputError(f"${EXPIRY_WARNING_DAYS_ENV}", (), "a whole number of days", raw) from None
    return timedelta(days=days)


def instant_text(at: datetime) -> str:
    """An instant as reports and ``--at`` write it: RFC 3339 UTC to the second (``2026-12-07T00:18:54Z``)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@contextlib.contextmanager
def one_evaluation_time(given: str | None) -> Iterator[str]:
    """The run's one evaluation time: ``given`` (``--at``), else this moment, which is then set as
    ``$SOVEREIGN_AT`` for the run (render workers and the pack read it, in this process or started by it; as
    policy config instead, the pack would validate a config for every policy), and restored afterwards."""
    if given:
        yield given
        return
    at = instant_text(evaluation_time())
    before = os.environ.get(AT_ENV)
    os.environ[AT_ENV] = at
    try:
        yield at
    finally:
        if before is None:
            os.environ.pop(AT_ENV, None)
        else:
            os.environ[AT_ENV] = before
