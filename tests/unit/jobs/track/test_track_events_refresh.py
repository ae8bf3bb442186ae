"""The scheduler follows the events source: re-read every --events-refresh, new events are
snapshotted and untracked ones stop without a restart; an empty source is reported, not obeyed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs
from tests.unit.jobs.track.test_track_scheduler import CONFIG, T0, FakeSource, make_store

from boxoffice.errors import ConfigurationError, NetworkError
from boxoffice.jobs.track import events
from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.scheduler import Scheduler
from boxoffice.platforms.sheets.rows import ParsedEvents, parse_rows
from boxoffice.settings.track import TrackSettings

HEADER = ["Name", "Venue", "City", "Country", "Date", "viagogoID", "is_tracked"]


def sheet(*rows: tuple[str, str]) -> ParsedEvents:
    """Events of a sheet: (viagogo id, is_tracked) per row."""
    return parse_rows([HEADER] + [[f"E{v}", "V", "C", "UK", "", v, t] for v, t in rows])


@pytest.mark.parametrize(
    ("text", "hours"),
    [("3h", 3.0), ("30 minutes", 0.5), ("2", 2.0), ("0", 0.0), ("off", 0.0), ("1s", 1 / 3600)],
)
def test_parse_refresh(text: str, hours: float) -> None:
    assert events.parse_refresh(text) == pytest.approx(hours)


@pytest.mark.parametrize("text", ["soon", "-1", "inf", "nan", "1e9"])
def test_parse_refresh_rejects_nonsense_in_one_line(text: str) -> None:
    with pytest.raises(ConfigurationError, match="--events-refresh"):
        events.parse_refresh(text)


def test_the_default_refresh_is_a_few_hours() -> None:
    assert 1 <= TrackSettings().events_refresh_hours <= 12


async def test_events_added_and_untracked_while_running_are_followed(tmp_path: Path) -> None:
    store = make_store(tmp_path, n=2)  # events 100, 101 tracked
    current = sheet(("100", "y"), ("101", "y"))

    async def read() -> ParsedEvents:
        return current

    async def refresh(now: object) -> object:
        return await events.refresh_events(store, read, source="test sheet", now=T0)

    source = FakeSource()
    clock = SimulatedClock(T0)
    sched = Scheduler(
        store, {"proxy": source}, CONFIG, clock=clock, worker="w",
        refresh=refresh, refresh_seconds=600,
    )  # fmt: skip
    await sched.run(until=T0 + timedelta(minutes=5))
    assert sorted(source.calls) == ["100", "101"]
    # the sheet gains 102 and stops tracking 101: seen at the next refresh, no restart
    current = sheet(("100", "y"), ("101", "no"), ("102", "y"))
    with capture_logs() as logs:
        await sched.run(until=T0 + timedelta(minutes=15))
    assert sorted(source.calls) == ["100", "101", "102"]
    tracked = {e.viagogo_id for e in store.events(tracked_only=True)}
    assert tracked == {"100", "102"}
    [done] = [e for e in logs if e["event"] == "events refreshed"]
    assert (done["new"], done["untracked"], done["events"]) == (1, 1, "101")


@pytest.mark.parametrize(
    ("rows", "reason"),
    [((), "returned no events"), ((("100", "no"), ("101", "n")), "every tracked event (2)")],
)
async def test_a_source_that_suddenly_returns_nothing_is_reported_not_obeyed(
    tmp_path: Path, rows: tuple[tuple[str, str], ...], reason: str
) -> None:
    store = make_store(tmp_path, n=2)

    async def read() -> ParsedEvents:
        return sheet(*rows)

    with capture_logs() as logs:
        result = await events.refresh_events(store, read, source="test sheet", now=T0)
    assert not result.applied
    assert result.refusal is not None
    assert reason in result.refusal
    assert {e.viagogo_id for e in store.events(tracked_only=True)} == {"100", "101"}
    [warning] = [e for e in logs if e["event"] == "events source not obeyed: stored events kept"]
    assert warning["log_level"] == "warning"
    assert reason in warning["reason"]


async def test_a_failing_source_is_one_line_and_the_scheduler_goes_on(tmp_path: Path) -> None:
    store = make_store(tmp_path, n=1)

    async def refresh(now: object) -> object:
        raise NetworkError("sheet unreachable")

    source = FakeSource()
    with capture_logs() as logs:
        report = await Scheduler(
            store, {"proxy": source}, CONFIG, clock=SimulatedClock(T0), worker="w",
            refresh=refresh, refresh_seconds=60,
        ).run(until=T0 + timedelta(minutes=10))  # fmt: skip
    assert report.runs == 1
    failures = [e for e in logs if e["event"] == "events source failed, stored events kept"]
    assert len(failures) >= 5  # every minute, and nothing else broke
    assert failures[0]["error"] == "sheet unreachable"
