"""What the user asked for: resource ranges, preference order, dates, the window's T0."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from boxoffice.errors import ConfigurationError
from boxoffice.jobs.book.plan import (
    candidates,
    make_slot,
    parse_at,
    parse_attributes,
    parse_ids,
    window_opens,
)
from boxoffice.platforms.booked.models import Slot

ZURICH = "Europe/Zurich"


def test_ranges_and_lists() -> None:
    assert parse_ids("231-235,240") == [231, 232, 233, 234, 235, 240]
    assert parse_ids("5, 3, 5") == [5, 3]


@pytest.mark.parametrize("bad", ["231-", "abc", "262-231"])
def test_bad_ranges_are_clear_errors(bad: str) -> None:
    with pytest.raises(ConfigurationError, match="--resources"):
        parse_ids(bad)


def test_candidates_preferred_first_then_ascending_without_taken() -> None:
    resources = parse_ids("231-240")
    got = candidates(resources, prefer=[240, 233, 999], taken=[233, 232])
    assert got == [240, 231, 234, 235, 236, 237, 238, 239]
    assert len(got) <= len(resources)


def test_no_candidates_when_everything_is_taken() -> None:
    assert candidates([1, 2], prefer=[2], taken=[1, 2]) == []


def test_relative_date_counts_in_the_schedule_zone() -> None:
    # 23:30 UTC on 30 Nov is already 1 Dec in Zurich: "+7" is 8 Dec there.
    now = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    slot = make_slot("+7", "09:00", "12:00", ZURICH, now=now)
    assert slot.start.date() == date(2026, 12, 8)


def test_window_opens_days_before_at_local_midnight() -> None:
    slot = Slot.local(date(2026, 12, 1), time(9), time(12), ZURICH)
    t0 = window_opens("7 days before 00:00", slot)
    assert t0 == datetime(2026, 11, 23, 23, 0, tzinfo=UTC)


def test_window_opens_across_the_dst_change() -> None:
    # Slot on Mon 2026-10-26 (CET, +01:00); window 1 day before at 00:00 is Sun 2026-10-25
    # 00:00 — still CEST (+02:00), so 22:00 UTC the day before.
    slot = Slot.local(date(2026, 10, 26), time(9), time(12), ZURICH)
    assert window_opens("1 day before 00:00", slot) == datetime(2026, 10, 24, 22, tzinfo=UTC)
    assert window_opens("2 days ahead at 00:00", slot).astimezone(UTC).hour == 22


def test_window_spec_typo_is_a_clear_error() -> None:
    slot = Slot.local(date(2026, 12, 1), time(9), time(12), ZURICH)
    with pytest.raises(ConfigurationError, match="--opens"):
        window_opens("a week before midnight", slot)


def test_at_without_offset_is_in_the_schedule_zone() -> None:
    assert parse_at("2026-11-24T00:00:00", ZURICH) == datetime(2026, 11, 23, 23, tzinfo=UTC)
    assert parse_at("2026-11-24T00:00:00+01:00", "UTC") == datetime(2026, 11, 23, 23, tzinfo=UTC)
    with pytest.raises(ConfigurationError, match="--at"):
        parse_at("tomorrow", ZURICH)


def test_attributes() -> None:
    assert parse_attributes(["1=Physics", "4=a=b"]) == {1: "Physics", 4: "a=b"}
    with pytest.raises(ConfigurationError, match="ID=VALUE"):
        parse_attributes(["dept:Physics"])


def test_plan_from_settings_at_opens_and_now() -> None:
    from boxoffice.jobs.book.runner import plan_from
    from boxoffice.settings.book import BookSettings

    book = BookSettings(
        resources="231-233",
        prefer="233",
        date="2026-12-01",
        start="09:00",
        end="12:00",
        opens="7 days before 00:00",
        attributes={"1": "Physics"},
    )
    now = datetime(2026, 11, 20, tzinfo=UTC)  # the clock is injected: any day before the slot
    by_opens = plan_from(book, now=now)
    assert by_opens.at == datetime(2026, 11, 23, 23, tzinfo=UTC)
    assert by_opens.prefer == [233]
    assert by_opens.attributes == {1: "Physics"}
    by_at = plan_from(book, at="2026-11-24T00:00:05+01:00", now=now)
    assert by_at.at == datetime(2026, 11, 23, 23, 0, 5, tzinfo=UTC)
    assert plan_from(book, at="2026-11-24T00:00:05", now_flag=True, now=now).at is None


def test_plan_from_refuses_a_slot_that_has_started_in_the_schedules_zone() -> None:
    from boxoffice.jobs.book.runner import plan_from
    from boxoffice.settings.book import BookSettings

    book = BookSettings(resources="231", date="2026-12-01", start="09:00", end="12:00")
    starts = datetime(2026, 12, 1, 8, tzinfo=UTC)  # 09:00 in Zurich
    assert plan_from(book, now=starts - timedelta(seconds=1)).slot.start == starts
    for now in (starts, starts + timedelta(hours=1), starts + timedelta(days=400)):
        with pytest.raises(ConfigurationError, match=r"2026-12-01 09:00–12:00 \(Europe/Zurich\)"):
            plan_from(book, now=now)


def test_plan_from_settings_names_what_is_missing() -> None:
    from boxoffice.jobs.book.runner import plan_from
    from boxoffice.settings.book import BookSettings

    with pytest.raises(ConfigurationError, match="no resources"):
        plan_from(BookSettings(date="+1", start="09:00", end="10:00"))
    with pytest.raises(ConfigurationError, match="--start, --end"):
        plan_from(BookSettings(resources="1-3", date="+1"))
