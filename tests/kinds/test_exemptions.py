"""One exemption format: parsing, what an exemption covers, when it expires, how a suppressed finding is reported."""

from __future__ import annotations

from datetime import UTC, datetime

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sovereign.core.exemptions import (
    EXEMPTIONS_SCHEMA,
    ExemptionError,
    match,
    parse_exemptions,
    parse_suppressed,
    suppressed_message,
)

GOOD = {"kind": "Widget", "namespace": "team-*", "reason": "reviewed in SEC-1", "approver": "a@b.c",
        "expires": "2027-03-31"}


def test_a_valid_exemption_passes_the_published_schema_and_the_parser() -> None:
    jsonschema.Draft4Validator(EXEMPTIONS_SCHEMA).validate([GOOD])
    [e] = parse_exemptions("unjudged-object", [GOOD])
    assert (e.kind, e.namespace, e.index) == ("Widget", "team-*", 0)


@pytest.mark.parametrize(("item", "fragment"), [
    ({**GOOD, "reason": ""}, "reason: a non-empty string is required"),
    ({k: v for k, v in GOOD.items() if k != "approver"}, "approver: a non-empty string is required"),
    ({**GOOD, "expires": "31/03/2027"}, "expected a date YYYY-MM-DD"),
    ({**GOOD, "expires": "2027-02-30"}, "not a calendar date"),
    ({"reason": "r", "approver": "a", "expires": "2027-01-01"}, "no blanket exemptions"),
    ({**GOOD, "colour": "blue"}, "unknown keys ['colour']"),
])
def test_malformed_exemptions_are_refused_by_parser_and_schema(item: dict[str, str], fragment: str) -> None:
    with pytest.raises(ExemptionError) as err:
        parse_exemptions("r", [item], key_path=("r",))
    assert fragment in str(err.value) and str(err.value).startswith("r.exemptions.0")
    if "calendar" not in fragment:  # the schema's date pattern cannot know February has no 30th
        assert list(jsonschema.Draft4Validator(EXEMPTIONS_SCHEMA).iter_errors([item]))


def test_what_an_exemption_covers() -> None:
    [e] = parse_exemptions("r", [GOOD])
    assert e.covers("Widget", "example.com", "team-a", "w")
    assert not e.covers("Widget", "example.com", "platform", "w")
    assert not e.covers("Gadget", "example.com", "team-a", "w")
    [g] = parse_exemptions("r", [{**GOOD, "apiGroup": "example.com"}])
    assert g.covers("Widget", "example.com", "team-a", "w") and not g.covers("Widget", "other.io", "team-a", "w")


def test_an_exemption_is_valid_through_its_whole_expiry_day() -> None:
    [e] = parse_exemptions("r", [GOOD])
    assert e.active(datetime(2027, 3, 31, 23, 59, 59, tzinfo=UTC))
    assert not e.active(datetime(2027, 4, 1, 0, 0, 0, tzinfo=UTC))
    found = match([e], "Widget", "", "team-a", "w", datetime(2027, 4, 1, tzinfo=UTC))
    assert found.active is None and found.expired == (e,)


@given(st.text(min_size=1).filter(lambda t: t.strip() and ")" not in t),
       st.text(min_size=1, alphabet=st.characters(blacklist_characters="\n\r")).filter(lambda t: t.strip()))
def test_a_suppressed_finding_reads_back(reason: str, finding: str) -> None:
    [e] = parse_exemptions("no-host-access", [{**GOOD, "reason": reason}])
    message = suppressed_message("no-host-access", "DaemonSet kube-system/agent", finding, e)
    back = parse_suppressed(message)
    assert back is not None
    assert (back.rule, back.subject, back.exemption_index, back.expires) == (
        "no-host-access", "DaemonSet kube-system/agent", 0, "2027-03-31")
    assert back.finding == finding.strip() or message.strip().endswith(")")
