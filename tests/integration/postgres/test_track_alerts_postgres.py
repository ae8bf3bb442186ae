"""Price alerts on the real PostgreSQL store: migration, once per crossing, state kept."""

from __future__ import annotations

import psycopg
import pytest
from tests.monitoring import LocalMonitor
from tests.unit.jobs.track.alert_scenario import T0, run_crossings

from boxoffice.jobs.track import alerts
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.postgres import MIGRATIONS

pytestmark = pytest.mark.postgres


def test_postgres_alert_fires_once_per_crossing(
    postgres_url: str, local_monitor: LocalMonitor
) -> None:
    store = open_store(postgres_url)
    try:
        run_crossings(store, local_monitor)
    finally:
        store.close()
    # the state is in the database: a new connection sees the alert disarmed at 60
    again = open_store(postgres_url)
    try:
        states = [(a.section, a.armed, a.last_price) for a in alerts.list_alerts(again)]
        assert states == [("floor a", False, 60.0), (None, True, None)]
    finally:
        again.close()


def test_alerts_table_comes_with_the_migration_and_cascades(postgres_url: str) -> None:
    store = open_store(postgres_url)
    try:
        assert store.schema_version() == len(MIGRATIONS)
        from boxoffice.platforms.sheets.rows import EventRow

        store.upsert_events([EventRow("7", "S", "V", "C", "UK", None, True)], now=T0)
        event, _ = alerts.add_alert(store, "7", 50, now=T0)
        store.delete_events([event.event_id])
        assert alerts.list_alerts(store) == []
    finally:
        store.close()
    with psycopg.connect(postgres_url) as conn:
        cols = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'price_alerts'"
            ).fetchall()
        }
    assert {"below", "section", "quantity", "armed", "last_fired_at"} <= cols
