"""`boxoffice book …` end to end against the simulators served on loopback."""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from boxoffice.cli.main import app as cli
from boxoffice.cli.main import run as run_console_script
from boxoffice.sandbox import booked3 as sim_booked3
from boxoffice.sandbox import librebooking as sim_libre
from boxoffice.sandbox.server import SandboxServer

ZURICH = ZoneInfo("Europe/Zurich")
SLOT_DAY = datetime.now(ZURICH).date() + timedelta(days=30)  # a slot a month ahead
SLOT = ["--date", SLOT_DAY.isoformat(), "--start", "09:00", "--end", "12:00"]
SLOT_START = datetime.combine(SLOT_DAY, dtime(9), tzinfo=ZURICH).timestamp()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    apps = {"booked3": sim_booked3.create_app(), "librebooking": sim_libre.create_app()}
    with SandboxServer(apps, include_date_header=False) as urls:
        yield {name: (apps[name], urls[name] + "/Web") for name in apps}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "BOXOFFICE_BOOK_USERNAME": sim_booked3.DEFAULT_USERNAME,
        "BOXOFFICE_BOOK_PASSWORD": sim_booked3.DEFAULT_PASSWORD,
        "BOXOFFICE_BOOK_TOTP_SECRET": sim_booked3.DEFAULT_TOTP_SECRET,
        "BOXOFFICE_BOOK_TIMEZONE": "Europe/Zurich",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def book(servers: dict[str, Any], dialect: str) -> Any:
    """A fresh simulator; PHP-like like the real servers (one session's requests in order)."""
    app, url = servers[dialect]
    app.reset()
    app.world.php_mode = True
    return app, url


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


@pytest.mark.parametrize("dialect", ["booked3", "librebooking"])
def test_run_wins_the_preferred_slot_and_prints_json(
    servers: dict[str, Any], env: dict[str, str], dialect: str
) -> None:
    app, url = book(servers, dialect)
    result = invoke(
        "book", "run", "--url", url, "--dialect", dialect, *SLOT,
        "--resources", "231-262", "--prefer", "240,241", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert list(doc) == ["won", "resource", "attempts", "cancelled"]
    assert doc["resource"] == 240
    assert doc["won"] == app.world.reservations[0].reference
    assert doc["attempts"][0] == {
        "resource": 240,
        "outcome": "booked",
        "message": doc["attempts"][0]["message"],
        "latency_ms": doc["attempts"][0]["latency_ms"],
    }


def test_nothing_won_exits_3(servers: dict[str, Any], env: dict[str, str]) -> None:
    app, url = book(servers, "booked3")
    app.world.max_notice = 0.0  # a slot a month ahead is beyond "now": window not open
    result = invoke("book", "run", "--url", url, *SLOT, "--resources", "231-233", "--json")
    assert result.exit_code == 3, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["won"] is None
    assert doc["resource"] is None
    assert {a["outcome"] for a in doc["attempts"]} == {"window_not_open"}


def test_table_output_names_the_winner(servers: dict[str, Any], env: dict[str, str]) -> None:
    _, url = book(servers, "booked3")
    result = invoke("book", "run", "--url", url, *SLOT, "--resources", "231-235")
    assert result.exit_code == 0, result.output
    assert "won: resource 231" in result.stdout
    assert "latency ms" in result.stdout


def test_wrong_password_is_one_line_and_exit_4(
    servers: dict[str, Any],
    env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, url = book(servers, "booked3")
    monkeypatch.setenv("BOXOFFICE_BOOK_PASSWORD", "wrong-password")
    monkeypatch.setattr(sys, "argv", ["boxoffice", "book", "refresh", "--url", url])
    with pytest.raises(SystemExit) as stop:
        run_console_script()
    assert stop.value.code == 4
    out = capsys.readouterr()
    lines = [line for line in out.err.splitlines() if line.startswith("error:")]
    assert lines == [
        "error: username or password refused (Invalid username or password) — check "
        "BOXOFFICE_BOOK_USERNAME and BOXOFFICE_BOOK_PASSWORD"
    ]
    assert "wrong-password" not in out.err + out.out


def test_refresh_list_availability_cancel(
    servers: dict[str, Any], env: dict[str, str], tmp_path: Path
) -> None:
    app, url = book(servers, "librebooking")
    dialect = ["--url", url, "--dialect", "librebooking"]
    refreshed = invoke("book", "refresh", *dialect)
    assert refreshed.exit_code == 0, refreshed.output
    cache = next((Path(os.environ["BOXOFFICE_STATE_DIR"]) / "book").glob("session-*.json"))
    assert stat.S_IMODE(cache.stat().st_mode) == 0o600
    assert env["BOXOFFICE_BOOK_PASSWORD"] not in cache.read_text()

    won = invoke("book", "run", *dialect, *SLOT, "--resources", "231-233", "--json")
    reference = json.loads(won.stdout.strip().splitlines()[-1])["won"]

    free = invoke("book", "availability", *dialect, *SLOT, "--resources", "231-233", "--json")
    assert free.exit_code == 0, free.output
    assert json.loads(free.stdout)["free"] == [232, 233]

    listed = invoke("book", "list", *dialect, "--days", "3650", "--json")
    assert [r["reference"] for r in json.loads(listed.stdout)] == [reference]

    cancelled = invoke("book", "cancel", reference, *dialect)
    assert cancelled.exit_code == 0, cancelled.output
    assert app.world.reservations == []


def test_dry_run_creates_nothing(servers: dict[str, Any], env: dict[str, str]) -> None:
    app, url = book(servers, "booked3")
    result = invoke("book", "run", "--url", url, *SLOT, "--resources", "231-233", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run" in result.stdout
    assert not any("action=create" in e.path for e in app.world.log)


def test_at_fires_on_the_servers_clock(servers: dict[str, Any], env: dict[str, str]) -> None:
    """Server 2.5 s ahead; T0 6 s ahead on the server: nothing is created before the server's
    T0, the window rule accepts the attempt, and the attempts go over connections warmed before
    T0."""
    app, url = book(servers, "booked3")
    app.world.clock_offset = 2.5
    t0 = app.world.now() + 6.0
    app.world.max_notice = SLOT_START - t0
    at = datetime.fromtimestamp(t0, UTC).isoformat()
    result = invoke(
        "book", "run", "--url", url, *SLOT, "--resources", "231-238", "--prefer", "236",
        "--at", at, "--lead", "30", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["resource"] == 236
    creates = [e for e in app.world.log if "action=create" in e.path]
    assert creates
    assert min(e.t for e in creates) >= t0 - 0.05  # the offset estimate's bracket, generously
    # the race itself runs on the connections warmed before T0 (the re-read of the slot after
    # the burst, which looks for contested wins, may open one: the race is over by then)
    assert not [e for e in creates if e.new_connection]
    assert time.time() + 2.5 >= t0


def console(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run `boxoffice ARGS` through the real entry point; (exit code, stdout + stderr)."""
    saved = sys.argv
    sys.argv = ["boxoffice", *args]
    code = 0
    try:
        run_console_script()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.parametrize("dialect", ["booked3", "librebooking"])
@pytest.mark.parametrize("dry_run", [False, True])
def test_a_slot_that_already_started_is_refused_before_any_request(
    servers: dict[str, Any],
    env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    dialect: str,
    dry_run: bool,
) -> None:
    app, url = book(servers, dialect)
    yesterday = (datetime.now(ZURICH).date() - timedelta(days=1)).isoformat()
    args = ["book", "run", "--url", url, "--dialect", dialect, "--date", yesterday]
    args += ["--start", "09:00", "--end", "12:00", "--resources", "231-233"]
    code, output = console(capsys, *args, *(["--dry-run"] if dry_run else []))
    assert code == 2, output
    assert output.count("error:") == 1
    assert f"the slot {yesterday} 09:00–12:00 (Europe/Zurich) has already started" in output
    assert app.world.log == []  # not even a login
    assert app.world.reservations == []


def test_a_slot_starting_now_in_the_schedules_zone_is_refused(
    servers: dict[str, Any], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Today, at a start time already past in the schedule's zone (not the machine's)."""
    app, url = book(servers, "booked3")
    today_in_tokyo = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    args = ["book", "run", "--url", url, "--timezone", "Asia/Tokyo"]
    args += ["--date", today_in_tokyo.isoformat(), "--start", "00:00"]
    args += ["--end", "23:59", "--resources", "231"]
    code, output = console(capsys, *args)
    assert code == 2, output
    assert "(Asia/Tokyo) has already started" in output
    assert app.world.log == []


def test_availability_range_that_ends_before_it_starts_is_refused(
    servers: dict[str, Any], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, url = book(servers, "librebooking")
    args = ["book", "availability", "--url", url, "--dialect", "librebooking"]
    code, output = console(
        capsys, *args, "--date", SLOT_DAY.isoformat(), "--start", "12:00", "--end", "09:00"
    )
    assert code == 2, output
    assert "ends (09:00) before it starts (12:00)" in output
    assert app.world.log == []


@pytest.mark.parametrize("days", ["0", "-3"])
def test_list_with_an_empty_range_is_refused(
    servers: dict[str, Any], env: dict[str, str], capsys: pytest.CaptureFixture[str], days: str
) -> None:
    app, url = book(servers, "librebooking")
    code, output = console(
        capsys, "book", "list", "--url", url, "--dialect", "librebooking", "--days", days
    )
    assert code == 2, output
    assert f"--days {days}: the range ends before it starts" in output
    assert app.world.log == []
