"""track: ingest rate of listing snapshots (rows/s), SQLite and PostgreSQL (COPY).

Goal: ≥ 100k rows/s on each. Knobs: BENCH_TRACK_INGEST_ROWS (default 300000),
BENCH_TRACK_SNAPSHOT (listings per snapshot, default 1000), BENCH_TRACK_ROUNDS (default 3:
each round ingests into a fresh database; the median is the figure).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._track_common import env_int, loadavg, moment, snapshot, spread
from boxoffice.jobs.track.store import Store, open_store
from boxoffice.platforms.sheets.rows import EventRow


def ingest(store: Store, rows: int, size: int) -> float:
    store.upsert_events(
        [EventRow("1", "Bench", "V", "C", "UK", None, True)], now=moment(0, timedelta())
    )
    event_id = store.find_event("1").event_id
    snaps = [snapshot(1, k, size) for k in range(rows // size)]
    began = time.perf_counter()
    total = 0
    for k, items in enumerate(snaps):
        total += store.insert_listings(
            event_id, items, captured_at=moment(k, timedelta(minutes=10)), provider="bench"
        )
    elapsed = time.perf_counter() - began
    assert total == len(snaps) * size, total
    return total / elapsed


def main() -> None:
    rows = env_int("BENCH_TRACK_INGEST_ROWS", 300_000)
    size = env_int("BENCH_TRACK_SNAPSHOT", 1000)
    rounds = env_int("BENCH_TRACK_ROUNDS", 3)
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
    from tests.integration.postgres.pg_server import PostgresServer

    with PostgresServer() as server:
        rates = []
        for k in range(rounds):
            store = open_store(server.create_database(f"bench{k}"))
            rates.append(ingest(store, rows, size))
            store.close()
        print(
            f"PostgreSQL ingest: {spread(rates, ',.0f')} rows/s  (goal ≥ 100,000, COPY)  "
            f"{loadavg()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
