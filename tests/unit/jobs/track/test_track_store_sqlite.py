"""SQLite store: events, snapshots, analytics (correct medians), schedule claims, WAL."""

from __future__ import annotations

import random
import sqlite3
import statistics
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from boxoffice.errors import NotFoundError, StorageError
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store import sqlite as sqlite_store
from boxoffice.jobs.track.store.base import (
    UpsertAction,
    UpsertResult,
    parse_bucket,
    upsert_action,
)
from boxoffice.jobs.track.store.sqlite import SqliteStore
from boxoffice.platforms.listings.models import Listing, StatsSnapshot
from boxoffice.platforms.sheets.rows import EventRow

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ev(vid: str, name: str = "Show", tracked: bool = True) -> EventRow:
    return EventRow(vid, name, "Venue", "City", "UK", T0 + timedelta(days=90), tracked)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = open_store(tmp_path / "t.sqlite3")
    assert isinstance(s, SqliteStore)
    return s


def test_schema_and_wal(store: SqliteStore) -> None:
    assert store.schema_version() == len(sqlite_store.MIGRATIONS) == 3  # 3: price alerts
    # listings are clustered on their key (captured_at, listing_id): no rowid table
    assert (
        store.conn.execute(
            "SELECT count(*) FROM pragma_index_list('listings') WHERE origin = 'pk'"
        ).fetchone()[0]
        == 1
    )
    with pytest.raises(sqlite3.OperationalError):
        store.conn.execute("SELECT rowid FROM listings")
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # timestamps are stored as ISO-8601 UTC text
    store.upsert_events([ev("1")], now=T0)
    stored = store.conn.execute("SELECT created_at, event_date FROM events").fetchone()
    assert stored[0] == "2026-03-01T00:00:00.000000Z"
    assert stored[1].endswith("Z")


def test_upsert_inserts_updates_and_finds(store: SqliteStore) -> None:
    first = store.upsert_events([ev("1"), ev("2")], now=T0)
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    again = store.upsert_events([ev("1", name="Renamed"), ev("2")], now=T0 + timedelta(hours=1))
    assert (again.inserted, again.updated, again.unchanged) == (0, 1, 1)
    found = store.find_event("1")
    assert found.name == "Renamed"
    assert store.find_event(str(found.event_id)).viagogo_id in {"1", "2"}
    with pytest.raises(NotFoundError) as info:
        store.find_event("nope")
    assert "show-events" in info.value.one_line()


def test_upsert_action_is_one_rule_for_every_backend() -> None:
    values = ("Show", "Venue", "City", "UK", "2026-06-01", None)
    assert upsert_action(None, values) == "insert"
    assert upsert_action((7, *values, True), values) == "unchanged"
    assert upsert_action((7, *values, 1), list(values)) == "unchanged"
    assert upsert_action((7, "Old name", *values[1:], True), values) == "update"
    assert upsert_action((7, *values, False), values) == "update"  # tracked again
    actions: list[UpsertAction] = ["insert", "update", "unchanged", "insert"]
    assert UpsertResult.count(actions) == UpsertResult(inserted=2, updated=1, unchanged=1)


def test_snapshot_duplicates_ignored_and_latest_listing_view(store: SqliteStore) -> None:
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    items = [Listing(f"L{i}", "A", "1", 2, 10.0 * (i + 1), "EUR") for i in range(5)]
    assert store.insert_listings(eid, items, captured_at=T0, provider="proxy") == 5
    assert store.insert_listings(eid, items, captured_at=T0, provider="proxy") == 0
    later = [Listing("L9", "B", "2", 1, 5.0, "EUR")]
    store.insert_listings(eid, later, captured_at=T0 + timedelta(hours=12), provider="proxy")
    latest = store.listings(eid)
    assert [r.listing_id for r in latest] == ["L9"]
    assert store.count_listings(eid) == 6
    assert store.find_event("1").last_listings_fetch == T0 + timedelta(hours=12)


def test_price_history_medians_match_statistics_median(store: SqliteStore) -> None:
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    rng = random.Random(3)
    expected: dict[datetime, list[float]] = {}
    for snap in range(9):  # every 8 h → 3 per day, odd and even bucket sizes
        moment = T0 + timedelta(hours=8 * snap, minutes=5)
        n = rng.randint(3, 12)
        prices = [round(rng.uniform(20, 300), 2) for _ in range(n)]
        items = [
            Listing(f"{snap}-{i}", "S", None, 1 + i % 3, p, "EUR") for i, p in enumerate(prices)
        ]
        store.insert_listings(eid, items, captured_at=moment, provider="proxy")
        day = moment.replace(hour=0, minute=0)
        expected.setdefault(day, []).extend(prices)
    rows = store.price_history(eid, since=T0 - timedelta(days=1), bucket=parse_bucket("1 day"))
    assert [r.bucket for r in rows] == sorted(expected)
    for row in rows:
        prices = expected[row.bucket]  # type: ignore[index]
        assert row.count == len(prices)
        assert row.min == min(prices)
        assert row.max == max(prices)
        assert row.median == pytest.approx(statistics.median(prices))
        assert row.avg == pytest.approx(statistics.fmean(prices))


def test_price_history_window_and_many_buckets_path_agree(store: SqliteStore) -> None:
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    for k in range(40):
        items = [
            Listing(f"{k}-{i}", "S", None, 1, float(10 + k + i), "EUR") for i in range(k % 4 + 1)
        ]
        store.insert_listings(eid, items, captured_at=T0 + timedelta(minutes=30 * k), provider="p")
    width = parse_bucket("1 hour")
    direct = store.price_history(eid, since=T0 + timedelta(hours=3), bucket=width)
    window = store._price_history_window(eid, since=T0 + timedelta(hours=3), bucket=width)
    assert direct == window
    assert direct[0].bucket == T0 + timedelta(hours=3)


def _snapshots(
    store: SqliteStore, eid: int, rng: random.Random, *, days: int, ties: bool
) -> dict[datetime, list[float]]:
    """Snapshots of 60–140 listings every 3 h (prices drifting during the day); by day."""
    expected: dict[datetime, list[float]] = {}
    for snap in range(8 * days):
        moment = T0 + timedelta(hours=3 * snap, minutes=7)
        drift = 5.0 * (snap % 8)
        n = rng.randint(60, 140)
        if snap % 8 == 7:  # odd and even day totals
            day_total = len(expected.get(moment.replace(hour=0, minute=0), []))
            n += (snap // 8 - day_total - n) % 2
        prices = [
            float(rng.choice((50, 75, 80, 99, 120)))
            if ties
            else round(rng.uniform(20, 300) + drift, 2)
            for _ in range(n)
        ]
        items = [
            Listing(f"{snap}-{i}", "S", None, 1 + i % 3, p, "EUR") for i, p in enumerate(prices)
        ]
        store.insert_listings(eid, items, captured_at=moment, provider="proxy")
        expected.setdefault(moment.replace(hour=0, minute=0), []).extend(prices)
    return expected


@pytest.mark.parametrize("ties", [False, True])
def test_price_history_median_from_a_sampled_window_is_exact(
    store: SqliteStore, ties: bool
) -> None:
    """Buckets of big snapshots: only a price window is fetched, the median is still exact."""
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    expected = _snapshots(store, eid, random.Random(11), days=4, ties=ties)
    fetched: list[int] = []
    read = store._read

    def spy(sql: str, params: Any = ()) -> list[Any]:
        rows = read(sql, params)
        if sql.startswith("SELECT price_per_ticket FROM listings WHERE") and "LIMIT" not in sql:
            fetched.append(len(rows))
        return rows

    store._read = spy  # type: ignore[method-assign]
    rows = store.price_history(eid, since=T0 - timedelta(days=1), bucket=parse_bucket("1 day"))
    assert [r.bucket for r in rows] == sorted(expected)
    assert {len(v) % 2 for v in expected.values()} == {0, 1}  # odd and even counts
    for row in rows:
        prices = expected[row.bucket]  # type: ignore[index]
        assert row.median == statistics.median(prices)
        assert (row.min, row.max, row.count) == (min(prices), max(prices), len(prices))
        assert row.avg == pytest.approx(statistics.fmean(prices))
    window = store._price_history_window(
        eid, since=T0 - timedelta(days=1), bucket=parse_bucket("1 day")
    )
    assert [(r.bucket, r.median, r.min, r.max, r.count, r.quantity) for r in rows] == [
        (w.bucket, w.median, w.min, w.max, w.count, w.quantity) for w in window
    ]

    if not ties:  # a window around the middle, not every price of the bucket
        assert max(fetched) < min(len(v) for v in expected.values()) / 2


def test_bucket_median_is_exact_whatever_the_price_window(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A window missing the middle (below, above, between or on tied prices) is widened."""
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    rng = random.Random(5)
    for n in (1, 2, 7, 10, 101):
        day = T0 + timedelta(days=n)
        prices = [float(rng.choice((10, 20, 20, 30, 45.5, 60, 60, 60, 99))) for _ in range(n)]
        items = [Listing(f"{n}-{i}", "S", None, 1, p, "EUR") for i, p in enumerate(prices)]
        store.insert_listings(eid, items, captured_at=day, provider="proxy")
        inf = float("inf")
        edges = [-inf, 0.0, 10.0, 15.0, 20.0, 30.0, 45.5, 60.0, 61.0, 99.0, 100.0, inf]
        for lo in edges:
            for hi in edges:
                if hi <= lo:
                    continue
                monkeypatch.setattr(store, "_median_window", lambda *_, w=(lo, hi): w)
                got = store._bucket(store._read, eid, day, day + timedelta(days=1))
                assert got is not None
                assert got[2] == statistics.median(prices), (n, lo, hi)
                assert got[4] == n
    monkeypatch.undo()
    assert (
        store._bucket(store._read, eid, T0 + timedelta(days=200), T0 + timedelta(days=201)) is None
    )


def test_price_history_on_several_connections_equals_one_connection(
    store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Buckets shared out to reader threads (one connection each) give the same rows."""
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    expected = _snapshots(store, eid, random.Random(3), days=13, ties=False)
    since, width = T0 - timedelta(days=1), parse_bucket("1 day")
    monkeypatch.setattr(store, "parallel_readers", 1)
    serial = store.price_history(eid, since=since, bucket=width)
    opened: list[Path] = []
    real_connect = sqlite_store._connect_read_only

    def counting(path: Path) -> Any:
        opened.append(path)
        return real_connect(path)

    monkeypatch.setattr(sqlite_store, "_connect_read_only", counting)
    monkeypatch.setattr(store, "parallel_readers", 3)
    parallel = store.price_history(eid, since=since, bucket=width)
    assert len(opened) == 2  # two more readers; this connection took the third share
    assert parallel == serial
    assert [r.bucket for r in parallel] == sorted(expected)
    for row in parallel:
        assert row.median == statistics.median(expected[row.bucket])  # type: ignore[index]


def test_section_prices(store: SqliteStore) -> None:
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    items = [
        Listing("a", "Floor", None, 2, 100.0, "EUR"),
        Listing("b", "Floor", None, 1, 200.0, "EUR"),
        Listing("c", "Floor", None, 1, 400.0, "EUR"),
        Listing("d", "Upper", None, 4, 50.0, "EUR"),
        Listing("e", "Upper", None, 1, 70.0, "EUR"),
    ]
    store.insert_listings(eid, items, captured_at=T0, provider="proxy")
    rows = {r.section: r for r in store.section_prices(eid, since=T0 - timedelta(days=1))}
    assert rows["Floor"].median == 200.0
    assert rows["Floor"].quantity == 4
    assert rows["Upper"].median == 60.0
    assert list(rows) == ["Upper", "Floor"]


def test_stats_snapshots(store: SqliteStore) -> None:
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    store.insert_stats(eid, StatsSnapshot(10, 20, 18, 40, 7), captured_at=T0, provider="seatgeek")
    ((moment, snap),) = store.stats_history(eid, since=T0 - timedelta(days=1))
    assert moment == T0
    assert snap.median == 18
    assert snap.listing_count == 7


def test_untrack_and_delete(store: SqliteStore) -> None:
    store.upsert_events([ev("1"), ev("2")], now=T0)
    one, two = store.find_event("1").event_id, store.find_event("2").event_id
    store.insert_listings(
        two, [Listing("x", "A", None, 1, 1.0, "EUR")], captured_at=T0, provider="p"
    )
    assert store.mark_untracked([one], now=T0) == 1
    assert [e.viagogo_id for e in store.events(tracked_only=True)] == ["2"]
    assert store.delete_events([two]) == (1, 1)
    assert store.count_listings() == 0
    # re-importing a tracked event tracks it again
    assert store.upsert_events([ev("1")], now=T0).updated == 1
    assert store.find_event("1").is_tracked


def test_claims_are_exclusive_until_completed(store: SqliteStore) -> None:
    store.upsert_events([ev("1"), ev("2"), ev("3")], now=T0)
    assert store.ensure_schedule(now=T0) == 3
    assert store.ensure_schedule(now=T0) == 0
    lease = timedelta(minutes=10)
    first = store.claim_due(now=T0, limit=2, lease=lease, worker="a")
    second = store.claim_due(now=T0, limit=5, lease=lease, worker="b")
    assert len(first) == 2
    assert len(second) == 1
    assert {r.event_id for r in first}.isdisjoint({r.event_id for r in second})
    assert store.claim_due(now=T0, limit=5, lease=lease, worker="c") == []
    run = first[0]
    store.complete_run(
        run,
        finished_at=T0,
        next_run_at=T0 + timedelta(hours=12),
        status="ok",
        listings=3,
        duration_s=0.1,
        worker="a",
    )
    # an expired lease makes the run claimable again (its scheduler died)
    again = store.claim_due(now=T0 + timedelta(minutes=11), limit=5, lease=lease, worker="c")
    assert run.event_id not in {r.event_id for r in again}
    assert len(again) == 2
    assert store.run_counts() == {run.event_id: 1}


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from boxoffice.jobs.track.store import open_store
    from boxoffice.platforms.listings.models import Listing
    store = open_store(Path(sys.argv[1]))
    eid = store.find_event("1").event_id
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    for k in range(int(sys.argv[2])):
        items = [Listing(f"{k}-{i}", "S", None, 1, float(i), "EUR") for i in range(200)]
        store.insert_listings(eid, items, captured_at=t0 + timedelta(minutes=k), provider="p")
    print("writer done")
    """
)
READER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime, timedelta
    from pathlib import Path
    from boxoffice.jobs.track.store import open_store
    store = open_store(Path(sys.argv[1]), read_only=True)
    eid = store.find_event("1").event_id
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    seen = 0
    for _ in range(int(sys.argv[2])):
        rows = store.price_history(eid, since=t0, bucket=timedelta(hours=1))
        seen = max(seen, sum(r.count for r in rows))
        store.section_prices(eid, since=t0)
    print("reader done", seen)
    """
)


def test_writer_and_reader_processes_at_once_never_see_locked(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    s = open_store(path)
    s.upsert_events([ev("1")], now=T0)
    s.close()
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(path), "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    w_out, w_err = writer.communicate(timeout=120)
    r_out, r_err = reader.communicate(timeout=120)
    assert writer.returncode == 0, w_err
    assert reader.returncode == 0, r_err
    assert "locked" not in w_err + r_err
    assert "writer done" in w_out
    assert "reader done" in r_out
    final = open_store(path)
    assert final.count_listings() == 40 * 200


def test_read_only_open_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "x.sqlite3"
    with pytest.raises(NotFoundError) as info:
        open_store(path, read_only=True)
    assert info.value.one_line() == (
        f"no database at {path} — run `boxoffice track init-db` (or check --db)"
    )
    assert not path.parent.exists()
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    with pytest.raises(NotFoundError):  # a file that is no store yet is no database either
        open_store(empty, read_only=True)
    assert empty.stat().st_size == 0


def test_read_only_store_reads_a_live_wal_store_and_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite3"
    writer = open_store(path)
    writer.upsert_events([ev("1")], now=T0)
    reader = open_store(path, read_only=True)
    eid = reader.find_event("1").event_id
    assert reader.count_listings(eid) == 0
    # the writer keeps appending to the WAL while the reader is open: the reader sees it
    item = Listing("a", "S", "1", 2, 50.0, "EUR")
    writer.insert_listings(eid, [item], captured_at=T0, provider="p")
    assert reader.count_listings(eid) == 1
    assert [b.count for b in reader.price_history(eid, since=T0, bucket=parse_bucket("1h"))] == [1]
    with pytest.raises(StorageError):
        reader.upsert_events([ev("2")], now=T0)
    reader.close()
    writer.close()
    assert [e.viagogo_id for e in open_store(path).events()] == ["1"]


def test_a_version_1_store_is_migrated_with_its_rows(tmp_path: Path) -> None:
    from boxoffice.core.state import connect

    path = tmp_path / "old.sqlite3"
    old = connect(path, sqlite_store.MIGRATIONS[:1])  # a store as version 1 left it
    old.execute(
        "INSERT INTO events (viagogo_id, name, created_at, updated_at) VALUES ('9', 'Show', "
        "'2026-03-01T00:00:00.000000Z', '2026-03-01T00:00:00.000000Z')"
    )
    old.executemany(
        "INSERT INTO listings VALUES (?, 1, 'A', '3', 2, ?, ?, 'EUR', 'proxy', ?)",
        [(f"L{i}", 10.0 + i, 20.0 + 2 * i, "2026-03-01T00:00:00.000000Z") for i in range(5)],
    )
    old.close()
    store = open_store(path)
    assert isinstance(store, SqliteStore)
    assert store.schema_version() == len(sqlite_store.MIGRATIONS)
    assert store.count_listings(1) == 5
    [day] = store.price_history(1, since=T0 - timedelta(days=1), bucket=timedelta(days=1))
    assert (day.min, day.median, day.max, day.count, day.quantity) == (10.0, 12.0, 14.0, 5, 10)
    # the key still holds: the same listing at the same time is ignored
    again = [Listing("L0", "A", "3", 2, 99.0, "EUR")]
    assert store.insert_listings(1, again, captured_at=T0, provider="proxy") == 0
    store.close()
