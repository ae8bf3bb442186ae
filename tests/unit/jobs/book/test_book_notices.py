"""Which events a race report makes: won, pending, contested, lost with the best outcome."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from boxoffice.jobs.book.keep_trying import next_wait, parse_duration
from boxoffice.jobs.book.notices import book_events
from boxoffice.jobs.book.race import Attempt, RacePlan, RaceReport
from boxoffice.platforms.booked.models import Slot

START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
PLAN = RacePlan(slot=Slot(START, START + timedelta(hours=2)), resources=[1, 2, 3])


def test_lost_names_the_best_outcome() -> None:
    report = RaceReport(
        candidates=[1, 2],
        attempts=[
            Attempt(1, 0, "slot_taken", "taken", 5.0),
            Attempt(2, 1, "one_at_a_time", "one at a time", 5.0),
        ],
    )
    (event,) = book_events(PLAN, report)
    assert (event.name, event.kind) == ("book.lost", "failure")
    assert event.fields["best_outcome"] == "one_at_a_time"


def test_pending_and_contested_are_warnings_and_won_a_success() -> None:
    won = Attempt(1, 0, "booked", "", 5.0, reference="ref1")
    report = RaceReport(
        candidates=[1, 2, 3],
        attempts=[won, Attempt(2, 1, "contested", "", 5.0, reference="ref2")],
        won=won,
    )
    names = [(e.name, e.kind) for e in book_events(PLAN, report)]
    assert names == [("book.won", "success"), ("book.contested", "warning")]
    pending = RaceReport(candidates=[1], attempts=[Attempt(1, 0, "pending", "", 5.0)])
    assert [e.name for e in book_events(PLAN, pending)] == ["book.pending"]


def test_a_dry_run_sends_nothing() -> None:
    assert book_events(PLAN, RaceReport(dry_run=True)) == []


def test_durations_and_fair_waits() -> None:
    assert parse_duration("10m", what="x") == 600
    assert parse_duration("30s", what="x") == 30
    assert parse_duration("1.5h", what="x") == 5400
    rng = random.Random(1)
    waits = [next_wait(30, rng) for _ in range(200)]
    assert min(waits) >= 24
    assert max(waits) <= 36
    assert next_wait(30, rng, retry_after=120) == 120
