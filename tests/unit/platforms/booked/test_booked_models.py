"""Slots and timestamps: the schedule's zone vs UTC in payloads, across DST changes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest

from boxoffice.core.http import CookieRecord
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.booked.booked3 import reservation_payload as booked3_payload
from boxoffice.platforms.booked.librebooking import reservation_payload as libre_payload
from boxoffice.platforms.booked.models import (
    BookedSession,
    BookingRequest,
    Slot,
    iso_offset,
    iso_utc_ms,
    parse_when,
)

ZURICH = "Europe/Zurich"


def test_winter_slot_is_one_hour_ahead_of_utc() -> None:
    slot = Slot.local(date(2026, 12, 1), time(9), time(12), ZURICH)
    assert iso_utc_ms(slot.start) == "2026-12-01T08:00:00.000Z"
    assert iso_offset(slot.end) == "2026-12-01T11:00:00+0000"


def test_summer_slot_is_two_hours_ahead_of_utc() -> None:
    slot = Slot.local(date(2026, 7, 1), time(9), time(12), ZURICH)
    assert iso_utc_ms(slot.start) == "2026-07-01T07:00:00.000Z"


def test_dst_end_day_2026_10_25() -> None:
    # Clocks go back at 03:00 CEST → 02:00 CET on 2026-10-25.
    before = Slot.local(date(2026, 10, 24), time(9), time(12), ZURICH)
    on = Slot.local(date(2026, 10, 25), time(9), time(12), ZURICH)
    assert iso_utc_ms(before.start) == "2026-10-24T07:00:00.000Z"
    assert iso_utc_ms(on.start) == "2026-10-25T08:00:00.000Z"
    # A slot spanning the change lasts one hour longer than its wall-clock width.
    night = Slot.local(date(2026, 10, 25), time(1), time(4), ZURICH)
    assert (night.end_utc - night.start_utc).total_seconds() == 4 * 3600


def test_dst_start_day_2027_03_28() -> None:
    on = Slot.local(date(2027, 3, 28), time(9), time(12), ZURICH)
    assert iso_utc_ms(on.start) == "2027-03-28T07:00:00.000Z"


def test_payloads_carry_utc_times() -> None:
    slot = Slot.local(date(2026, 12, 1), time(9), time(12), ZURICH)
    req = BookingRequest(slot, 240, owner_id="42", attributes={1: "Physics"}, timezone=ZURICH)
    b3 = booked3_payload(req, owner_id="42", accepted_at=datetime(2026, 11, 24, tzinfo=UTC))
    assert b3["reservation"]["start"] == "2026-12-01T08:00:00.000Z"
    assert b3["reservation"]["end"] == "2026-12-01T11:00:00.000Z"
    assert b3["reservation"]["resourceIds"] == [240]
    assert b3["reservation"]["attributeValues"] == [{"id": 1, "value": "Physics"}]
    assert b3["updateScope"] == "full"
    lb = libre_payload(req, user_id="42")
    assert lb["startDateTime"] == "2026-12-01T08:00:00+0000"
    assert lb["customAttributes"] == [{"attributeId": 1, "attributeValue": "Physics"}]
    json.dumps(b3)
    json.dumps(lb)


def test_parse_when_handles_server_formats() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(ZURICH)
    assert parse_when("2026-12-01 09:00:00", tz) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_when("2026-12-01T09:00:00+0100", tz) == datetime(2026, 12, 1, 8, tzinfo=UTC)
    assert parse_when("2026-12-01T08:00:00.000Z", tz) == datetime(2026, 12, 1, 8, tzinfo=UTC)


def test_slot_end_before_start_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="before it starts"):
        Slot.local(date(2026, 12, 1), time(12), time(9), ZURICH)


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ConfigurationError, match="unknown time zone"):
        Slot.local(date(2026, 12, 1), time(9), time(12), "Europe/Zürich")


def test_session_round_trip_and_expiry() -> None:
    token = CookieRecord("login_token", "abc", "x", "/Web", secure=True, http_only=True)
    s = BookedSession("booked3", "http://x/Web", "me", [token], "csrf", None, "42")
    again = BookedSession.from_json(json.loads(json.dumps(s.to_json())))
    assert again == s
    assert not s.expired(now=s.created_at + 6 * 3600 - 1)
    assert s.expired(now=s.created_at + 6 * 3600)
