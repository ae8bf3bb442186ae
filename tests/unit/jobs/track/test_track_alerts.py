"""Price alerts on the SQLite store: once per crossing over several snapshots; the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.monitoring import LocalMonitor
from tests.unit.jobs.track.alert_scenario import run_crossings
from typer.testing import CliRunner

from boxoffice.cli.main import app as cli
from boxoffice.errors import NotFoundError
from boxoffice.jobs.track import alerts
from boxoffice.jobs.track.store import open_store
from boxoffice.jobs.track.store.alerts_sql import PriceAlert
from boxoffice.jobs.track.store.base import StoredListing
from boxoffice.platforms.sheets.rows import EventRow

NOW = datetime.now(UTC).replace(microsecond=0)


def test_sqlite_alert_fires_once_per_crossing(tmp_path: Path, local_monitor: LocalMonitor) -> None:
    store = open_store(tmp_path / "t.sqlite3")
    try:
        run_crossings(store, local_monitor)
    finally:
        store.close()


def _alert(**kw: object) -> PriceAlert:
    base: dict[str, object] = {
        "alert_id": 1, "event_id": 1, "below": 80.0, "section": None, "quantity": None,
        "notify": [], "armed": True, "created_at": NOW, "last_fired_at": None,
        "last_price": None,
    }  # fmt: skip
    return PriceAlert(**(base | kw))  # type: ignore[arg-type]


def _listing(price: float, section: str = "A", qty: int = 1) -> StoredListing:
    return StoredListing("x", 1, section, "1", qty, price, None, "EUR", "proxy", NOW)


def test_judge_fires_rearms_and_filters() -> None:
    assert alerts.judge(_alert(), [_listing(79.99)]).change == "fire"
    assert alerts.judge(_alert(), [_listing(80.0)]).change == "none"  # below means below
    assert alerts.judge(_alert(armed=False), [_listing(81)]).change == "rearm"
    assert alerts.judge(_alert(armed=False), []).change == "rearm"
    assert alerts.judge(_alert(armed=False), [_listing(50)]).change == "none"
    assert alerts.judge(_alert(section="b"), [_listing(50, "A")]).change == "none"
    assert alerts.judge(_alert(quantity=2), [_listing(50, qty=1)]).change == "none"
    assert alerts.judge(_alert(quantity=2), [_listing(50, qty=3)]).change == "fire"


def test_alert_cli_add_list_remove(tmp_path: Path) -> None:
    db = tmp_path / "t.sqlite3"
    store = open_store(db)
    store.upsert_events([EventRow("555", "Show", "V", "C", "UK", None, True)], now=NOW)
    store.close()
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["track", "alert", "add", "555", "--below", "80", "--section", "Floor A",
         "--quantity", "2", "--notify", "https://hooks.example.org/x", "--db", str(db), "--json"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    row = json.loads(added.stdout)
    assert (row["below"], row["section"], row["quantity"], row["armed"]) == (
        80.0, "Floor A", 2, True,
    )  # fmt: skip
    listed = runner.invoke(cli, ["track", "alert", "list", "--db", str(db), "--json"])
    assert [r["id"] for r in json.loads(listed.stdout)] == [row["id"]]
    text = runner.invoke(cli, ["track", "alert", "list", "--db", str(db)])
    assert "armed" in text.stdout
    assert "hooks.example.org" not in text.stdout  # the alert's own channel is not shown
    removed = runner.invoke(cli, ["track", "alert", "remove", str(row["id"]), "--db", str(db)])
    assert removed.exit_code == 0
    assert (
        json.loads(runner.invoke(cli, ["track", "alert", "list", "--db", str(db), "--json"]).stdout)
        == []
    )
    again = runner.invoke(cli, ["track", "alert", "remove", str(row["id"]), "--db", str(db)])
    assert isinstance(again.exception, NotFoundError)


def test_bad_alert_input_is_refused(tmp_path: Path) -> None:
    store = open_store(tmp_path / "t.sqlite3")
    store.upsert_events([EventRow("1", "S", "V", "C", "UK", None, True)], now=NOW)
    with pytest.raises(Exception, match="--below"):
        alerts.add_alert(store, "1", 0, now=NOW)
    with pytest.raises(NotFoundError):
        alerts.add_alert(store, "nope", 10, now=NOW - timedelta(days=1))
    store.close()
