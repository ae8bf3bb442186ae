"""The track store on a real TimescaleDB (built from source, preloaded): set-up, reconciling the
settings, compressed chunks, upgrades, concurrency, and the same analytics as the other stores.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from structlog.testing import capture_logs
from tests.integration.postgres.pg_server import PostgresServer

from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.base import Store, StoredListing
from boxoffice.jobs.track.store.postgres import MIGRATIONS, PostgresStore
from boxoffice.platforms.sheets.rows import EventRow

pytestmark = pytest.mark.timescale

NOW = datetime.now(UTC).replace(microsecond=0)


def ev(vid: str) -> EventRow:
    return EventRow(vid, f"Show {vid}", "Venue", "City", "UK", NOW + timedelta(days=60), True)


def rows_for(
    event_id: int, *, days: int = 20, per_day: int = 40, seed: int = 7
) -> list[StoredListing]:
    """Listings over the last ``days`` days, four sections, prices with a random walk."""
    rng = random.Random(seed)
    out = []
    for d in range(days, 0, -1):
        captured = NOW - timedelta(days=d, hours=rng.randint(0, 5))
        for i in range(per_day):
            price = round(50 + 40 * rng.random() + d, 2)
            quantity = rng.randint(1, 4)
            out.append(
                StoredListing(
                    f"L{event_id}-{i}", event_id, f"Sec {i % 4}", str(i % 9), quantity,
                    price, price * quantity, "EUR", "proxy", captured,
                )
            )  # fmt: skip
    return out


def fill(store: Store, vid: str = "151") -> int:
    store.upsert_events([ev(vid)], now=NOW)
    event_id = store.find_event(vid).event_id
    store.insert_listing_rows(rows_for(event_id))
    return event_id


def query(url: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return list(conn.execute(sql.encode(), params).fetchall())


def compress_all(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        done = conn.execute(
            "SELECT compress_chunk(c, if_not_compressed => TRUE) FROM show_chunks('listings') c"
        ).fetchall()
    return len(done)


def cli(
    url: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice", "track", *args, "--db", url],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
        check=False,
    )


@pytest.fixture
def ts_store(timescale_url: str) -> Iterator[PostgresStore]:
    # no policy: the tests compress chunks themselves, and a policy job running at the same
    # moment would compress them first
    store = open_store(timescale_url, compress_after=None)
    assert isinstance(store, PostgresStore)
    yield store
    store.close()


def shape(url: str) -> dict[str, object]:
    """What TimescaleDB's catalog and PostgreSQL's say about listings."""
    pk = query(
        url,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = 'listings'::regclass AND contype = 'p'",
    )
    collation = query(
        url,
        "SELECT collation_name FROM information_schema.columns "
        "WHERE table_name = 'listings' AND column_name = 'listing_id'",
    )
    hyper = query(
        url,
        "SELECT hypertable_schema, compression_enabled FROM timescaledb_information.hypertables "
        "WHERE hypertable_name = 'listings'",
    )
    segment = query(
        url,
        "SELECT attname FROM timescaledb_information.compression_settings "
        "WHERE hypertable_name = 'listings' AND segmentby_column_index IS NOT NULL",
    )
    policy = query(
        url,
        "SELECT config->>'compress_after' FROM timescaledb_information.jobs "
        "WHERE proc_name = 'policy_compression' AND hypertable_name = 'listings'",
    )
    indexes = [
        r[0] for r in query(url, "SELECT indexdef FROM pg_indexes WHERE tablename = 'listings'")
    ]
    return {
        "pk": pk[0][0] if pk else None,
        "collation": collation[0][0] if collation else None,
        "hypertable": hyper,
        "segmentby": [r[0] for r in segment],
        "policy": [r[0] for r in policy],
        "indexes": indexes,
    }


def test_init_db_on_an_empty_database_makes_the_compressed_hypertable(timescale_url: str) -> None:
    proc = cli(timescale_url, "init-db")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "changed: extension timescaledb 2.28.3 created" in out
    assert "changed: listings made a hypertable on captured_at" in out
    assert "changed: compression by event enabled" in out
    assert "changed: compression policy none → 7 days" in out
    assert "TimescaleDB 2.28.3: hypertable, compression by event_id, policy after 7 days" in out
    got = shape(timescale_url)
    assert got["hypertable"] == [("public", True)]
    assert got["segmentby"] == ["event_id"]
    assert got["policy"] == ["7 days"]
    assert got["pk"] == "PRIMARY KEY (captured_at, listing_id)"
    assert got["collation"] == "C"
    # no default (captured_at DESC) index duplicating the key
    assert not [i for i in got["indexes"] if "captured_at DESC" in str(i)]
    again = cli(timescale_url, "init-db")  # a rerun changes nothing and says so
    assert again.returncode == 0, again.stderr
    assert "changed:" not in again.stdout
    assert "policy after 7 days" in again.stdout


def test_extension_created_first_by_an_admin_still_gets_the_current_layout(
    timescale_url: str,
) -> None:
    with psycopg.connect(timescale_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION timescaledb")
    store = open_store(timescale_url)
    store.close()
    got = shape(timescale_url)
    assert got["pk"] == "PRIMARY KEY (captured_at, listing_id)"  # migration 2 ran
    assert got["collation"] == "C"  # migration 3 ran
    assert got["hypertable"] == [("public", True)]


def test_three_concurrent_init_dbs_agree(timescale_url: str) -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "boxoffice", "track", "init-db", "--db", timescale_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    for out, err, code in results:
        assert code == 0, err
        assert "plain PostgreSQL" not in out + err
        assert "not preloaded" not in out + err
        assert "hypertable, compression by event_id, policy after 7 days" in out
    created = [out for out, _, _ in results if "changed: extension timescaledb" in out]
    assert len(created) == 1  # the others waited on the lock and found it done
    assert shape(timescale_url)["policy"] == ["7 days"]
    assert query(timescale_url, "SELECT version FROM schema_version ORDER BY 1") == [
        (i,) for i in range(1, len(MIGRATIONS) + 1)
    ]


def test_init_db_reconciles_the_compression_policy_with_the_settings(timescale_url: str) -> None:
    assert cli(timescale_url, "init-db").returncode == 0
    changed = cli(timescale_url, "init-db", env={"BOXOFFICE_TRACK_COMPRESS_AFTER": "2 days"})
    assert changed.returncode == 0, changed.stderr
    assert "changed: compression policy 7 days → 2 days" in changed.stdout
    assert shape(timescale_url)["policy"] == ["2 days"]
    removed = cli(timescale_url, "init-db", env={"BOXOFFICE_TRACK_COMPRESS_AFTER": ""})
    assert removed.returncode == 0, removed.stderr
    assert "changed: compression policy 2 days → none" in removed.stdout
    assert "no compression policy" in removed.stdout
    assert shape(timescale_url)["policy"] == []


def test_a_half_finished_set_up_is_completed(timescale_url: str) -> None:
    """A hypertable made by hand without compression: init-db adds what is missing."""
    with psycopg.connect(timescale_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION timescaledb")
        for migration in MIGRATIONS:
            conn.execute(migration.encode())
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for i in range(1, len(MIGRATIONS) + 1):
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (i,))
        conn.execute("SELECT create_hypertable('listings', 'captured_at')")
    proc = cli(timescale_url, "init-db")
    assert proc.returncode == 0, proc.stderr
    assert "changed: listings made a hypertable" not in proc.stdout
    assert "changed: compression by event enabled" in proc.stdout
    assert "changed: compression policy none → 7 days" in proc.stdout
    assert shape(timescale_url)["segmentby"] == ["event_id"]


def test_ingest_into_compressed_chunks_duplicates_and_cleanup(
    ts_store: PostgresStore, timescale_url: str
) -> None:
    event_id = fill(ts_store)
    before = ts_store.count_listings(event_id)
    assert compress_all(timescale_url) >= 2
    compressed = query(
        timescale_url,
        "SELECT count(*) FROM timescaledb_information.chunks "
        "WHERE hypertable_name = 'listings' AND is_compressed",
    )[0][0]
    assert int(str(compressed)) >= 2
    # the same rows again (duplicates), plus new ones in the compressed range
    again = rows_for(event_id)
    extra = [
        StoredListing(
            f"NEW-{i}", event_id, "Sec 9", "1", 2, 99.0, 198.0, "EUR", "proxy",
            NOW - timedelta(days=15, minutes=i),
        )
        for i in range(5)
    ]  # fmt: skip
    assert ts_store.insert_listing_rows(again + extra) == 5
    assert ts_store.count_listings(event_id) == before + 5
    other = fill(ts_store, "152")
    events, deleted = ts_store.delete_events([event_id])
    assert (events, deleted) == (1, before + 5)
    assert ts_store.count_listings(event_id) == 0
    assert ts_store.count_listings(other) > 0


def test_a_plain_postgresql_store_is_upgraded_with_its_rows(timescale_url: str) -> None:
    """A store made without the extension (rows in a plain table) becomes a hypertable."""
    url = timescale_url
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
            "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        for i, migration in enumerate(MIGRATIONS, 1):
            conn.execute(migration.encode())
            conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (i,))
        conn.execute("INSERT INTO events (viagogo_id, name) VALUES ('151', 'Show')")
        event_id = int(str(conn.execute("SELECT event_id FROM events").fetchone()[0]))  # type: ignore[index]
    plain = open_store(url, migrate=False)
    plain.insert_listing_rows(rows_for(event_id))
    count = plain.count_listings(event_id)
    history = plain.price_history(
        event_id, since=NOW - timedelta(days=30), bucket=timedelta(days=1)
    )
    plain.close()
    upgraded = open_store(url)
    assert isinstance(upgraded, PostgresStore)
    assert upgraded.timescale.usable
    assert upgraded.count_listings(event_id) == count
    after = upgraded.price_history(
        event_id, since=NOW - timedelta(days=30), bucket=timedelta(days=1)
    )
    assert [(b.bucket, b.count, b.median) for b in after] == [
        (b.bucket, b.count, b.median) for b in history
    ]
    upgraded.close()


def _same(a: list[object], b: list[object]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        for name, vx in vars(x).items():
            vy = vars(y)[name]
            if isinstance(vx, float):
                assert math.isclose(vx, vy, rel_tol=1e-9, abs_tol=1e-9), (name, vx, vy)
            else:
                assert vx == vy, (name, vx, vy)


def test_price_history_and_sections_are_equal_on_all_three_stores(
    timescale_url: str, plain_url: str, tmp_path: Path
) -> None:
    stores = [
        open_store(timescale_url, compress_after=None),  # compressed below, not by a policy job
        open_store(plain_url),
        open_store(tmp_path / "t.sqlite3"),
    ]
    try:
        ids = [fill(s) for s in stores]
        assert compress_all(timescale_url) >= 2  # most of a 30-day question reads compressed data
        since = NOW - timedelta(days=30)
        histories = [
            s.price_history(i, since=since, bucket=timedelta(days=1))
            for s, i in zip(stores, ids, strict=True)
        ]
        sections = [s.section_prices(i, since=since) for s, i in zip(stores, ids, strict=True)]
        assert len(histories[0]) >= 10  # one capture a day over 20 days (two may share a day)
        _same(histories[0], histories[1])  # type: ignore[arg-type]
        _same(histories[0], histories[2])  # type: ignore[arg-type]
        _same(sections[0], sections[1])  # type: ignore[arg-type]
        _same(sections[0], sections[2])  # type: ignore[arg-type]
    finally:
        for s in stores:
            s.close()


def test_not_preloaded_the_extension_is_refused_and_init_db_stays_plain(
    unpreloaded_server: PostgresServer,
) -> None:
    url = unpreloaded_server.create_database()
    with psycopg.connect(url, autocommit=True) as conn, pytest.raises(psycopg.Error) as refused:
        conn.execute("CREATE EXTENSION timescaledb")  # what init-db must not run here
    assert 'extension "timescaledb" must be preloaded' in str(refused.value)
    with capture_logs() as logs:
        proc = cli(url, "init-db")
        store = open_store(url)
    assert proc.returncode == 0, proc.stderr
    assert "TimescaleDB 2.28.3 available but not preloaded" in proc.stdout
    assert "shared_preload_libraries" in proc.stderr
    assert isinstance(store, PostgresStore)
    assert not store.timescale.usable
    assert store.bucket_sql().startswith("date_bin(")
    store.close()
    warned = [e for e in logs if "not preloaded" in e["event"]]
    assert warned
    assert "shared_preload_libraries" in warned[0]["hint"]


def test_doctor_reports_the_extension_the_store_and_failed_jobs(timescale_url: str) -> None:
    assert cli(timescale_url, "init-db").returncode == 0
    (job_id,) = query(
        timescale_url,
        "SELECT job_id FROM timescaledb_information.jobs WHERE proc_name = 'policy_compression'",
    )[0]
    with psycopg.connect(timescale_url, autocommit=True) as conn:  # run the policy now
        conn.execute("SELECT alter_job(%s, next_start => now())", (job_id,))
    status = None
    for _ in range(200):  # the background worker picks it up within seconds
        rows = query(
            timescale_url,
            "SELECT last_run_status FROM timescaledb_information.job_stats WHERE job_id = %s",
            (job_id,),
        )
        status = rows[0][0] if rows else None
        if status in ("Success", "Failed"):
            break
        time.sleep(0.1)
    assert status in ("Success", "Failed")
    proc = subprocess.run(
        [sys.executable, "-m", "boxoffice", "doctor", "--json"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "BOXOFFICE_DB_URL": timescale_url},
    )  # fmt: skip
    checks = {c["name"]: c for c in json.loads(proc.stdout)}
    assert checks["timescaledb"]["ok"]
    assert checks["timescaledb"]["detail"] == (
        "TimescaleDB 2.28.3: hypertable, compression by event_id, policy after 7 days"
    )
    jobs = checks["timescaledb jobs"]
    if status == "Failed":  # PostgreSQL 15.20's upstream bug, or any other failure
        assert not jobs["ok"]
        assert f"CALL run_job({job_id});" in jobs["detail"]
        with psycopg.connect(timescale_url, autocommit=True) as conn:  # what the advice says
            conn.execute(f"CALL run_job({job_id})")
    else:
        assert jobs["ok"], jobs
        assert jobs["detail"] == "no failed background jobs"
