"""`boxoffice track …` end to end: CSV/URL events, sandbox proxy snapshots, analytics output."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.e2e import track_scenarios
from typer.testing import CliRunner

from boxoffice.cli.main import app
from boxoffice.errors import ConfigurationError, NotFoundError
from boxoffice.jobs.track.store import sqlite as sqlite_store
from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer

EVENTS = """Name,Venue,City,Country,Date,viagogoID,is_tracked
Coldplay,Wembley Stadium,London,UK,2027-06-12 19:30:00,151000001,TRUE
Taylor Swift,Olympiastadion,Berlin,DE,2027-07-03 20:00:00,151000002,y
Adele,Ziggo Dome,Amsterdam,NL,2027-08-21 20:30:00,151000003,no
"""


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    server = SandboxServer({"listings": listings_sim.create_app(seed=3, api_key="e2e-key")})
    urls = server.start()
    yield urls["listings"]
    server.stop()


@pytest.fixture
def env(tmp_path: Path, sandbox: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS)
    monkeypatch.setenv("BOXOFFICE_TRACK_PROXY_URL", sandbox)
    monkeypatch.setenv("BOXOFFICE_TRACK_PROXY_API_KEY", "e2e-key")
    monkeypatch.setenv("BOXOFFICE_TRACK_RETRIES", "0")
    return {"events": events, "db": tmp_path / "track.sqlite3", "dir": tmp_path}


def run(*args: str) -> str:
    result = CliRunner().invoke(app, ["track", *args], catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.stdout


def test_full_flow(env: dict[str, Path]) -> None:
    db = str(env["db"])
    assert f"schema version {len(sqlite_store.MIGRATIONS)}" in run("init-db", "--db", db)
    out = run("fetch-events", "--db", db, "--events", f"csv:{env['events']}")
    assert "2 new" in out
    assert "1 not tracked" in out
    shown = json.loads(run("show-events", "--db", db, "--json"))
    assert [e["viagogo_id"] for e in shown] == ["151000001", "151000002"]
    assert shown[0]["event_date"] == "2027-06-12T19:30:00Z"
    for _ in range(3):
        out = run("fetch-listings", "--db", db)
        assert "151000001" in out
        assert "151000002" in out
    listings = json.loads(run("show-listings", "151000001", "--db", db, "--json"))
    assert len(listings) >= 15
    prices = [row["price_per_ticket"] for row in listings]
    assert prices == sorted(prices)
    csv_path, png = env["dir"] / "h.csv", env["dir"] / "h.png"
    history = json.loads(
        run(
            "price-history",
            "151000001",
            "--db",
            db,
            "--days",
            "2",
            "--bucket",
            "1 hour",
            "--json",
            "--csv",
            str(csv_path),
            "--plot",
            str(png),
        )
    )
    assert len(history) >= 1
    total = sum(row["count"] for row in history)
    assert total > 0
    with csv_path.open() as fh:
        assert [r["median"] for r in csv.DictReader(fh)] == [str(r["median"]) for r in history]
    row = history[-1]
    assert row["min"] <= row["median"] <= row["max"]
    assert row["bucket"].endswith("Z")
    assert png.read_bytes().startswith(b"\x89PNG")
    sections = json.loads(run("section-prices", "151000001", "--db", db, "--json"))
    assert {s["section"] for s in sections} >= {"Floor", "Upper 230"}
    table = run("price-history", "151000001", "--db", db, "--tz", "Europe/Berlin")
    assert "median" in table
    assert datetime.now(ZoneInfo("Europe/Berlin")).tzname() in table  # CET or CEST, as now


def test_cleanup_untracked_dry_run_mark_and_delete(env: dict[str, Path]) -> None:
    db = str(env["db"])
    run("fetch-events", "--db", db, "--events", f"csv:{env['events']}")
    run("fetch-listings", "--db", db)
    env["events"].write_text(EVENTS.replace("151000002,y", "151000002,false"))
    source = f"csv:{env['events']}"
    out = run("cleanup-untracked-events", "--db", db, "--events", source)
    assert "151000002" in out
    assert "dry run" in out
    assert len(json.loads(run("show-events", "--db", db, "--json"))) == 2
    out = run("cleanup-untracked-events", "--db", db, "--events", source, "--no-dry-run")
    assert "marked 1" in out
    shown = {e["viagogo_id"]: e for e in json.loads(run("show-events", "--db", db, "--json"))}
    assert shown["151000002"]["is_tracked"] is False
    # marked events are no longer fetched
    assert "151000002" not in run("fetch-listings", "--db", db)
    # they are back once tracked again; --delete removes them and their listings
    env["events"].write_text(EVENTS)
    run("fetch-events", "--db", db, "--events", source)
    env["events"].write_text(EVENTS.replace("151000002,y", "151000002,no"))
    out = run(
        "cleanup-untracked-events", "--db", db, "--events", source, "--no-dry-run", "--delete"
    )
    assert "deleted 1 event(s)" in out
    assert [e["viagogo_id"] for e in json.loads(run("show-events", "--db", db, "--json"))] == [
        "151000001"
    ]


def test_events_from_a_csv_export_url(env: dict[str, Path], sandbox: str) -> None:
    out = run("fetch-events", "--db", str(env["db"]), "--events", f"{sandbox}/events.csv")
    assert "2 new" in out


def test_import_listings_csv(env: dict[str, Path]) -> None:
    db = str(env["db"])
    run("fetch-events", "--db", db, "--events", f"csv:{env['events']}")
    data = env["dir"] / "listings.csv"
    data.write_text(
        "viagogo_id,listing_id,section,row,quantity,price_per_ticket,currency,captured_at\n"
        "151000001,x1,Floor,1,2,100,EUR,2026-11-20T10:00:00Z\n"
        "151000001,x2,Floor,1,2,300,EUR,2026-11-20T10:00:00Z\n"
        "151000001,x3,Floor,1,two,300,EUR,2026-11-20T10:00:00Z\n"
        "999,y1,Floor,1,2,100,EUR,2026-11-20T10:00:00Z\n"
    )
    out = run("import-listings", str(data), "--db", db)
    assert "imported 2" in out
    assert "1 bad row" in out
    assert "line 4" in out
    assert "999" in out


def test_sheet_without_expected_columns_names_them(env: dict[str, Path]) -> None:
    bad = env["dir"] / "bad.csv"
    bad.write_text("Name,Venue,When\nA,B,C\n")
    with pytest.raises(ConfigurationError) as info:
        run("fetch-events", "--db", str(env["db"]), "--events", f"csv:{bad}")
    assert "City, Country, Date, viagogoID" in info.value.one_line()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "track", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_database_down_is_one_line_and_hides_the_password() -> None:
    proc = _cli("show-events", env={"BOXOFFICE_DB_URL": "postgresql://u:hunter22@127.0.0.1:1/db"})
    assert proc.returncode == 8
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: cannot connect to postgresql://u:***@127.0.0.1:1/db: ")
    assert "hunter22" not in proc.stderr + proc.stdout


def test_unknown_event_is_one_line(tmp_path: Path) -> None:
    run("init-db", "--db", str(tmp_path / "x.sqlite3"))
    proc = _cli("price-history", "nope", "--db", str(tmp_path / "x.sqlite3"))
    assert proc.returncode == 9
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()]
    assert "no event 'nope'" in proc.stderr


READERS = (
    ("price-history", "151000001"),
    ("section-prices", "151000001"),
    ("show-events",),
    ("show-listings", "151000001"),
)


def test_readers_given_a_wrong_db_path_create_nothing_and_say_so(tmp_path: Path) -> None:
    typo = tmp_path / "typo" / "x.sqlite3"
    expected = f"no database at {typo} — run `boxoffice track init-db` (or check --db)"
    proc = _cli("price-history", "151000001", "--db", str(typo))
    assert proc.returncode == 9
    assert proc.stderr.strip().splitlines() == [f"error: {expected}"]
    for command in READERS:
        result = CliRunner().invoke(app, ["track", *command, "--db", str(typo)])
        assert isinstance(result.exception, NotFoundError), command
        assert result.exception.one_line() == expected
    assert not typo.parent.exists()
    # a writer still creates the store, after which the readers work
    assert f"schema version {len(sqlite_store.MIGRATIONS)}" in run("init-db", "--db", str(typo))
    assert json.loads(run("show-events", "--db", str(typo), "--json")) == []


def test_start_scheduler_snapshots_then_stops_on_ctrl_c(env: dict[str, Path], sandbox: str) -> None:
    import signal
    import sqlite3
    import time

    db = str(env["db"])
    run("fetch-events", "--db", db, "--events", f"csv:{env['events']}")
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "track", "start-scheduler", "--db", db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "BOXOFFICE_TRACK_PROXY_URL": sandbox,
            "BOXOFFICE_TRACK_PROXY_API_KEY": "e2e-key",
        },
    )
    runs = 0
    try:
        for _ in range(300):  # both tracked events are due at once: wait for their runs
            if proc.poll() is not None:
                break
            with sqlite3.connect(db) as conn:
                runs = conn.execute("SELECT count(*) FROM runs WHERE status = 'ok'").fetchone()[0]
            if runs >= 2:
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert runs == 2, err
    assert proc.returncode == 130, err  # a clean stop, by Ctrl-C: the table's 130
    assert "scheduler stopped after 2 snapshot(s)" in out
    assert err.strip().splitlines()[-1] == "interrupted (Ctrl-C)"
    shown = json.loads(run("show-events", "--db", db, "--json"))
    for event in shown:
        if event["is_tracked"]:
            assert event["last_listings_fetch"] is not None
            assert event["next_run_at"] > event["last_listings_fetch"]


def test_scheduler_waits_for_a_database_that_is_down() -> None:
    import queue
    import signal
    import threading

    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "track", "start-scheduler"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            **os.environ,
            "BOXOFFICE_DB_URL": "postgresql://u:hunter22@127.0.0.1:1/track",
            "BOXOFFICE_TRACK_DB_RETRY_SECONDS": "0.2",
        },
    )
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stderr is not None
    stderr = proc.stderr
    threading.Thread(target=lambda: [lines.put(x) for x in stderr], daemon=True).start()
    seen: list[str] = []
    try:
        while len([x for x in seen if "cannot connect" in x]) < 3:
            seen.append(lines.get(timeout=60))
        still_running = proc.poll() is None
    finally:
        proc.send_signal(signal.SIGINT)
        out = proc.communicate(timeout=30)[0]
    assert still_running  # it kept retrying …
    retries = [x for x in seen if "cannot connect" in x]
    assert all("retrying in 0.2 s" in x for x in retries)  # … one line each time
    assert not any("Traceback" in x or "hunter22" in x for x in seen)
    assert "hunter22" not in out


def test_cleanup_refuses_an_empty_source_and_a_total_wipe_unless_forced(tmp_path: Path) -> None:
    track_scenarios.empty_sheet_is_refused_unless_forced(str(tmp_path / "t.sqlite3"), tmp_path)


def test_cleanup_delete_removes_events_marked_untracked_earlier(tmp_path: Path) -> None:
    track_scenarios.delete_after_mark_removes_already_untracked(
        str(tmp_path / "t.sqlite3"), tmp_path
    )
