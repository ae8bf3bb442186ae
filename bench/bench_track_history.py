"""track: price-history of one event with 1M rows inside a 10M-row table.

Goals: ≤ 1 s on SQLite, ≤ 0.5 s on PostgreSQL (30 daily buckets with min/avg/median/max);
on a compressed TimescaleDB store price-history ≤ 0.5 s and section-prices ≤ 0.8 s, and no
slower than plain PostgreSQL on the same data (ratios printed). TimescaleDB runs on the private
build of the test suite (tests/integration/timescale), skipped when its source is missing.
Knobs: BENCH_TRACK_EVENTS (default 10), BENCH_TRACK_ROWS_PER_EVENT (default 1,000,000).
The SQLite file is generated once (in SQL) and kept in the temp dir for the next run.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import record
from bench._track_common import START, env_int, loadavg, spread, timed
from boxoffice.jobs.track.store import Store, open_store
from boxoffice.jobs.track.store.base import parse_bucket
from boxoffice.jobs.track.store.sqlite import MIGRATIONS, SqliteStore
from boxoffice.platforms.sheets.rows import EventRow

DAYS = 30
SNAPSHOT = 1000


def events(store: Store, n: int) -> None:
    store.upsert_events(
        [EventRow(str(i + 1), f"E{i + 1}", "V", "C", "UK", None, True) for i in range(n)],
        now=START,
    )


def fill_sqlite(store: SqliteStore, n_events: int, per_event: int) -> None:
    snaps = per_event // SNAPSHOT
    step = DAYS * 86400 // snaps
    total = n_events * per_event
    start = int(START.timestamp())
    store.conn.execute("BEGIN")
    store.conn.execute(
        f"""
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < {total - 1})
        INSERT INTO listings (listing_id, event_id, section, row, quantity, price_per_ticket,
                              total_price, currency, provider, captured_at)
        SELECT (i % {SNAPSHOT}) || '-' || ((i / {SNAPSHOT}) % {n_events} + 1),
               (i / {SNAPSHOT}) % {n_events} + 1,
               'S' || (i % 12), NULL, 1 + i % 4,
               40 + ((i * 7919) % 40000) / 100.0, NULL, 'EUR', 'bench',
               strftime('%Y-%m-%dT%H:%M:%S.000000Z',
                        {start} + (i / {SNAPSHOT * n_events}) * {step}, 'unixepoch')
        FROM c
        """  # noqa: S608
    )
    store.conn.execute("COMMIT")
    store.conn.execute("ANALYZE")


def fill_postgres(url: str, n_events: int, per_event: int) -> None:
    import psycopg

    snaps = per_event // SNAPSHOT
    step = DAYS * 86400 // snaps
    total = n_events * per_event
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ALTER TABLE listings DROP CONSTRAINT listings_pkey")
        conn.execute("DROP INDEX listings_event_captured")
        conn.execute(
            f"""
            INSERT INTO listings (listing_id, event_id, section, "row", quantity,
                                  price_per_ticket, total_price, currency, provider, captured_at)
            SELECT (i % {SNAPSHOT}) || '-' || ((i / {SNAPSHOT}) % {n_events} + 1),
                   (i / {SNAPSHOT}) % {n_events} + 1,
                   'S' || (i % 12), NULL, 1 + i % 4,
                   40 + ((i * 7919) % 40000) / 100.0, NULL, 'EUR', 'bench',
                   TIMESTAMPTZ '{START.isoformat()}'
                       + make_interval(secs => (i / {SNAPSHOT * n_events}) * {step})
            FROM generate_series(0::bigint, {total - 1}) AS i
            """  # noqa: S608
        )
        conn.execute("ALTER TABLE listings ADD PRIMARY KEY (captured_at, listing_id)")
        conn.execute(
            "CREATE INDEX listings_event_captured ON listings (event_id, captured_at) "
            "INCLUDE (price_per_ticket, quantity)"
        )
        conn.execute("VACUUM ANALYZE listings")


def sections(store: Store, event: str, repeat: int = 5) -> list[float]:
    """Seconds of each of ``repeat`` section-prices queries over the whole window."""
    event_id = store.find_event(event).event_id
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        store.section_prices(event_id, since=START - timedelta(days=1))
        times.append(time.perf_counter() - began)
    return times


def fill_timescale(url: str, n_events: int, per_event: int) -> None:
    """The same rows into the hypertable (key in place), then every chunk compressed."""
    import psycopg

    snaps = per_event // SNAPSHOT
    step = DAYS * 86400 // snaps
    total = n_events * per_event
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT remove_compression_policy('listings', if_exists => TRUE)")
        conn.execute(
            f"""
            INSERT INTO listings (listing_id, event_id, section, "row", quantity,
                                  price_per_ticket, total_price, currency, provider, captured_at)
            SELECT (i % {SNAPSHOT}) || '-' || ((i / {SNAPSHOT}) % {n_events} + 1),
                   (i / {SNAPSHOT}) % {n_events} + 1,
                   'S' || (i % 12), NULL, 1 + i % 4,
                   40 + ((i * 7919) % 40000) / 100.0, NULL, 'EUR', 'bench',
                   TIMESTAMPTZ '{START.isoformat()}'
                       + make_interval(secs => (i / {SNAPSHOT * n_events}) * {step})
            FROM generate_series(0::bigint, {total - 1}) AS i
            """  # noqa: S608
        )
        conn.execute("SELECT compress_chunk(c) FROM show_chunks('listings') c")
        conn.execute("VACUUM ANALYZE listings")


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def query(store: Store, event: str, repeat: int = 5) -> tuple[list[float], int]:
    """Seconds of each of ``repeat`` price-history queries, and the rows they counted."""
    event_id = store.find_event(event).event_id
    times = []
    counted = 0
    for _ in range(repeat):
        began = time.perf_counter()
        rows = store.price_history(
            event_id, since=START - timedelta(days=1), bucket=parse_bucket("1 day")
        )
        times.append(time.perf_counter() - began)
        counted = sum(r.count for r in rows)
    return times, counted


def main() -> None:
    n_events = env_int("BENCH_TRACK_EVENTS", 10)
    per_event = env_int("BENCH_TRACK_ROWS_PER_EVENT", 1_000_000)
    total = n_events * per_event
    print(
        f"cores: {os.cpu_count()}  table: {total:,} rows, event: {per_event:,} rows, "
        f"{DAYS} days  {loadavg()}"
    )
    schema = len(MIGRATIONS)  # a file kept from an older schema is made again, not migrated
    path = (
        Path(tempfile.gettempdir())
        / f"boxoffice-bench-track-{n_events}x{per_event}-v{schema}.sqlite3"
    )
    store = open_store(path)
    assert isinstance(store, SqliteStore)
    if store.count_listings() != total:
        store.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        store = open_store(path)
        assert isinstance(store, SqliteStore)
        events(store, n_events)
        with timed("SQLite data generation"):
            fill_sqlite(store, n_events, per_event)
    seconds, counted = query(store, "3")
    assert counted == per_event, counted
    print(
        f"SQLite price-history:     {spread(seconds, '.3f')} s  (goal ≤ 1 s)  {loadavg()}",
        flush=True,
    )
    store.close()

    record("track", f"SQLite price-history, 1M of {total:,} rows, 30 daily buckets",
           median(seconds), "s", goal="≤ 1 s", met=median(seconds) <= 1)  # fmt: skip

    from tests.integration.postgres.pg_server import PostgresServer

    with PostgresServer() as server:
        url = server.create_database("bench")
        pg = open_store(url)
        events(pg, n_events)
        with timed("PostgreSQL data generation"):
            fill_postgres(url, n_events, per_event)
        seconds, counted = query(pg, "3")
        assert counted == per_event, counted
        plain_history = median(seconds)
        plain_sections = median(sections(pg, "3"))
        print(
            f"PostgreSQL price-history: {spread(seconds, '.3f')} s  (goal ≤ 0.5 s)  {loadavg()}",
            flush=True,
        )
        print(f"PostgreSQL section-prices: {plain_sections:.3f} s median", flush=True)
        record("track", f"PostgreSQL price-history, 1M of {total:,} rows, 30 daily buckets",
               plain_history, "s", goal="≤ 0.5 s", met=plain_history <= 0.5)  # fmt: skip
        pg.close()
    timescale(n_events, per_event, plain_history, plain_sections)


def timescale(n_events: int, per_event: int, plain_history: float, plain_sections: float) -> None:
    """The same data on TimescaleDB, every chunk compressed; both history plans measured."""
    from tests.integration.timescale.timescale_peer import TimescaleServer, build, source_path

    if source_path() is None:
        print("TimescaleDB: skipped (no source tarball; see tests/integration/timescale)")
        return
    total = n_events * per_event
    with TimescaleServer(build()) as server:
        url = server.create_database("bench")
        ts = open_store(url)
        events(ts, n_events)
        with timed("TimescaleDB data generation + compression"):
            fill_timescale(url, n_events, per_event)
        figures = {}
        for plan in ("lateral", "grouped"):
            ts.history_plan = plan  # type: ignore[attr-defined]
            seconds, counted = query(ts, "3")
            assert counted == per_event, counted
            figures[plan] = median(seconds)
            print(f"TimescaleDB compressed, {plan} plan: price-history {spread(seconds, '.3f')} s")
        ts.history_plan = "auto"  # type: ignore[attr-defined]
        seconds, _ = query(ts, "3")
        history = median(seconds)
        section = median(sections(ts, "3"))
        print(
            f"TimescaleDB compressed (auto plan): price-history {history:.3f} s (goal ≤ 0.5 s, "
            f"{history / plain_history:.2f}× plain PostgreSQL), section-prices {section:.3f} s "
            f"(goal ≤ 0.8 s, {section / plain_sections:.2f}× plain)  {loadavg()}",
            flush=True,
        )
        what = f"1M of {total:,} rows, every chunk compressed"
        record("track", f"TimescaleDB price-history, {what}", history, "s", goal="≤ 0.5 s",
               met=history <= 0.5 and history <= plain_history * 1.05,
               baseline="plain PostgreSQL, same data", ratio=history / plain_history)  # fmt: skip
        record("track", f"TimescaleDB section-prices, {what}", section, "s", goal="≤ 0.8 s",
               met=section <= 0.8 and section <= plain_sections * 1.05,
               baseline="plain PostgreSQL, same data", ratio=section / plain_sections)  # fmt: skip
        ts.close()


if __name__ == "__main__":
    main()
