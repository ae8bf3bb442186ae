"""The track store on a real PostgreSQL: schema, COPY, medians, claims shared by schedulers."""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from boxoffice.errors import ConfigurationError, NotFoundError, StorageError
from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.base import StoredListing, parse_bucket
from boxoffice.jobs.track.store.postgres import MIGRATIONS, PostgresStore
from boxoffice.platforms.listings.models import FetchResult, Listing
from boxoffice.platforms.sheets.rows import EventRow

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def ev(vid: str, name: str = "Show") -> EventRow:
    return EventRow(vid, name, "Venue", "City", "UK", T0 + timedelta(days=60), True)


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    s = open_store(postgres_url)
    assert isinstance(s, PostgresStore)
    yield s
    s.close()


def test_schema_types_indexes_and_idempotent_migration(
    store: PostgresStore, postgres_url: str
) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    assert not store.timescale.usable
    assert store.bucket_sql().startswith("date_bin(")
    again = open_store(postgres_url)
    assert again.schema_version() == len(MIGRATIONS)
    again.close()
    with psycopg.connect(postgres_url) as conn:
        types = dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = 'listings'"
            ).fetchall()
        )
        collation = conn.execute(
            "SELECT collation_name FROM information_schema.columns "
            "WHERE table_name = 'listings' AND column_name = 'listing_id'"
        ).fetchone()
        pk = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'listings'::regclass AND contype = 'p'"
        ).fetchone()
        indexes = [
            r[0]
            for r in conn.execute(
                "SELECT indexdef FROM pg_indexes WHERE tablename = 'listings'"
            ).fetchall()
        ]
        versions = conn.execute("SELECT version FROM schema_version").fetchall()
    assert types["captured_at"] == "timestamp with time zone"
    assert pk is not None
    # the key of DESIGN §6, declared captured_at first so a snapshot appends (migration 2)
    assert pk[0] == "PRIMARY KEY (captured_at, listing_id)"
    assert any("(event_id, captured_at)" in i for i in indexes)
    assert versions == [(v,) for v in range(1, len(MIGRATIONS) + 1)]
    assert collation == ("C",)  # opaque ids compared bytewise (migration 3)


def test_version_1_database_upgrades_its_key_and_keeps_rows(postgres_url: str) -> None:
    """A store made by schema version 1 gets the captured_at-first key, rows and dedup kept."""

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        conn.execute(MIGRATIONS[0].encode())
        conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    old = open_store(postgres_url, migrate=False)
    old.upsert_events([ev("1")], now=T0)
    eid = old.find_event("1").event_id
    items = [Listing(f"L{i}", "A", "1", 2, 10.0 + i, "EUR") for i in range(3)]
    assert old.insert_listings(eid, items, captured_at=T0, provider="proxy") == 3
    old.close()
    store = open_store(postgres_url)
    assert store.schema_version() == len(MIGRATIONS)
    with psycopg.connect(postgres_url) as conn:
        pk = conn.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'listings'::regclass AND contype = 'p'"
        ).fetchone()
    assert pk == ("PRIMARY KEY (captured_at, listing_id)",)
    assert store.count_listings(eid) == 3
    assert store.insert_listings(eid, items, captured_at=T0, provider="proxy") == 0
    later = [*items, Listing("L9", "B", "2", 1, 5.0, "EUR")]
    assert store.insert_listings(eid, later, captured_at=T0 + timedelta(hours=1), provider="p") == 4
    store.close()


def test_events_and_listings_round_trip(store: PostgresStore) -> None:
    result = store.upsert_events([ev("1"), ev("2")], now=T0)
    assert result.inserted == 2
    assert store.upsert_events([ev("1", "New name")], now=T0).updated == 1
    one = store.find_event("1")
    assert one.name == "New name"
    assert one.event_date == T0 + timedelta(days=60)
    items = [Listing(f"L{i}", "A", "3", 2, 10.0 + i, "EUR") for i in range(5)]
    assert store.insert_listings(one.event_id, items, captured_at=T0, provider="proxy") == 5
    # the same snapshot again: COPY hits the key, the staging path ignores the duplicates
    extra = [*items, Listing("L9", "B", None, 1, 1.0, "EUR")]
    assert store.insert_listings(one.event_id, extra, captured_at=T0, provider="proxy") == 1
    assert store.count_listings(one.event_id) == 6
    latest = store.listings(one.event_id)
    assert latest[0].listing_id == "L9"
    assert latest[0].captured_at == T0
    assert store.find_event("1").last_listings_fetch == T0
    assert store.mark_untracked([store.find_event("2").event_id], now=T0) == 1
    assert store.delete_events([one.event_id]) == (1, 6)
    assert [e.viagogo_id for e in store.events()] == ["2"]


def test_a_failed_snapshot_leaves_nothing_and_the_connection_usable(store: PostgresStore) -> None:
    """BEGIN and the last_listings_fetch UPDATE share a round trip: a COPY that the server
    refuses (here a NULL price) rolls both back, and the next snapshot goes in normally."""
    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    good = [Listing("L1", "A", "3", 2, 10.0, "EUR")]
    assert store.insert_listings(eid, good, captured_at=T0, provider="proxy") == 1
    broken = Listing("L3", "A", "3", 2, None, "EUR", total_price=24.0)  # type: ignore[arg-type]
    bad = [Listing("L2", "A", "3", 2, 11.0, "EUR"), broken]
    with pytest.raises(StorageError):
        store.insert_listings(eid, bad, captured_at=T0 + timedelta(hours=1), provider="proxy")
    assert store.count_listings(eid) == 1
    assert store.find_event("1").last_listings_fetch == T0
    later = T0 + timedelta(hours=2)
    assert store.insert_listings(eid, good, captured_at=later, provider="proxy") == 1
    assert store.find_event("1").last_listings_fetch == later


def test_medians_match_python_and_sqlite(store: PostgresStore, tmp_path: Path) -> None:
    lite = open_store(tmp_path / "same.sqlite3")
    rng = random.Random(11)
    rows: list[StoredListing] = []
    for backend in (store, lite):
        backend.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    assert lite.find_event("1").event_id == eid
    expected: dict[datetime, list[float]] = {}
    for k in range(30):
        moment = T0 + timedelta(hours=5 * k, minutes=7)
        for i in range(rng.randint(1, 9)):
            price = round(rng.uniform(10, 500), 2)
            rows.append(
                StoredListing(
                    f"{k}-{i}", eid, f"S{i % 3}", None, 1 + i % 2, price, price, "EUR", "p", moment
                )
            )
            expected.setdefault(moment.replace(hour=0, minute=0), []).append(price)
    assert store.insert_listing_rows(rows) == len(rows)
    assert lite.insert_listing_rows(rows) == len(rows)
    since = T0 - timedelta(days=1)
    pg = store.price_history(eid, since=since, bucket=parse_bucket("1 day"))
    sq = lite.price_history(eid, since=since, bucket=parse_bucket("1 day"))
    assert [r.bucket for r in pg] == sorted(expected)
    assert [r.bucket for r in sq] == [r.bucket for r in pg]
    for a, b in zip(pg, sq, strict=True):
        prices = expected[a.bucket]  # type: ignore[index]
        assert a.median == pytest.approx(statistics.median(prices))
        assert b.median == pytest.approx(a.median)
        assert (a.min, a.max, a.count, a.quantity) == (b.min, b.max, b.count, b.quantity)
        assert a.avg == pytest.approx(b.avg)
    pg_sections = store.section_prices(eid, since=since)
    sq_sections = lite.section_prices(eid, since=since)
    assert [s.section for s in pg_sections] == [s.section for s in sq_sections]
    for a2, b2 in zip(pg_sections, sq_sections, strict=True):
        assert a2.median == pytest.approx(b2.median)
    lite.close()


def test_concurrent_claims_never_overlap(postgres_url: str) -> None:
    setup = open_store(postgres_url)
    setup.upsert_events([ev(str(i)) for i in range(40)], now=T0)
    setup.ensure_schedule(now=T0)
    claimed: dict[str, list[int]] = {"a": [], "b": [], "c": []}
    barrier = threading.Barrier(3)

    def worker(name: str) -> None:
        store = open_store(postgres_url, migrate=False)
        barrier.wait()
        while True:
            runs = store.claim_due(now=T0, limit=3, lease=timedelta(minutes=5), worker=name)
            if not runs:
                break
            claimed[name].extend(r.event_id for r in runs)
        store.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = [e for ids in claimed.values() for e in ids]
    assert len(everything) == 40
    assert len(set(everything)) == 40
    setup.close()


class SlowSource:
    """Counts fetches per event; each fetch takes a little real time so schedulers overlap."""

    name = "proxy"

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    async def fetch(self, external_id: str) -> FetchResult:
        with self.lock:
            self.calls[external_id] = self.calls.get(external_id, 0) + 1
        await asyncio.sleep(0.01)
        return FetchResult(
            listings=[Listing(f"{external_id}-{random.random()}", "A", None, 1, 5.0, "EUR")]
        )


def test_two_schedulers_share_events_without_running_one_twice(postgres_url: str) -> None:
    setup = open_store(postgres_url)
    setup.upsert_events([ev(str(100 + i)) for i in range(12)], now=T0)
    source = SlowSource()
    # each machine has its own clock; simulated time runs far faster than the fetches, so the
    # lease (how long a claim is honoured) must outlast the window, as it outlasts a real run
    config = ScheduleConfig(
        interval_hours=12, concurrency=3, poll_seconds=300, retries=0, lease=timedelta(hours=2)
    )

    def scheduler(name: str, start: datetime, until: datetime) -> None:
        store = open_store(postgres_url, migrate=False)
        sched = Scheduler(
            store, {"proxy": source}, config, clock=SimulatedClock(start), worker=name
        )
        asyncio.run(sched.run(until=until))
        store.close()

    def round_of(start: datetime, until: datetime) -> None:
        threads = [
            threading.Thread(target=scheduler, args=(name, start, until)) for name in ("m1", "m2")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)

    round_of(T0, T0 + timedelta(hours=1))
    assert sorted(source.calls.values()) == [1] * 12
    counts = setup.run_counts()
    assert sorted(counts.values()) == [1] * 12
    # the next round: everything is due again within 1.3 × 12 h — once each, again
    round_of(T0 + timedelta(hours=17), T0 + timedelta(hours=18))
    assert sorted(source.calls.values()) == [2] * 12
    assert sorted(setup.run_counts().values()) == [2] * 12
    with psycopg.connect(postgres_url) as conn:
        workers = {r[0] for r in conn.execute("SELECT DISTINCT worker FROM runs").fetchall()}
    assert workers <= {"m1", "m2"}
    setup.close()


def test_unreachable_database_is_one_line_without_password(postgres_server: object) -> None:
    with pytest.raises(StorageError) as info:
        open_store("postgresql://track:s3cr3t-pw@127.0.0.1:1/track")
    line = info.value.one_line()
    assert "127.0.0.1:1/track" in line
    assert "s3cr3t-pw" not in line
    assert "\n" not in line


def test_bad_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        open_store("postgresql://x:y@host:notaport/db?bogus_option=1")


def test_lateral_and_group_by_bucket_paths_agree(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boxoffice.jobs.track.store import postgres

    store.upsert_events([ev("1")], now=T0)
    eid = store.find_event("1").event_id
    rows = [
        StoredListing(f"{k}-{i}", eid, "S", None, 1, float(10 + (k * 7 + i * 3) % 50), None, "EUR",
                      "p", T0 + timedelta(minutes=50 * k))
        for k in range(60)
        for i in range(k % 5 + 1)
    ]  # fmt: skip
    store.insert_listing_rows(rows)
    width = parse_bucket("3 hours")
    since = T0 + timedelta(hours=4)
    monkeypatch.setattr(postgres, "MAX_LATERAL_BUCKETS", 10**9)
    lateral = store.price_history(eid, since=since, bucket=width)
    monkeypatch.setattr(postgres, "MAX_LATERAL_BUCKETS", 0)
    grouped = store.price_history(eid, since=since, bucket=width)
    assert lateral == grouped
    assert lateral[0].bucket == T0 + timedelta(hours=3)
    assert sum(r.count for r in lateral) == sum(1 for r in rows if r.captured_at >= since)


def test_one_store_takes_snapshots_from_several_threads_at_once(store: PostgresStore) -> None:
    """The scheduler stores concurrent snapshots from worker threads through one store: each
    write gets a connection of its own, every row lands, and the connections are reused."""
    store.upsert_events([ev(str(i)) for i in range(4)], now=T0)
    ids = [store.find_event(str(i)).event_id for i in range(4)]
    barrier = threading.Barrier(4, timeout=30)
    errors: list[BaseException] = []

    def writer(eid: int) -> None:
        try:
            barrier.wait()
            for k in range(20):
                items = [Listing(f"{eid}-{i}", "A", "1", 1, 10.0 + i, "EUR") for i in range(200)]
                at = T0 + timedelta(hours=k)
                assert store.insert_listings(eid, items, captured_at=at, provider="proxy") == 200
        except BaseException as exc:  # reported below: a thread's assert is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(eid,)) for eid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    assert [store.count_listings(eid) for eid in ids] == [4000] * 4
    assert all(e.last_listings_fetch == T0 + timedelta(hours=19) for e in store.events())
    assert 2 <= store._connections.idle() <= 4  # several were needed, none leaked or piled up
    with psycopg.connect(store.url) as conn:
        (backends,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        ).fetchone()  # type: ignore[misc]
    assert backends == store._connections.idle()


def test_connections_killed_by_the_server_cost_one_failed_call(store: PostgresStore) -> None:
    """A server restart kills every idle connection: the call that finds one dead fails
    (one line, retried later) and takes the others with it, so the next call reconnects."""
    store.upsert_events([ev("1")], now=T0)
    with contextlib.ExitStack() as stack:  # four connections out at once, then all idle
        for _ in range(4):
            stack.enter_context(store._connections.checkout())
    assert store._connections.idle() == 4
    with psycopg.connect(store.url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(StorageError) as info:  # the call that finds it dead says so
        store.events()
    assert "retried later" in info.value.one_line()
    assert "\n" not in info.value.one_line()
    assert store._connections.idle() == 0
    assert [e.viagogo_id for e in store.events()] == ["1"]  # the next one reconnects


def test_close_also_closes_a_connection_that_was_in_use(store: PostgresStore) -> None:
    with store._connections.checkout() as conn:
        store.close()
    assert conn.closed
    assert store._connections.idle() == 0
    assert store.schema_version() == len(MIGRATIONS)  # usable again: it reconnects


def test_readers_need_no_ddl_rights_and_never_migrate(postgres_url: str) -> None:
    """show-events / price-history open the store read-only: a role that may only SELECT
    reads it; an empty database or an old schema is one line saying to run init-db, and is
    left exactly as it was."""
    with pytest.raises(NotFoundError) as info:
        open_store(postgres_url, read_only=True)
    assert "track init-db" in info.value.one_line()
    with psycopg.connect(postgres_url) as conn:
        (tables,) = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()  # type: ignore[misc]
    assert tables == 0  # the reader created nothing

    writer = open_store(postgres_url)
    writer.upsert_events([ev("1")], now=T0)
    eid = writer.find_event("1").event_id
    rows = [Listing(f"L{i}", "A", "1", 1, 10.0 + i, "EUR") for i in range(5)]
    writer.insert_listings(eid, rows, captured_at=T0, provider="proxy")
    writer.close()
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE ROLE track_reader LOGIN")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA public TO track_reader")
    reader_url = postgres_url.replace("postgresql://postgres@", "postgresql://track_reader@")
    reader = open_store(reader_url, read_only=True)
    [day] = reader.price_history(eid, since=T0 - timedelta(days=1), bucket=timedelta(days=1))
    assert (day.min, day.max, day.count) == (10.0, 14.0, 5)
    with pytest.raises(StorageError):  # it really may only read
        reader.upsert_events([ev("2")], now=T0)
    reader.close()

    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_version WHERE version = %s", (len(MIGRATIONS),))
    with pytest.raises(StorageError) as old:
        open_store(postgres_url, read_only=True)
    assert f"schema version {len(MIGRATIONS) - 1}" in old.value.one_line()
    assert "track init-db" in old.value.one_line()
    with psycopg.connect(postgres_url) as conn:
        (version,) = conn.execute("SELECT max(version) FROM schema_version").fetchone()  # type: ignore[misc]
    assert version == len(MIGRATIONS) - 1  # not migrated by the reader


class OverlapStore:
    """A PostgreSQL store whose snapshot writes each wait for a second one to start.

    A scheduler that stored snapshots on the event loop would never start the second write
    while the first waits, and the barrier would break.
    """

    def __init__(self, inner: PostgresStore, writers: int) -> None:
        self.inner = inner
        self.barrier = threading.Barrier(writers, timeout=10)
        self.threads: set[int] = set()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def insert_listings(
        self, event_id: int, listings: list[Listing], *, captured_at: datetime, provider: str
    ) -> int:
        self.threads.add(threading.get_ident())
        self.barrier.wait()  # BrokenBarrierError unless another write is in flight too
        return self.inner.insert_listings(
            event_id, listings, captured_at=captured_at, provider=provider
        )


def test_the_scheduler_stores_concurrent_snapshots_at_once_off_the_loop(
    store: PostgresStore,
) -> None:
    store.upsert_events([ev("1"), ev("2")], now=T0)
    overlap = OverlapStore(store, writers=2)
    config = ScheduleConfig(interval_hours=12, concurrency=2, poll_seconds=600, retries=0)
    sched = Scheduler(overlap, {"proxy": SlowSource()}, config, clock=SimulatedClock(T0))  # type: ignore[arg-type]
    report = asyncio.run(sched.run(until=T0 + timedelta(minutes=1)))
    assert [o.status for o in report.outcomes] == ["ok", "ok"]
    assert [store.count_listings(store.find_event(v).event_id) for v in "12"] == [1, 1]
    assert sorted(store.run_counts().values()) == [1, 1]
    assert threading.get_ident() not in overlap.threads  # written by worker threads
    assert len(overlap.threads) == 2


def test_a_timed_out_statement_is_not_reported_as_the_database_going_away(
    store: PostgresStore,
) -> None:
    def slow() -> None:
        with store._cursor(transaction=True) as cur:
            cur.execute("SET LOCAL statement_timeout = '10ms'")
            cur.execute("SELECT pg_sleep(2)")

    with pytest.raises(StorageError) as info:
        slow()
    assert "statement timeout" in info.value.one_line()
    assert "went away" not in info.value.one_line()
    assert store._connections.idle() == 1  # rolled back and kept: it was fine
    assert store.schema_version() == len(MIGRATIONS)
