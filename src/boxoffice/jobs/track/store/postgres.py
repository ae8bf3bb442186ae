"""PostgreSQL backend (psycopg 3): TIMESTAMPTZ, COPY for bulk inserts, row-locked claims.

* Schema versions live in ``schema_version``; migrations run under an advisory lock so two
  processes starting together migrate once.
* Listings are written with ``COPY`` (a snapshot with a duplicate key falls back to a staging
  table and ``INSERT … ON CONFLICT DO NOTHING``).
* Buckets: ``date_bin`` on plain PostgreSQL, ``time_bucket`` on TimescaleDB (detected, see
  :mod:`.timescale`); medians with ``percentile_cont(0.5)``.
* Several schedulers share the events: due runs are claimed with
  ``FOR UPDATE … SKIP LOCKED`` and a lease, so no run happens twice.
"""

# SQL text is only ever built from constant column/table names in this module: values are
# always bound parameters.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from boxoffice.core.logging import redact_url
from boxoffice.errors import NotFoundError, StorageError
from boxoffice.jobs.track.store import timescale
from boxoffice.jobs.track.store._common import iso
from boxoffice.jobs.track.store.alerts_sql import POSTGRES_MIGRATION
from boxoffice.jobs.track.store.base import (
    BucketStats,
    ClaimedRun,
    HeldClaim,
    SectionStats,
    StoredEvent,
    StoredListing,
    UpsertResult,
    parse_bucket,
    upsert_action,
)
from boxoffice.jobs.track.store.pg_connections import Connections
from boxoffice.platforms.listings.models import Listing, StatsSnapshot
from boxoffice.platforms.sheets.rows import EventRow

MIGRATION_LOCK = 7_246_133  # pg_advisory_xact_lock key of boxoffice track migrations
MAX_LATERAL_BUCKETS = 2000

# plpgsql: hyper := listings (in this schema) is a TimescaleDB hypertable. The view exists
# only with the extension, so it is looked up dynamically.
_IS_HYPERTABLE = """
        IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb') THEN
            EXECUTE 'SELECT EXISTS (SELECT 1 FROM timescaledb_information.hypertables '
                || 'WHERE hypertable_schema = current_schema() '
                || 'AND hypertable_name = ''listings'')' INTO hyper;
        END IF;"""

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        event_id BIGSERIAL PRIMARY KEY,
        viagogo_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        venue TEXT NOT NULL DEFAULT '',
        city TEXT NOT NULL DEFAULT '',
        country TEXT NOT NULL DEFAULT '',
        event_date TIMESTAMPTZ,
        is_tracked BOOLEAN NOT NULL DEFAULT TRUE,
        source TEXT,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        last_listings_fetch TIMESTAMPTZ
    );
    CREATE TABLE listings (
        listing_id TEXT NOT NULL,
        event_id BIGINT NOT NULL,
        section TEXT,
        "row" TEXT,
        quantity INTEGER NOT NULL,
        price_per_ticket DOUBLE PRECISION NOT NULL,
        total_price DOUBLE PRECISION,
        currency TEXT,
        provider TEXT NOT NULL,
        captured_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (listing_id, captured_at)
    );
    CREATE INDEX listings_event_captured ON listings (event_id, captured_at)
        INCLUDE (price_per_ticket, quantity);
    CREATE TABLE stats_snapshots (
        event_id BIGINT NOT NULL,
        provider TEXT NOT NULL,
        captured_at TIMESTAMPTZ NOT NULL,
        lowest DOUBLE PRECISION,
        average DOUBLE PRECISION,
        median DOUBLE PRECISION,
        highest DOUBLE PRECISION,
        listing_count INTEGER,
        PRIMARY KEY (event_id, provider, captured_at)
    );
    CREATE TABLE schedule (
        event_id BIGINT PRIMARY KEY REFERENCES events (event_id) ON DELETE CASCADE,
        next_run_at TIMESTAMPTZ NOT NULL,
        claimed_by TEXT,
        claimed_until TIMESTAMPTZ
    );
    CREATE INDEX schedule_next_run ON schedule (next_run_at);
    CREATE TABLE runs (
        run_id BIGSERIAL PRIMARY KEY,
        event_id BIGINT NOT NULL,
        worker TEXT NOT NULL,
        due_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ NOT NULL,
        status TEXT NOT NULL,
        listings INTEGER NOT NULL,
        duration_s DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX runs_event ON runs (event_id);
    """,
    # 2: the same key, (listing_id, captured_at) of DESIGN §6, declared captured_at first (as
    # in SQLite): a snapshot (one captured_at) then appends to the right edge of the key's
    # B-tree instead of touching one leaf page per listing_id, a quarter faster to ingest.
    # A TimescaleDB hypertable keeps its key (it cannot be rebuilt under compression); whether
    # listings *is* one decides, not whether the extension exists (an admin may have created it
    # before the first init-db, when listings is still a plain table).
    f"""
    DO $$
    DECLARE hyper boolean := false;
    BEGIN
        {_IS_HYPERTABLE}
        IF NOT hyper THEN
            ALTER TABLE listings DROP CONSTRAINT listings_pkey;
            ALTER TABLE listings ADD PRIMARY KEY (captured_at, listing_id);
        END IF;
    END
    $$;
    """,
    # 3: listing ids are opaque, so byte order (COLLATE "C") serves them: every key comparison
    # becomes a memcmp instead of the locale's strcoll (ingest ~13 % faster with C.UTF-8, more
    # under en_US). Rebuilds the key index once. A TimescaleDB hypertable keeps its column.
    f"""
    DO $$
    DECLARE hyper boolean := false;
    BEGIN
        {_IS_HYPERTABLE}
        IF NOT hyper THEN
            ALTER TABLE listings ALTER COLUMN listing_id TYPE TEXT COLLATE "C";
        END IF;
    END
    $$;
    """,
    # price alerts (boxoffice track alert …): one row per alert, its armed/fired state
    POSTGRES_MIGRATION,
)

_LISTING_COLUMNS = (
    'listing_id, event_id, section, "row", quantity, price_per_ticket, total_price, currency, '
    "provider, captured_at"
)
_BINARY = "(FORMAT BINARY)"
_COPY_TYPES = [
    "text", "int8", "text", "text", "int4", "float8", "float8", "text", "text", "timestamptz",
]  # fmt: skip
_EVENT_COLUMNS = (
    "e.event_id, e.viagogo_id, e.name, e.venue, e.city, e.country, e.event_date, e.is_tracked, "
    "e.source, e.created_at, e.updated_at, e.last_listings_fetch, s.next_run_at"
)


# the end of an analytics window (``until``, inclusive; none given: the end of time)
_UNTIL = "AND captured_at <= %(until)s"
_NO_END = datetime.max.replace(tzinfo=UTC)


def describe_url(url: str) -> str:
    """Where a PostgreSQL URL points, as errors and ``store ready`` show it — never the password.

    A URL is shown as :func:`~boxoffice.core.logging.redact_url` does
    (``postgresql://user:***@host:port/db``); a ``key=value`` connection string as
    ``PostgreSQL host:port/dbname``.
    """
    if "://" in url:
        return redact_url(url)
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "PostgreSQL (unparsable URL)"
    host = info.get("host") or "localhost"
    port = info.get("port") or "5432"
    return f"PostgreSQL {host}:{port}/{info.get('dbname') or info.get('user') or ''}"


def _event(row: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        event_id=int(row[0]),
        viagogo_id=row[1],
        name=row[2],
        venue=row[3],
        city=row[4],
        country=row[5],
        event_date=row[6],
        is_tracked=bool(row[7]),
        source=row[8],
        created_at=row[9],
        updated_at=row[10],
        last_listings_fetch=row[11],
        next_run_at=row[12],
    )


def _listing(row: Sequence[Any]) -> StoredListing:
    return StoredListing(
        listing_id=row[0],
        event_id=int(row[1]),
        section=row[2],
        row=row[3],
        quantity=int(row[4]),
        price_per_ticket=float(row[5]),
        total_price=None if row[6] is None else float(row[6]),
        currency=row[7],
        provider=row[8],
        captured_at=row[9],
    )


class PostgresStore:
    """The store in PostgreSQL (TimescaleDB used when the server has it)."""

    backend = "postgresql"
    concurrent_writes = True
    #: "auto" (see :meth:`price_history`), or "lateral" / "grouped" to force one plan
    history_plan = "auto"

    def __init__(
        self,
        url: str,
        *,
        compress_after: str | None = "7 days",
        migrate: bool = True,
        read_only: bool = False,
    ) -> None:
        """Connect; then migrate (a writer) or check the schema is current (``read_only``:
        a reader never changes the database, so it needs no DDL rights)."""
        self.url = url
        self.label = describe_url(url)
        self.compress_after = parse_bucket(compress_after) if compress_after else None
        self._connections = Connections(url, self.label)
        self.timescale = timescale.TimescaleStatus(installed=None, available=None)
        with self._connections.checkout():  # fails fast on a bad URL or a server down
            pass
        try:
            if read_only:
                self._check_schema()
            elif migrate:
                self.migrate()
        except BaseException:
            self._connections.close()
            raise

    def describe(self) -> str:
        """Where the data is (no password)."""
        return self.label

    # connection -------------------------------------------------------------------------

    @contextmanager
    def _cursor(self, *, transaction: bool = False) -> Iterator[psycopg.Cursor[Any]]:
        """A cursor on a connection of this caller's own (thread-safe), errors mapped."""
        with self._connections.checkout() as conn:
            try:
                if transaction:
                    with conn.transaction(), conn.cursor() as cur:
                        yield cur
                else:
                    with conn.cursor() as cur:
                        yield cur
            except psycopg.Error as exc:
                raise self._error(exc, lost=conn.broken or conn.closed) from None

    def _error(self, exc: psycopg.Error, *, lost: bool) -> StorageError:
        """One line for a failed statement; a lost connection says it is retried later."""
        text = " ".join(str(exc).split())
        if lost:
            return StorageError(
                f"{self.label}: {text or 'connection lost'}",
                hint="the database went away; it is retried later",
            )
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StorageError(f"{self.label}: {first}")

    def close(self) -> None:
        """Close the connections (one in use closes when its call ends); the store connects
        again if used later."""
        self._connections.close()

    # schema -----------------------------------------------------------------------------

    def migrate(self) -> int:
        """Apply pending migrations and bring TimescaleDB in line with the settings (where the
        server has it), in one transaction under an advisory lock: concurrent runs wait for
        each other and nothing is left half done."""
        with self._cursor(transaction=True) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                "version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            row = cur.fetchone()
            version = int(row[0]) if row else 0
            if version > len(MIGRATIONS):
                raise StorageError(
                    f"{self.label}: schema version {version} is newer than this boxoffice "
                    f"knows ({len(MIGRATIONS)})",
                    hint="upgrade boxoffice",
                )
            for index in range(version, len(MIGRATIONS)):
                cur.execute(MIGRATIONS[index].encode())
                cur.execute("INSERT INTO schema_version (version) VALUES (%s)", (index + 1,))
            self.timescale = timescale.reconcile(cur, compress_after=self.compress_after)
        return len(MIGRATIONS)

    def _check_schema(self) -> None:
        """A reader's check: the schema exists and is this boxoffice's; TimescaleDB detected."""
        with self._cursor() as cur:
            cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
            row = cur.fetchone()
            self.timescale = timescale.detect(cur)
        if not (row and row[0]):
            raise NotFoundError(
                f"no boxoffice track tables in {self.label}",
                hint="run `boxoffice track init-db` (or check --db / BOXOFFICE_DB_URL)",
            )
        version = self.schema_version()
        if version != len(MIGRATIONS):
            raise StorageError(
                f"{self.label}: schema version {version}, this boxoffice uses {len(MIGRATIONS)}",
                hint="run `boxoffice track init-db`"
                if version < len(MIGRATIONS)
                else "upgrade boxoffice",
            )

    def schema_version(self) -> int:
        """Highest applied migration."""
        with self._cursor() as cur:
            cur.execute("SELECT coalesce(max(version), 0) FROM schema_version")
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # events -----------------------------------------------------------------------------

    def upsert_events(self, rows: Sequence[EventRow], *, now: datetime) -> UpsertResult:
        """Insert new events, update changed ones; all end up tracked."""
        actions = []
        with self._cursor(transaction=True) as cur:
            for row in rows:
                values = (row.name, row.venue, row.city, row.country, row.event_date, row.source)
                cur.execute(
                    "SELECT event_id, name, venue, city, country, event_date, source, is_tracked "
                    "FROM events WHERE viagogo_id = %s FOR UPDATE",
                    (row.viagogo_id,),
                )
                found = cur.fetchone()
                action = upsert_action(found, values)
                if action == "insert":
                    cur.execute(
                        "INSERT INTO events (viagogo_id, name, venue, city, country, event_date, "
                        "source, is_tracked, created_at, updated_at) "
                        "VALUES (%s, %s, %s, %s, %s, %s, %s, TRUE, %s, %s)",
                        (row.viagogo_id, *values, now, now),
                    )
                elif action == "update":
                    assert found is not None  # only a stored event is updated
                    cur.execute(
                        "UPDATE events SET name = %s, venue = %s, city = %s, country = %s, "
                        "event_date = %s, source = %s, is_tracked = TRUE, updated_at = %s "
                        "WHERE event_id = %s",
                        (*values, now, found[0]),
                    )
                actions.append(action)
        return UpsertResult.count(actions)

    def events(self, *, tracked_only: bool = False) -> list[StoredEvent]:
        """All events with their next run, by event id."""
        where = "WHERE e.is_tracked" if tracked_only else ""
        with self._cursor() as cur:
            cur.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events e LEFT JOIN schedule s "
                f"ON s.event_id = e.event_id {where} ORDER BY e.event_id"
            )
            return [_event(r) for r in cur.fetchall()]

    def find_event(self, ref: str) -> StoredEvent:
        """By viagogo id, then by event id."""
        with self._cursor() as cur:
            cur.execute(
                f"SELECT {_EVENT_COLUMNS} FROM events e LEFT JOIN schedule s "
                "ON s.event_id = e.event_id WHERE e.viagogo_id = %s",
                (ref,),
            )
            row = cur.fetchone()
            if row is None and ref.isdigit() and len(ref) < 19:
                cur.execute(
                    f"SELECT {_EVENT_COLUMNS} FROM events e LEFT JOIN schedule s "
                    "ON s.event_id = e.event_id WHERE e.event_id = %s",
                    (int(ref),),
                )
                row = cur.fetchone()
        if row is None:
            raise NotFoundError(
                f"no event {ref!r} in {self.label}",
                hint="give the event id or viagogo id shown by `boxoffice track show-events`",
            )
        return _event(row)

    def mark_untracked(self, event_ids: Sequence[int], *, now: datetime) -> int:
        """Stop tracking (data kept)."""
        with self._cursor(transaction=True) as cur:
            cur.execute(
                "UPDATE events SET is_tracked = FALSE, updated_at = %s "
                "WHERE event_id = ANY(%s) AND is_tracked",
                (now, list(event_ids)),
            )
            count = cur.rowcount
            cur.execute("DELETE FROM schedule WHERE event_id = ANY(%s)", (list(event_ids),))
        return count

    def delete_events(self, event_ids: Sequence[int]) -> tuple[int, int]:
        """Remove events with their listings, stats, schedule and run log."""
        ids = list(event_ids)
        with self._cursor(transaction=True) as cur:
            cur.execute("DELETE FROM listings WHERE event_id = ANY(%s)", (ids,))
            listings = cur.rowcount
            for table in ("stats_snapshots", "schedule", "runs"):
                cur.execute(f"DELETE FROM {table} WHERE event_id = ANY(%s)", (ids,))
            cur.execute("DELETE FROM events WHERE event_id = ANY(%s)", (ids,))
            events = cur.rowcount
        return events, listings

    # listings ---------------------------------------------------------------------------

    def _copy(
        self,
        rows: Iterable[tuple[Any, ...]],
        *,
        then: sql.Composed | None = None,
    ) -> int:
        """COPY rows in (and run ``then`` in the same transaction); on a duplicate key, redo
        through a staging table ignoring conflicts.

        ``rows`` is consumed while the COPY streams (the server already inserts the first
        rows while later ones are built) and kept for the redo. The transaction is opened by
        hand so that ``BEGIN`` and ``then`` (client-side literals) share one round trip.
        """
        done: list[tuple[Any, ...]] = []
        pending = iter(rows)
        try:
            with self._cursor() as cur:
                cur.execute(sql.SQL("BEGIN; {}").format(then) if then is not None else "BEGIN")
                try:
                    first = next(pending, None)
                    if first is not None:
                        with cur.copy(
                            f"COPY listings ({_LISTING_COLUMNS}) FROM STDIN {_BINARY}"
                        ) as copy:
                            copy.set_types(_COPY_TYPES)
                            write, keep = copy.write_row, done.append
                            keep(first)
                            write(first)
                            for row in pending:
                                keep(row)
                                write(row)
                    cur.execute("COMMIT")
                except BaseException:
                    conn = cur.connection
                    if not conn.closed and not conn.broken:
                        with contextlib.suppress(psycopg.Error):
                            conn.execute("ROLLBACK")
                    raise
                return len(done)
        except StorageError as exc:
            if "duplicate key" not in exc.message:
                raise
        done.extend(pending)  # a failed COPY may leave rows unread
        rows = done
        with self._cursor(transaction=True) as cur:
            cur.execute(
                "CREATE TEMP TABLE listings_stage (LIKE listings INCLUDING DEFAULTS) ON COMMIT DROP"
            )
            with cur.copy(f"COPY listings_stage ({_LISTING_COLUMNS}) FROM STDIN {_BINARY}") as copy:
                copy.set_types(_COPY_TYPES)
                for row in rows:
                    copy.write_row(row)
            cur.execute(
                f"INSERT INTO listings ({_LISTING_COLUMNS}) "
                f"SELECT {_LISTING_COLUMNS} FROM listings_stage ON CONFLICT DO NOTHING"
            )
            inserted = cur.rowcount
            if then is not None:
                cur.execute(then)
            return inserted

    def insert_listings(
        self,
        event_id: int,
        listings: Iterable[Listing],
        *,
        captured_at: datetime,
        provider: str,
    ) -> int:
        """One snapshot via COPY; duplicates of (listing_id, captured_at) are ignored."""
        # one tuple per listing, built inline (no method call per row): total() by hand
        rows = (
            (
                item.listing_id,
                event_id,
                item.section,
                item.row,
                item.quantity,
                item.price_per_ticket,
                item.total_price
                if item.total_price is not None
                else round(item.price_per_ticket * item.quantity, 2),
                item.currency,
                provider,
                captured_at,
            )
            for item in listings
        )
        return self._copy(
            rows,
            then=sql.SQL("UPDATE events SET last_listings_fetch = {} WHERE event_id = {}").format(
                sql.Literal(captured_at), sql.Literal(event_id)
            ),
        )

    def insert_listing_rows(self, rows: Iterable[StoredListing]) -> int:
        """Bulk insert via COPY (imports, benchmarks); duplicates ignored."""
        return self._copy(
            [
                (
                    r.listing_id,
                    r.event_id,
                    r.section,
                    r.row,
                    r.quantity,
                    r.price_per_ticket,
                    r.total_price,
                    r.currency,
                    r.provider,
                    r.captured_at,
                )
                for r in rows
            ]
        )

    def insert_stats(
        self, event_id: int, stats: StatsSnapshot, *, captured_at: datetime, provider: str
    ) -> None:
        """One stats snapshot."""
        with self._cursor(transaction=True) as cur:
            cur.execute(
                "INSERT INTO stats_snapshots (event_id, provider, captured_at, lowest, average, "
                "median, highest, listing_count) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (event_id, provider, captured_at) DO NOTHING",
                (
                    event_id,
                    provider,
                    captured_at,
                    stats.lowest,
                    stats.average,
                    stats.median,
                    stats.highest,
                    stats.listing_count,
                ),
            )
            cur.execute(
                "UPDATE events SET last_listings_fetch = %s WHERE event_id = %s",
                (captured_at, event_id),
            )

    def stats_history(
        self, event_id: int, *, since: datetime
    ) -> list[tuple[datetime, StatsSnapshot]]:
        """Stats snapshots, oldest first."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT captured_at, lowest, average, median, highest, listing_count "
                "FROM stats_snapshots WHERE event_id = %s AND captured_at >= %s "
                "ORDER BY captured_at",
                (event_id, since),
            )
            return [(r[0], StatsSnapshot(r[1], r[2], r[3], r[4], r[5])) for r in cur.fetchall()]

    def listings(
        self, event_id: int, *, limit: int = 100, latest_only: bool = True
    ) -> list[StoredListing]:
        """The latest snapshot, cheapest first (or the newest rows)."""
        with self._cursor() as cur:
            if latest_only:
                cur.execute(
                    f"SELECT {_LISTING_COLUMNS} FROM listings WHERE event_id = %s AND "
                    "captured_at = (SELECT max(captured_at) FROM listings WHERE event_id = %s) "
                    "ORDER BY price_per_ticket, listing_id LIMIT %s",
                    (event_id, event_id, limit),
                )
            else:
                cur.execute(
                    f"SELECT {_LISTING_COLUMNS} FROM listings WHERE event_id = %s "
                    "ORDER BY captured_at DESC, price_per_ticket LIMIT %s",
                    (event_id, limit),
                )
            return [_listing(r) for r in cur.fetchall()]

    def count_listings(self, event_id: int | None = None) -> int:
        """Rows in listings."""
        with self._cursor() as cur:
            if event_id is None:
                cur.execute("SELECT count(*) FROM listings")
            else:
                cur.execute("SELECT count(*) FROM listings WHERE event_id = %s", (event_id,))
            row = cur.fetchone()
        return int(row[0]) if row else 0

    # analytics --------------------------------------------------------------------------

    def bucket_sql(self) -> str:
        """``time_bucket`` on TimescaleDB, ``date_bin`` otherwise."""
        return timescale.bucket_sql(timescale=self.timescale.usable)

    def price_history(
        self,
        event_id: int,
        *,
        since: datetime,
        bucket: timedelta,
        until: datetime | None = None,
    ) -> list[BucketStats]:
        """Per bucket min/avg/median (percentile_cont)/max, listings, tickets.

        Buckets are aligned by ``date_bin`` (``time_bucket`` on TimescaleDB). On plain
        PostgreSQL, with a sane number of buckets, each one is an index range scan (LATERAL)
        whose median sorts only its own rows; very many buckets use one GROUP BY over the
        bucket expression. On TimescaleDB the GROUP BY is always used: it reads each
        compressed segment once, where per-bucket range scans decompress it again and again
        (``history_plan`` forces one plan, for benchmarks).
        """
        now = until if until is not None else datetime.now(since.tzinfo)
        if self.history_plan == "auto":
            grouped = (now - since) / bucket > MAX_LATERAL_BUCKETS or self.timescale.usable
        else:
            grouped = self.history_plan == "grouped"
        params = {"width": bucket, "event": event_id, "since": since, "until": until or _NO_END}
        with self._cursor() as cur:
            if grouped:
                cur.execute(
                    f"SELECT {self.bucket_sql()} AS b, min(price_per_ticket), "
                    "avg(price_per_ticket), "
                    "percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_ticket), "
                    "max(price_per_ticket), count(*), sum(quantity) "
                    "FROM listings WHERE event_id = %(event)s AND captured_at >= %(since)s "
                    f"{_UNTIL} GROUP BY b ORDER BY b",
                    params,
                )
            else:
                first = self.bucket_sql().replace(
                    "captured_at", "greatest(%(since)s::timestamptz, min(captured_at))"
                )
                cur.execute(
                    f"""
                    WITH bounds AS (
                        SELECT {first} AS first, max(captured_at) AS last
                        FROM listings WHERE event_id = %(event)s AND captured_at >= %(since)s
                            {_UNTIL}
                    )
                    SELECT b.start, s.mn, s.av, s.med, s.mx, s.n, s.q
                    FROM bounds,
                         generate_series(bounds.first, bounds.last, %(width)s::interval)
                             AS b(start)
                    CROSS JOIN LATERAL (
                        SELECT min(price_per_ticket) AS mn, avg(price_per_ticket) AS av,
                               percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_ticket)
                                   AS med,
                               max(price_per_ticket) AS mx, count(*) AS n,
                               sum(quantity) AS q
                        FROM listings
                        WHERE event_id = %(event)s
                          AND captured_at >= greatest(b.start, %(since)s::timestamptz)
                          AND captured_at < b.start + %(width)s::interval
                          {_UNTIL}
                    ) AS s
                    WHERE s.n > 0
                    ORDER BY b.start
                    """,
                    params,
                )
            rows = cur.fetchall()
        return [
            BucketStats(
                key=iso(r[0]),  # the same text as the SQLite store's
                bucket=r[0],
                min=float(r[1]),
                avg=float(r[2]),
                median=float(r[3]),
                max=float(r[4]),
                count=int(r[5]),
                quantity=int(r[6] or 0),
            )
            for r in rows
        ]

    def section_prices(
        self, event_id: int, *, since: datetime, until: datetime | None = None
    ) -> list[SectionStats]:
        """Per section the same figures, cheapest median first."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT coalesce(section, '') AS s, min(price_per_ticket), avg(price_per_ticket), "
                "percentile_cont(0.5) WITHIN GROUP (ORDER BY price_per_ticket) AS med, "
                "max(price_per_ticket), count(*), sum(quantity) "
                "FROM listings WHERE event_id = %(event)s AND captured_at >= %(since)s "
                f"{_UNTIL} GROUP BY s ORDER BY med, s",
                {"event": event_id, "since": since, "until": until or _NO_END},
            )
            rows = cur.fetchall()
        return [
            SectionStats(
                section=str(r[0]),
                min=float(r[1]),
                avg=float(r[2]),
                median=float(r[3]),
                max=float(r[4]),
                count=int(r[5]),
                quantity=int(r[6] or 0),
            )
            for r in rows
        ]

    # schedule ---------------------------------------------------------------------------

    def ensure_schedule(self, *, now: datetime) -> int:
        """Tracked events without a schedule get a run due now."""
        with self._cursor() as cur:
            cur.execute(
                "INSERT INTO schedule (event_id, next_run_at) "
                "SELECT event_id, %s FROM events WHERE is_tracked "
                "ON CONFLICT (event_id) DO NOTHING",
                (now,),
            )
            return cur.rowcount

    def claim_due(
        self, *, now: datetime, limit: int, lease: timedelta, worker: str
    ) -> list[ClaimedRun]:
        """Claim due runs; rows another scheduler is claiming are skipped (SKIP LOCKED)."""
        if limit <= 0:
            return []
        until = now + lease
        with self._cursor(transaction=True) as cur:
            cur.execute(
                """
                WITH due AS (
                    SELECT s.event_id FROM schedule s
                    JOIN events e ON e.event_id = s.event_id
                    WHERE e.is_tracked AND s.next_run_at <= %(now)s
                      AND (s.claimed_until IS NULL OR s.claimed_until < %(now)s)
                    ORDER BY s.next_run_at, s.event_id
                    LIMIT %(limit)s
                    FOR UPDATE OF s SKIP LOCKED
                )
                UPDATE schedule AS s SET claimed_by = %(worker)s, claimed_until = %(until)s
                FROM due, events e
                WHERE s.event_id = due.event_id AND e.event_id = s.event_id
                RETURNING s.event_id, e.viagogo_id, e.source, s.next_run_at
                """,
                {"now": now, "limit": limit, "worker": worker, "until": until},
            )
            rows = cur.fetchall()
        rows.sort(key=lambda r: (r[3], r[0]))
        return [ClaimedRun(int(r[0]), r[1], r[2], r[3], until) for r in rows]

    def next_due(self) -> datetime | None:
        """Earliest next run of a tracked event (a claimed run counts from its lease end)."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT min(GREATEST(s.next_run_at, coalesce(s.claimed_until, s.next_run_at))) "
                "FROM schedule s JOIN events e ON e.event_id = s.event_id WHERE e.is_tracked"
            )
            row = cur.fetchone()
        return row[0] if row else None

    def complete_run(
        self,
        run: ClaimedRun,
        *,
        finished_at: datetime,
        next_run_at: datetime,
        status: str,
        listings: int,
        duration_s: float,
        worker: str,
    ) -> None:
        """Log the run, release the claim, schedule the next run."""
        with self._cursor(transaction=True) as cur:
            cur.execute(
                "UPDATE schedule SET next_run_at = %s, claimed_by = NULL, claimed_until = NULL "
                "WHERE event_id = %s AND claimed_by = %s",
                (next_run_at, run.event_id, worker),
            )
            cur.execute(
                "INSERT INTO runs (event_id, worker, due_at, finished_at, status, listings, "
                "duration_s) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (run.event_id, worker, run.due_at, finished_at, status, listings, duration_s),
            )

    def run_counts(self) -> dict[int, int]:
        """Runs logged per event id."""
        with self._cursor() as cur:
            cur.execute("SELECT event_id, count(*) FROM runs GROUP BY event_id")
            return {int(r[0]): int(r[1]) for r in cur.fetchall()}

    def held_claims(self, *, now: datetime) -> list[HeldClaim]:
        """Unexpired claims of tracked events."""
        with self._cursor() as cur:
            cur.execute(
                "SELECT s.event_id, e.viagogo_id, s.claimed_by, s.claimed_until "
                "FROM schedule s JOIN events e ON e.event_id = s.event_id "
                "WHERE e.is_tracked AND s.claimed_by IS NOT NULL AND s.claimed_until >= %s "
                "ORDER BY s.event_id",
                (now,),
            )
            rows = cur.fetchall()
        return [HeldClaim(int(r[0]), r[1], r[2], r[3]) for r in rows]

    def release_claims(self, worker: str, event_ids: Sequence[int]) -> int:
        """Release ``worker``'s claims on these events."""
        with self._cursor(transaction=True) as cur:
            cur.execute(
                "UPDATE schedule SET claimed_by = NULL, claimed_until = NULL "
                "WHERE event_id = ANY(%s) AND claimed_by = %s",
                (list(event_ids), worker),
            )
            return int(cur.rowcount)
