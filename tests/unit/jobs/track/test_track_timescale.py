"""TimescaleDB: detection via pg_extension / pg_available_extensions and the SQL emitted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from boxoffice.jobs.track.store import timescale


class FakeCursor:
    """Answers the detection queries from a script and records every statement."""

    def __init__(
        self,
        *,
        installed: str | None,
        available: str | None,
        hypertable: bool = False,
        fail_create: bool = False,
    ) -> None:
        self.installed = installed
        self.available = available
        self.hypertable = hypertable
        self.fail_create = fail_create
        self.statements: list[str] = []
        self._next: Any = None

    def execute(self, query: Any, params: Any = None) -> None:
        sql = str(query)
        self.statements.append(sql)
        if "FROM pg_extension" in sql:
            self._next = (self.installed,) if self.installed else None
        elif "FROM pg_available_extensions" in sql:
            self._next = (self.available,) if self.available else None
        elif "timescaledb_information.hypertables" in sql:
            self._next = (1,) if self.hypertable else None
        elif sql.startswith("CREATE EXTENSION"):
            if self.fail_create:
                raise RuntimeError('extension "timescaledb" must be preloaded')
            self.installed = self.available
        else:
            self._next = None

    def fetchone(self) -> Any:
        return self._next


def test_plain_postgresql_gets_no_timescale_sql() -> None:
    cur = FakeCursor(installed=None, available=None)
    status = timescale.enable(cur, compress_after=timedelta(days=7))
    assert not status.usable
    assert not any("create_hypertable" in s or "CREATE EXTENSION" in s for s in cur.statements)
    assert timescale.bucket_sql(timescale=False).startswith("date_bin(")


def test_available_extension_is_created_and_hypertable_set_up() -> None:
    cur = FakeCursor(installed=None, available="2.17.2")
    status = timescale.enable(cur, compress_after=timedelta(days=3))
    assert status.usable
    assert status.installed == "2.17.2"
    emitted = "\n".join(cur.statements)
    assert "CREATE EXTENSION IF NOT EXISTS timescaledb" in emitted
    assert "create_hypertable('listings', 'captured_at'" in emitted
    assert "timescaledb.compress_segmentby = 'event_id'" in emitted
    assert "add_compression_policy('listings', INTERVAL '259200 seconds'" in emitted
    assert timescale.bucket_sql(timescale=True).startswith("time_bucket(")


def test_installed_extension_with_existing_hypertable_is_left_alone() -> None:
    cur = FakeCursor(installed="2.17.2", available="2.17.2", hypertable=True)
    assert timescale.enable(cur, compress_after=timedelta(days=7)).usable
    assert not any("create_hypertable" in s for s in cur.statements)
    assert not any("CREATE EXTENSION" in s for s in cur.statements)


def test_unloadable_extension_degrades_to_plain_postgresql() -> None:
    cur = FakeCursor(installed=None, available="2.17.2", fail_create=True)
    status = timescale.enable(cur, compress_after=timedelta(days=7))
    assert not status.usable
    assert not any("create_hypertable" in s for s in cur.statements)


def test_no_compression_policy_when_disabled() -> None:
    statements = timescale.setup_statements(compress_after=None)
    assert not any("add_compression_policy" in s for s in statements)
    assert any("compress_orderby = 'captured_at DESC, listing_id'" in s for s in statements)
