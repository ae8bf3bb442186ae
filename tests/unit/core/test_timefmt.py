"""UTC timestamps as text: one formatter, ISO-8601 with a Z, fixed width per timespec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from boxoffice.core.timefmt import utc_iso, utc_now

MOMENT = datetime(2026, 11, 22, 3, 23, 5, 120000, tzinfo=UTC)


def test_seconds_by_default_with_a_z() -> None:
    assert utc_iso(MOMENT) == "2026-11-22T03:23:05Z"


def test_other_zones_are_converted_to_utc() -> None:
    berlin = MOMENT.astimezone(timezone(timedelta(hours=1)))
    assert utc_iso(berlin) == "2026-11-22T03:23:05Z"


def test_timespecs_keep_a_fixed_width() -> None:
    assert utc_iso(MOMENT, timespec="milliseconds") == "2026-11-22T03:23:05.120Z"
    assert utc_iso(MOMENT, timespec="microseconds") == "2026-11-22T03:23:05.120000Z"
    whole = MOMENT.replace(microsecond=0)
    assert utc_iso(whole, timespec="microseconds") == "2026-11-22T03:23:05.000000Z"
    assert utc_iso(whole, timespec="milliseconds") == "2026-11-22T03:23:05.000Z"


def test_now_when_no_time_is_given() -> None:
    before = utc_now().replace(microsecond=0)
    text = utc_iso()
    after = utc_now()
    assert text.endswith("Z")
    assert len(text) == len("2026-11-22T03:23:05Z")
    parsed = datetime.fromisoformat(text)
    assert before <= parsed <= after
    assert utc_now().tzinfo is UTC
