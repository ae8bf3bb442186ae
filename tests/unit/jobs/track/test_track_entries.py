"""The track job's entries, called as the CLI calls them (settings in) but without the CLI:
what they return, and what the store holds afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boxoffice.errors import ConfigurationError, NotFoundError
from boxoffice.jobs.track import listings, manage, price_alerts, queries, runtime
from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import Settings
from boxoffice.settings.track import TrackSettings

HEADER = "Name,Venue,City,Country,Date,viagogoID,is_tracked\n"
COLDPLAY = "Coldplay,Wembley Stadium,London,UK,2027-06-12 19:30:00,151000001,TRUE\n"
SWIFT = "Taylor Swift,Olympiastadion,Berlin,DE,2027-07-03 20:00:00,151000002,y\n"
ADELE = "Adele,Ziggo Dome,Amsterdam,NL,2027-08-21 20:30:00,151000003,no\n"


@pytest.fixture(scope="module")
def proxy() -> Iterator[str]:
    server = SandboxServer({"listings": listings_sim.create_app(seed=5, api_key="unit-key")})
    urls = server.start()
    yield urls["listings"]
    server.stop()


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text(HEADER + COLDPLAY + SWIFT + ADELE)
    return path


@pytest.fixture
def settings(tmp_path: Path, sheet: Path, proxy: str) -> Settings:
    return Settings(
        track=TrackSettings(
            db_path=tmp_path / "track.sqlite3",
            events=f"csv:{sheet}",
            proxy_url=proxy,
            proxy_api_key="unit-key",
            retries=0,
        )
    )


def tracked(settings: Settings) -> dict[str, bool]:
    return {e.viagogo_id: e.is_tracked for e in queries.list_events(settings).events}


def test_init_db_reports_a_sqlite_store_without_timescale(settings: Settings) -> None:
    ready = manage.init_db(settings)
    assert ready.version >= 1
    assert ready.timescale is None
    assert str(settings.track.db_path) in ready.description


def test_fetch_events_then_listings_fill_the_store(settings: Settings) -> None:
    imported = manage.fetch_events(settings)
    assert (imported.result.inserted, imported.tracked, imported.untracked_in_source) == (2, 2, 1)
    assert tracked(settings) == {"151000001": True, "151000002": True}

    outcomes = listings.fetch_listings(settings)
    assert sorted(o.viagogo_id for o in outcomes) == ["151000001", "151000002"]
    assert all(o.status == "ok" and o.listings > 0 for o in outcomes)

    latest = queries.latest_listings(settings, "151000001", limit=500)
    assert latest.event.name == "Coldplay"
    prices = [r.price_per_ticket for r in latest.listings]
    assert prices
    assert prices == sorted(prices)
    assert len(latest.dicts()) == len(latest.listings)
    assert all(row["captured_at"].endswith("Z") for row in latest.dicts())
    fetched = {e.viagogo_id: e.last_listings_fetch for e in queries.list_events(settings).events}
    assert all(moment is not None for moment in fetched.values())


def test_fetch_listings_of_one_event_touches_only_that_one(settings: Settings) -> None:
    manage.fetch_events(settings)
    [outcome] = listings.fetch_listings(settings, "151000002")
    assert outcome.viagogo_id == "151000002"
    assert queries.latest_listings(settings, "151000001", limit=5).listings == []


def test_fetch_listings_with_nothing_tracked_is_not_found(settings: Settings) -> None:
    manage.init_db(settings)
    with pytest.raises(NotFoundError, match="no tracked events"):
        listings.fetch_listings(settings)


def test_history_and_sections_write_the_files_they_are_asked_for(
    settings: Settings, tmp_path: Path
) -> None:
    manage.fetch_events(settings)
    listings.fetch_listings(settings)
    written: list[tuple[str, Path]] = []
    csv_file = tmp_path / "out" / "history.csv"
    view = queries.price_history(
        settings, "151000001", days=1, bucket="1 hour", csv_file=csv_file,
        written=lambda what, path: written.append((what, path)),
    )  # fmt: skip
    assert view.rows
    assert view.rows[0]["min"] <= view.rows[0]["max"]
    assert written == [("CSV", csv_file)]
    assert csv_file.read_text().splitlines()[0] == ",".join(
        ("bucket", "min", "avg", "median", "max", "count", "quantity")
    )
    sections = queries.section_prices(settings, "151000001", days=1)
    assert sections.event.viagogo_id == "151000001"
    assert {row["section"] for row in sections.rows} == {s.section for s in sections.sections}


def test_cleanup_dry_run_changes_nothing_then_marks(settings: Settings, sheet: Path) -> None:
    manage.fetch_events(settings)
    sheet.write_text(HEADER + COLDPLAY + SWIFT.replace(",y\n", ",no\n") + ADELE)

    dry = manage.cleanup_untracked(settings, delete=False, dry_run=True, force=False)
    assert [row.item.event.viagogo_id for row in dry.rows] == ["151000002"]
    assert (dry.marked, dry.deleted, dry.refused) == (None, None, False)
    assert tracked(settings) == {"151000001": True, "151000002": True}

    applied = manage.cleanup_untracked(settings, delete=False, dry_run=False, force=False)
    assert applied.marked == 1
    assert tracked(settings) == {"151000001": True, "151000002": False}


def test_cleanup_of_an_emptied_source_is_refused_unless_forced(
    settings: Settings, sheet: Path
) -> None:
    manage.fetch_events(settings)
    listings.fetch_listings(settings)
    sheet.write_text(HEADER)

    refused = manage.cleanup_untracked(settings, delete=True, dry_run=False, force=False)
    assert refused.refused
    assert all(row.listings > 0 for row in refused.rows)
    error = refused.refusal_error()
    assert isinstance(error, ConfigurationError)
    assert "refusing to delete 2 event(s)" in error.one_line()
    assert tracked(settings) == {"151000001": True, "151000002": True}

    forced = manage.cleanup_untracked(settings, delete=True, dry_run=False, force=True)
    assert forced.deleted is not None
    assert forced.deleted[0] == 2
    assert tracked(settings) == {}


def test_price_alerts_are_kept_in_the_store(settings: Settings) -> None:
    manage.fetch_events(settings)
    row = price_alerts.add(settings, "151000001", 80, section="Floor", notify=["json://x"])
    assert (row["event"], row["below"], row["section"], row["armed"], row["notify"]) == (
        "Coldplay", 80, "Floor", True, 1,
    )  # fmt: skip
    assert [r["id"] for r in price_alerts.rows(settings)] == [row["id"]]
    price_alerts.remove(settings, row["id"])
    assert price_alerts.rows(settings) == []


def test_readers_create_no_store(settings: Settings) -> None:
    with pytest.raises(NotFoundError, match="no database"):
        queries.list_events(settings)
    assert settings.track.db_path is not None
    assert not settings.track.db_path.exists()


def test_a_store_that_is_down_is_retried_with_a_redacted_line() -> None:
    settings = Settings(db_url="postgresql://track:hunter2@127.0.0.1:1/track")
    told: list[tuple[str, float]] = []

    class Enough(Exception):
        pass

    def on_retry(error: str, wait: float) -> None:
        told.append((error, wait))
        if len(told) == 2:
            raise Enough

    with pytest.raises(Enough):
        runtime.open_when_up(settings.model_copy(update={"track": TrackSettings(
            db_retry_seconds=0.01)}), on_retry)  # fmt: skip
    assert len(told) == 2
    assert all("hunter2" not in error for error, _ in told)
    assert all(wait == 0.01 for _, wait in told)


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (None, {"track": {}}),
        ("t.sqlite3", {"track": {"db_path": "t.sqlite3"}}),
        ("sqlite:///var/t.sqlite3", {"track": {"db_path": "var/t.sqlite3"}}),
        ("postgresql://u@h/db", {"track": {}, "db_url": "postgresql://u@h/db"}),
    ],
)
def test_the_db_flag_maps_onto_the_settings(flag: str | None, expected: dict[str, object]) -> None:
    assert runtime.db_overrides(flag) == expected
