"""TimescaleDB helpers that need no server: intervals, the status line, the SQL built.

What the store does on a real TimescaleDB is tested against the real extension in
tests/integration/timescale/.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from boxoffice.jobs.track.store import timescale
from boxoffice.jobs.track.store.timescale import TimescaleStatus


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7 days", timedelta(days=7)),
        ("1 day", timedelta(days=1)),
        ("1 day 02:00:00", timedelta(days=1, hours=2)),
        ("12:00:00", timedelta(hours=12)),
        ("00:30:00", timedelta(minutes=30)),
        ("", None),
        ("soon", None),
    ],
)
def test_postgresql_intervals_are_read(text: str, expected: timedelta | None) -> None:
    assert timescale.parse_interval(text) == expected


def test_interval_literal_is_in_whole_units() -> None:
    assert timescale.interval_sql(timedelta(days=3)) == "INTERVAL '3 days'"
    assert timescale.interval_sql(timedelta(hours=36)) == "INTERVAL '36 hours'"
    assert timescale.interval_sql(timedelta(seconds=90)) == "INTERVAL '90 seconds'"


def test_status_line_says_what_the_catalog_says() -> None:
    full = TimescaleStatus(
        installed="2.28.3",
        available="2.28.3",
        preloaded=True,
        hypertable=True,
        compression=True,
        segmentby=("event_id",),
        policy_after=timedelta(days=7),
        policy_job=1000,
    )
    assert full.usable
    assert full.summary() == (
        "TimescaleDB 2.28.3: hypertable, compression by event_id, policy after 7 days"
    )
    bare = TimescaleStatus(installed="2.28.3", available="2.28.3", preloaded=True)
    assert not bare.usable
    assert bare.summary() == "TimescaleDB 2.28.3: listings is not a hypertable"
    plain = TimescaleStatus(installed=None, available=None)
    assert plain.summary() == "plain PostgreSQL"
    unloaded = TimescaleStatus(installed=None, available="2.28.3", preloaded=False)
    assert unloaded.summary() == "TimescaleDB 2.28.3 available but not preloaded"


def test_bucket_expression_per_backend() -> None:
    assert timescale.bucket_sql(timescale=True).startswith("time_bucket(")
    assert timescale.bucket_sql(timescale=False).startswith("date_bin(")


def test_the_hypertable_is_made_without_default_indexes() -> None:
    assert "create_default_indexes => FALSE" in timescale.HYPERTABLE_SQL
    assert "migrate_data => TRUE" in timescale.HYPERTABLE_SQL
