"""Analytics output: JSON rows, CSV, PNG and self-contained HTML charts, stats fallback."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boxoffice.errors import ConfigurationError
from boxoffice.jobs.track import analytics, charts
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.base import parse_bucket
from boxoffice.jobs.track.store.sqlite import SqliteStore
from boxoffice.platforms.listings.models import Listing, StatsSnapshot
from boxoffice.platforms.sheets.rows import EventRow

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = open_store(tmp_path / "a.sqlite3")
    assert isinstance(s, SqliteStore)
    s.upsert_events([EventRow("777", "Coldplay", "Wembley", "London", "UK", None, True)], now=NOW)
    eid = s.find_event("777").event_id
    for day in range(5):
        moment = NOW - timedelta(days=day, hours=1)
        items = [
            Listing(f"{day}-{i}", "Floor", None, 2, 100.0 + 10 * i + day, "EUR") for i in range(4)
        ]
        s.insert_listings(eid, items, captured_at=moment, provider="proxy")
    return s


def test_json_rows_have_the_documented_shape(store: SqliteStore) -> None:
    history = analytics.price_history(store, "777", days=30, bucket="1 day", now=NOW)
    rows = analytics.history_dicts(history.rows)
    assert len(rows) == 5
    assert set(rows[0]) == {"bucket", "min", "avg", "median", "max", "count", "quantity"}
    assert rows[0]["bucket"].endswith("T00:00:00Z")
    assert rows[-1]["median"] == 115.0  # (110 + 120) / 2
    assert rows[-1]["quantity"] == 8
    assert json.loads(analytics.to_json(rows)) == rows


def test_window_limits_the_history(store: SqliteStore) -> None:
    history = analytics.price_history(store, "777", days=2, bucket="1 day", now=NOW)
    assert len(history.rows) == 2


def test_csv_export(store: SqliteStore, tmp_path: Path) -> None:
    history = analytics.price_history(store, "777", days=30, bucket="12 hours", now=NOW)
    path = analytics.write_csv(
        tmp_path / "out" / "h.csv", analytics.history_dicts(history.rows), analytics.HISTORY_FIELDS
    )
    with path.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(analytics.HISTORY_FIELDS)
    assert len(rows) == 5


def test_png_chart(store: SqliteStore, tmp_path: Path) -> None:
    history = analytics.price_history(store, "777", days=30, bucket="1 day", now=NOW)
    path = charts.plot(history, tmp_path / "p.png", tz=UTC)
    data = path.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_html_chart_is_self_contained(store: SqliteStore, tmp_path: Path) -> None:
    history = analytics.price_history(store, "777", days=30, bucket="1 day", now=NOW)
    page = charts.plot(history, tmp_path / "p.html", tz=UTC).read_text()
    assert "<svg" in page
    assert "Coldplay" in page
    assert "listings per bucket" in page
    assert "<script src" not in page
    assert 'href="http' not in page
    assert page.count("<tr>") == 1 + 5


def test_plot_refuses_other_formats(store: SqliteStore, tmp_path: Path) -> None:
    history = analytics.price_history(store, "777", days=30, bucket="1 day", now=NOW)
    with pytest.raises(ConfigurationError) as info:
        charts.plot(history, tmp_path / "p.gif")
    assert ".png" in info.value.one_line()


def test_stats_only_events_use_stats_snapshots(store: SqliteStore) -> None:
    store.upsert_events([EventRow("888", "Stats", "V", "C", "UK", None, True, "seatgeek")], now=NOW)
    eid = store.find_event("888").event_id
    store.insert_stats(
        eid,
        StatsSnapshot(50, 70, 65, 150, 12),
        captured_at=NOW - timedelta(hours=2),
        provider="seatgeek",
    )
    history = analytics.price_history(store, "888", days=7, bucket="1 day", now=NOW)
    assert history.from_stats
    (row,) = history.rows
    assert (row.min, row.median, row.max, row.count) == (50, 65, 150, 12)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1 day", 86400), ("6 hours", 21600), ("30min", 1800), ("1h", 3600), ("2 weeks", 1209600)],
)
def test_bucket_parsing(text: str, seconds: int) -> None:
    assert parse_bucket(text).total_seconds() == seconds


def test_bad_bucket_is_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_bucket("1 month")
    assert "6 hours" in info.value.one_line()
