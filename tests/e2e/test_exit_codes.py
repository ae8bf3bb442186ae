"""One test per row of the exit-code table (docs/reference.md, ``boxoffice.errors.exit_codes()``).

Each test drives the real CLI into its code with a cause a user meets: the simulators of the
sandbox on loopback, a closed port, a real PostgreSQL with password authentication (marked
``postgres``), a real process stopped with SIGINT. ``test_every_code_of_the_table_has_a_test``
fails when a code is added to the table without a test here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from tests.e2e._cli import CliRun, run_cli
from tests.integration.postgres import pg_server
from tests.integration.postgres.pg_server import PostgresServer

from boxoffice.core.http import CookieJar, CookieRecord
from boxoffice.errors import exit_codes
from boxoffice.sandbox import (
    booked3,
    librebooking,
    listings,
    pretix_marketplace,
    vivenu,
    webhook_receiver,
)
from boxoffice.sandbox.server import SandboxServer

postgres_server = pg_server.postgres_server  # the session's private PostgreSQL (a fixture)
F = TypeVar("F", bound=Callable[..., Any])
COVERED: dict[int, list[str]] = {}


def row(code: int) -> Callable[[F], F]:
    """Mark a test as the one (or one of those) for ``code``'s row of the table."""

    def mark(test: F) -> F:
        COVERED.setdefault(code, []).append(test.__name__)
        return test

    return mark


CLOSED = "http://127.0.0.1:9"
SECRET = "exit-codes-secret"
API_KEY = "exit-codes-key"
ZURICH = ZoneInfo("Europe/Zurich")
SLOT_DAY = datetime.now(ZURICH).date() + timedelta(days=30)
SLOT = ["--date", SLOT_DAY.isoformat(), "--start", "09:00", "--end", "12:00"]
EVENTS_CSV = (
    "Name,Venue,City,Country,Date,viagogoID,is_tracked\n"
    "Coldplay,Wembley Stadium,London,UK,2027-06-12 19:30:00,151000001,TRUE\n"
)
FAST_WATCH = ["--interval", "0.2", "--i-know-what-i-am-doing", "--headless"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, tuple[Any, str]]]:
    apps: dict[str, Any] = {
        "market": pretix_marketplace.create_app(),
        "booked3": booked3.create_app(),
        "librebooking": librebooking.create_app(),
        "vivenu": vivenu.create_app(seed=0),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
        "listings": listings.create_app(seed=3, api_key=API_KEY),
    }
    with SandboxServer(apps, include_date_header=False) as urls:
        yield {name: (apps[name], urls[name]) for name in apps}


@pytest.fixture
def peers(
    sandbox: dict[str, tuple[Any, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, tuple[Any, str]]:
    """Every simulator fresh, and the environment that points the jobs at them."""
    sandbox["market"][0].state.market.reset()
    for dialect in ("booked3", "librebooking"):
        sandbox[dialect][0].reset()
    httpx.post(sandbox["vivenu"][1] + "/_sandbox/reset")
    httpx.post(sandbox["webhook"][1] + "/_sandbox/reset")
    sim = sandbox["listings"][0].state.sim
    sim.api_key, sim.fail_next, sim.fail_status, sim.retry_after = API_KEY, 0, 503, None
    env = {
        "BOXOFFICE_BOOK_USERNAME": booked3.DEFAULT_USERNAME,
        "BOXOFFICE_BOOK_PASSWORD": booked3.DEFAULT_PASSWORD,
        "BOXOFFICE_BOOK_TOTP_SECRET": booked3.DEFAULT_TOTP_SECRET,
        "BOXOFFICE_BOOK_TIMEZONE": "Europe/Zurich",
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": sandbox["vivenu"][1],
        "PROD_EVENT": vivenu.SEED_EVENT,
        "VIVENU_SECRET": SECRET,
        "BOXOFFICE_SYNC_TARGETS": json.dumps({"prod": sandbox["webhook"][1] + "/ticket-created"}),
        "BOXOFFICE_SYNC_INTERVAL": "0",
        "BOXOFFICE_TRACK_PROXY_URL": sandbox["listings"][1],
        "BOXOFFICE_TRACK_PROXY_API_KEY": API_KEY,
        "BOXOFFICE_TRACK_RETRIES": "0",
        "COLUMNS": "200",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return sandbox


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., CliRun]:
    """``boxoffice ARGS`` through the console-script entry point, in this process."""

    def invoke(*args: str) -> CliRun:
        return run_cli(capsys, monkeypatch, *args, instant=True)

    return invoke


@pytest.fixture
def postgres_password_url(postgres_server: PostgresServer) -> Callable[[str], str]:
    """URLs of a fresh database for a role that must give its password (scram-sha-256)."""
    import psycopg

    dbname = postgres_server.create_database().rsplit("/", 1)[1]
    with psycopg.connect(postgres_server.url(), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'tracker'").fetchone() is None:
            conn.execute("CREATE ROLE tracker LOGIN PASSWORD 'right-password'")
        conn.execute(f'GRANT ALL ON DATABASE "{dbname}" TO tracker')
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO tracker')
        hba = postgres_server.datadir / "pg_hba.conf"
        rule = "host all tracker 127.0.0.1/32 scram-sha-256\n"
        if rule not in hba.read_text():
            hba.write_text(rule + hba.read_text())
            conn.execute("SELECT pg_reload_conf()")
    port = postgres_server.port
    return lambda password: f"postgresql://tracker:{password}@127.0.0.1:{port}/{dbname}"


def book_url(peers: dict[str, tuple[Any, str]], dialect: str) -> str:
    return peers[dialect][1] + "/Web"


def occupy(peers: dict[str, tuple[Any, str]], dialect: str, resource: int, user: str) -> str:
    """A reservation of ``user`` on ``resource`` for the slot, made on the simulator."""
    start = datetime.combine(SLOT_DAY, dtime(9), tzinfo=ZURICH)
    answer = httpx.post(
        peers[dialect][1] + "/_sandbox/reservations",
        json={
            "resource_id": resource,
            "start": start.isoformat(),
            "end": (start + timedelta(hours=3)).isoformat(),
            "user_id": user,
        },
    )
    answer.raise_for_status()
    return str(answer.json()["reference"])


def track_db(cli: Callable[..., CliRun], tmp_path: Path) -> str:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS_CSV)
    db = str(tmp_path / "track.sqlite3")
    imported = cli("track", "fetch-events", "--db", db, "--events", f"csv:{events}")
    assert imported.code == 0, imported.text
    return db


# --- 0 and 1 --------------------------------------------------------------------------------


@row(0)
def test_0_success(peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]) -> None:
    result = cli("book", "run", "--url", book_url(peers, "booked3"), *SLOT, "--resources", "231")
    assert result.code == 0, result.text
    assert "won: resource 231" in result.stdout


@row(1)
def test_1_a_dead_letter_in_sync_push(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]
) -> None:
    httpx.post(peers["webhook"][1] + "/_sandbox/fail", json={"status": 422, "count": 1})
    result = cli("sync", "push", "PROD", "--limit", "3")
    assert result.code == 1, result.text
    assert "1 ticket(s) became dead letters" in result.stderr


@row(1)
def test_1_doctor_with_a_failed_required_check(
    cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_DB_URL", "postgresql://u:pw@127.0.0.1:9/db")
    result = cli("doctor")
    assert result.code == 1, result.text
    assert "Traceback" not in result.text


# --- 2: configuration and usage -------------------------------------------------------------


@row(2)
def test_2_an_unknown_config_key(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    config = tmp_path / "boxoffice.toml"
    config.write_text("[watch]\nmaxprice = 3\n")
    result = cli("--config", str(config), "watch", "run", "--url", CLOSED, "--event", "a/b")
    assert result.code == 2, result.text
    line = result.error
    assert "maxprice" in line
    assert "max_price" in line


@row(2)
def test_2_a_usage_error(cli: Callable[..., CliRun]) -> None:
    result = cli("track", "fetch-listings", "--no-such-option")
    assert result.code == 2, result.text
    assert "No such option: --no-such-option" in result.stderr
    assert "Traceback" not in result.text


# --- 3: no result ---------------------------------------------------------------------------


@row(3)
def test_3_book_run_wins_nothing(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]
) -> None:
    occupy(peers, "booked3", 231, "7")  # another user holds the only resource asked for
    result = cli("book", "run", "--url", book_url(peers, "booked3"), *SLOT, "--resources", "231")
    assert result.code == 3, result.text
    assert "won:" not in result.stdout


@row(3)
def test_3_watch_run_carts_nothing(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]
) -> None:
    url = peers["market"][1]
    result = cli("watch", "run", "--url", url, "--event", "demo/99x1", *FAST_WATCH,
                 "--max-polls", "2")  # fmt: skip
    assert result.code == 3, result.text
    assert "no ticket in the cart" in result.stderr


@row(3)
def test_3_sync_push_leaves_a_ticket_waiting(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_SYNC_RETRY_SCHEDULE", "[3600]")
    httpx.post(peers["webhook"][1] + "/_sandbox/fail", json={"status": 503, "count": 1})
    result = cli("sync", "push", "PROD", "--limit", "3", "--max-wait", "1", "--json")
    assert result.code == 3, result.text
    summary = json.loads(result.stdout)
    assert summary["waiting"] == 1
    assert summary["delivered"] == 2


# --- 4: credentials refused -----------------------------------------------------------------


@row(4)
def test_4_a_wrong_password_for_the_scheduler(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_BOOK_PASSWORD", "wrong-password")
    result = cli("book", "refresh", "--url", book_url(peers, "booked3"))
    assert result.code == 4, result.text
    assert "username or password refused" in result.error
    assert "wrong-password" not in result.text


@row(4)
def test_4_a_listing_source_refusing_the_api_key(
    peers: dict[str, tuple[Any, str]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = track_db(cli, tmp_path)
    monkeypatch.setenv("BOXOFFICE_TRACK_PROXY_API_KEY", "not-the-key")
    result = cli("track", "fetch-listings", "--db", db)
    assert result.code == 4, result.text
    assert "HTTP 401" in result.text
    assert "not-the-key" not in result.text


@pytest.mark.postgres
@row(4)
def test_4_postgresql_refuses_the_password(
    cli: Callable[..., CliRun], postgres_password_url: Callable[[str], str]
) -> None:
    right = cli("track", "init-db", "--db", postgres_password_url("right-password"))
    assert right.code == 0, right.text  # the role, the database and the rule are right
    url = postgres_password_url("not-the-password")
    result = cli("track", "show-events", "--db", url)
    assert result.code == 4, result.text
    line = result.error
    assert 'user "tracker"' in line
    assert "127.0.0.1" in line
    assert "not-the-password" not in result.text
    assert "password" in line


# --- 5, 6, 7 --------------------------------------------------------------------------------


@row(5)
def test_5_a_listing_source_answering_429(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    db = track_db(cli, tmp_path)
    sim = peers["listings"][0].state.sim
    sim.fail_next, sim.fail_status, sim.retry_after = 5, 429, 30
    result = cli("track", "fetch-listings", "--db", db)
    assert result.code == 5, result.text
    assert "HTTP 429" in result.text


@row(6)
def test_6_a_marketplace_page_no_longer_understood(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, url = peers["market"]
    app.state.market.configure(markup="broken")  # pretix changed its page: nothing parses
    monkeypatch.setenv("BOXOFFICE_WATCH_MAX_UNKNOWN_PAGES", "2")
    result = cli("watch", "run", "--url", url, "--event", "demo/99x1", *FAST_WATCH,
                 "--max-polls", "5")  # fmt: skip
    assert result.code == 6, result.text
    assert "2 unrecognised marketplace pages in a row" in result.error
    assert list(Path("live-responses").glob("*_marketplace_unknown.html"))


@row(7)
def test_7_watch_against_a_refused_connection(cli: Callable[..., CliRun]) -> None:
    result = cli("watch", "run", "--url", CLOSED, "--event", "demo/99x1", "--once")
    assert result.code == 7, result.text
    assert "cannot connect" in result.error


@row(7)
def test_7_track_fetch_listings_with_the_source_refusing_connections(
    peers: dict[str, tuple[Any, str]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = track_db(cli, tmp_path)
    monkeypatch.setenv("BOXOFFICE_TRACK_PROXY_URL", CLOSED)
    result = cli("track", "fetch-listings", "--db", db)
    assert result.code == 7, result.text
    assert "cannot connect" in result.text


# --- 8, 9, 10, 11 ---------------------------------------------------------------------------


@row(8)
def test_8_a_state_dir_that_cannot_be_created(
    peers: dict[str, tuple[Any, str]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the state dir's parent should be")
    monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(blocker / "state"))
    result = cli("sync", "push", "PROD", "--limit", "3")
    assert result.code == 8, result.text
    assert str(blocker) in result.error


@row(9)
def test_9_an_unknown_event(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    db = track_db(cli, tmp_path)
    result = cli("track", "price-history", "999999999", "--db", db)
    assert result.code == 9, result.text
    assert "no event '999999999'" in result.error


@row(9)
def test_9_a_missing_file(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    result = cli("watch", "parse", str(tmp_path / "saved-page.html"))
    assert result.code == 9, result.text
    assert "does not exist" in result.error


@row(10)
def test_10_no_browser_for_the_handoff(cli: Callable[..., CliRun], tmp_path: Path) -> None:
    jar = CookieJar()
    jar.set(CookieRecord("__Host-pretix_session", "s3cr3t", "t.example.com", secure=True))
    cookies = jar.save(tmp_path / "cookies_20260801_120000.txt")
    result = cli(
        "watch", "handoff", "--cookies", str(cookies), "--url", "https://t.example.com/e/",
        "--browser", str(tmp_path / "no-such-chrome"),
    )  # fmt: skip
    assert result.code == 10, result.text
    assert result.error  # exactly one error line


@row(11)
def test_11_a_notification_channel_that_fails(cli: Callable[..., CliRun]) -> None:
    result = cli("watch", "test-handoff", "--headless", "--webhook", CLOSED + "/hook")
    assert result.code == 11, result.text
    assert "notification" in result.error


# --- 12, 13, 14: refused, pending, busy -----------------------------------------------------


@row(12)
def test_12_cancelling_someone_elses_reservation(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]
) -> None:
    theirs = occupy(peers, "librebooking", 240, "7")
    result = cli("book", "cancel", theirs, "--url", book_url(peers, "librebooking"),
                 "--dialect", "librebooking")  # fmt: skip
    assert result.code == 12, result.text
    assert "You are not allowed to change this reservation." in result.error
    assert len(peers["librebooking"][0].world.reservations) == 1


@row(13)
def test_13_a_reservation_pending_approval(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun]
) -> None:
    peers["librebooking"][0].world.approval_resources = [240]
    result = cli("book", "run", "--url", book_url(peers, "librebooking"),
                 "--dialect", "librebooking", *SLOT, "--resources", "240")  # fmt: skip
    assert result.code == 13, result.text
    assert "pending" in result.stdout
    assert "won:" not in result.stdout


@row(14)
def test_14_a_sync_push_while_another_holds_the_lock(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    webhook = peers["webhook"][1]
    httpx.post(webhook + "/_sandbox/fail", json={"status": 200, "count": 1000, "delay": 0.5})
    first = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "sync", "push", "PROD", "--limit", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while httpx.get(webhook + "/_sandbox/stats").json()["received"] < 1:
            assert first.poll() is None, "the first push ended before sending"
            assert time.monotonic() < deadline, "the first push never sent"
            time.sleep(0.05)
        result = cli("sync", "push", "PROD", "--limit", "50")
    finally:
        first.kill()
        first.communicate(timeout=30)
    assert result.code == 14, result.text
    line = result.error
    assert f"pid {first.pid}" in line
    assert "--wait" in line


# --- 130: Ctrl-C ----------------------------------------------------------------------------


def interrupt(command: list[str], ready: Callable[[], bool], cwd: Path) -> tuple[int, str]:
    """Start ``boxoffice COMMAND``, send SIGINT once ``ready()``; (exit code, stderr)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", *command],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ready():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the command never got going"
            time.sleep(0.05)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, err


def said_interrupted(stderr: str) -> list[str]:
    return [
        line
        for line in stderr.splitlines()
        if "interrupted" in line.lower() or "ctrl-c" in line.lower()
    ]


@row(130)
def test_130_ctrl_c_on_track_start_scheduler(
    peers: dict[str, tuple[Any, str]], cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    db = track_db(cli, tmp_path)
    sim = peers["listings"][0].state.sim
    sim.requests.clear()
    code, err = interrupt(
        ["track", "start-scheduler", "--db", db], lambda: bool(sim.requests), tmp_path
    )
    assert code == 130, err
    assert len(said_interrupted(err)) == 1, err
    assert "Traceback" not in err


@row(130)
def test_130_ctrl_c_on_book_run(peers: dict[str, tuple[Any, str]], tmp_path: Path) -> None:
    app, _ = peers["booked3"]
    # 30 real minutes ahead (aware-datetime arithmetic in one zone adds wall time: across a
    # DST change that would be 90 minutes, and --lead 3600 would then wait to log in)
    at = (datetime.now(UTC) + timedelta(minutes=30)).astimezone(ZURICH).isoformat("T", "seconds")
    code, err = interrupt(  # logged in at once (--lead), then waiting for the window to open
        ["book", "run", "--url", book_url(peers, "booked3"), *SLOT, "--resources", "231-233",
         "--at", at, "--lead", "3600"],
        lambda: bool(app.world.log),
        tmp_path,
    )  # fmt: skip
    assert code == 130, err
    assert len(said_interrupted(err)) == 1, err
    assert "Traceback" not in err
    assert app.world.reservations == []


@row(130)
def test_130_ctrl_c_on_watch_run(peers: dict[str, tuple[Any, str]], tmp_path: Path) -> None:
    app, url = peers["market"]
    code, err = interrupt(
        ["watch", "run", "--url", url, "--event", "demo/99x1", *FAST_WATCH],
        lambda: app.state.market.polls >= 2,
        tmp_path,
    )
    assert code == 130, err
    assert len(said_interrupted(err)) == 1, err
    assert "Traceback" not in err


# --- the table itself -----------------------------------------------------------------------


def test_every_code_of_the_table_has_a_test() -> None:
    table = {code for code, _, _ in exit_codes()}
    missing = sorted(table - set(COVERED))
    assert missing == [], f"exit codes without a test in this file: {missing}"
    assert sorted(set(COVERED) - table) == [], "a test for a code the table does not have"
