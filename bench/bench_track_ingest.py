"""track: ingest rate of listing snapshots (rows/s), SQLite and PostgreSQL (COPY).

Goal: ≥ 100k rows/s on each. SQLite has one writer: snapshots are stored one after the
other. PostgreSQL is measured twice: one writer, and as the scheduler stores on PostgreSQL,
``track.concurrency`` snapshots (default 4, one event each) at once from worker threads
through one store (one connection per writer). Knobs: BENCH_TRACK_INGEST_ROWS (default
300000), BENCH_TRACK_SNAPSHOT (listings per snapshot, default 1000), BENCH_TRACK_ROUNDS
(default 3: each round ingests into a fresh database; the median is the figure),
BENCH_TRACK_WRITERS (default: the track.concurrency default).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._results import record
from bench._track_common import env_int, loadavg, moment, snapshot, spread
from boxoffice.jobs.track.store import Store, open_store
from boxoffice.platforms.sheets.rows import EventRow
from boxoffice.settings.track import TrackSettings


def ingest(store: Store, rows: int, size: int, writers: int = 1) -> float:
    """Rows/s storing ``rows`` rows as snapshots of ``size``, ``writers`` events at once."""
    store.upsert_events(
        [EventRow(str(w), "Bench", "V", "C", "UK", None, True) for w in range(writers)],
        now=moment(0, timedelta()),
    )
    event_ids = [store.find_event(str(w)).event_id for w in range(writers)]
    per_writer = rows // size // writers
    snaps = [[snapshot(w, k, size) for k in range(per_writer)] for w in range(writers)]

    def write(w: int) -> int:
        return sum(
            store.insert_listings(
                event_ids[w], items, captured_at=moment(k, timedelta(minutes=10)), provider="bench"
            )
            for k, items in enumerate(snaps[w])
        )

    began = time.perf_counter()
    if writers == 1:
        total = write(0)
    else:
        with ThreadPoolExecutor(writers) as pool:
            total = sum(pool.map(write, range(writers)))
    elapsed = time.perf_counter() - began
    assert total == writers * per_writer * size, total
    return total / elapsed


def main() -> None:
    rows = env_int("BENCH_TRACK_INGEST_ROWS", 300_000)
    size = env_int("BENCH_TRACK_SNAPSHOT", 1000)
    rounds = env_int("BENCH_TRACK_ROUNDS", 3)
    default_writers = TrackSettings.model_fields["concurrency"].default
    writers = env_int("BENCH_TRACK_WRITERS", default_writers)
    print(f"cores: {os.cpu_count()}  rows: {rows:,} in snapshots of {size}  {loadavg()}")
    rates = []
    for k in range(rounds):
        with tempfile.TemporaryDirectory() as tmp:
            store = open_store(Path(tmp) / f"bench{k}.sqlite3")
            rates.append(ingest(store, rows, size))
            store.close()
    print(
        f"SQLite ingest:     {spread(rates, ',.0f')} rows/s  (goal ≥ 100,000)  {loadavg()}",
        flush=True,
    )
    best = statistics.median(rates)
    record(
        "track",
        "SQLite ingest (median of rounds)",
        best,
        "rows/s",
        goal="≥ 100,000 rows/s",
        met=best >= 100_000,
    )
    from tests.integration.postgres.pg_server import PostgresServer

    with PostgresServer() as server:
        for label, n in (("1 writer", 1), (f"{writers} writers", writers)):
            rates = []
            for k in range(rounds):
                store = open_store(server.create_database(f"bench{n}_{k}"))
                rates.append(ingest(store, rows, size, n))
                store.close()
            print(
                f"PostgreSQL ingest, {label}: {spread(rates, ',.0f')} rows/s  "
                f"(goal ≥ 100,000, COPY)  {loadavg()}",
                flush=True,
            )
            median = statistics.median(rates)
            record(
                "track",
                f"PostgreSQL ingest, {label} (median of rounds)",
                median,
                "rows/s",
                goal="≥ 100,000 rows/s",
                met=median >= 100_000,
            )


if __name__ == "__main__":
    main()
