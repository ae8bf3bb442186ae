"""What the CLI says in ordinary trouble: the right advice, each message once, a JSON ``ok``
that agrees with the exit code, server errors called server errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e._cli import CliRun, run_cli

from boxoffice.core.http import CookieJar, CookieRecord
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer

FAST = ["--interval", "0.2", "--i-know-what-i-am-doing", "--headless"]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliRun]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> CliRun:
        return run_cli(capsys, monkeypatch, *args)

    return invoke


@pytest.fixture
def market() -> Iterator[tuple[Any, str]]:
    app = create_app()
    with SandboxServer({"m": app}) as urls:
        yield app, urls["m"]


def saved_session(tmp_path: Path) -> Path:
    jar = CookieJar()
    jar.set(CookieRecord("__Host-pretix_session", "s3cr3tsession", "t.example.com", secure=True))
    return jar.save(tmp_path / "cookies_20260801_120000.txt")


def test_handoff_with_an_unreadable_cookie_file_says_how_to_fix_it_not_to_delete_it(
    cli: Callable[..., CliRun], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cookies = saved_session(tmp_path)
    if os.geteuid() == 0:  # root reads whatever the mode: refuse this one file as the OS would
        real = Path.read_bytes

        def refuse(self: Path) -> bytes:
            if self == cookies:
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", refuse)
    else:
        cookies.chmod(0)
    proc = cli("watch", "handoff", "--cookies", str(cookies), "--url", "https://t.example.com/")
    assert proc.returncode == 8, proc.stderr
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert f"cannot read cookie file {cookies}: Permission denied" in error
    assert f"chmod 600 {cookies}" in error
    assert "do not delete it" in error
    assert "delete the file" not in proc.text


def test_handoff_with_a_damaged_cookie_file_does_not_advise_deleting_it(
    cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    cookies = tmp_path / "cookies_20260801_120000.txt"
    cookies.write_text("{not json")
    proc = cli("watch", "handoff", "--cookies", str(cookies), "--url", "https://t.example.com/")
    assert proc.returncode == 8
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert "is not a cookie file saved by `boxoffice watch run`" in error
    assert "do not delete it" in error
    assert "delete the file" not in proc.text


def test_test_handoff_json_ok_agrees_with_the_exit_code(cli: Callable[..., CliRun]) -> None:
    proc = cli("watch", "test-handoff", "--headless", "--json", "--webhook", "http://127.0.0.1:9/")
    assert proc.returncode == 11, proc.stderr  # NotificationError: a channel failed
    summary = json.loads(proc.stdout)
    assert summary["ok"] is False  # a channel failed: not ok, as the exit code says
    assert summary["watches"][0]["status"] == "carted"
    good = cli("watch", "test-handoff", "--headless", "--json")
    assert good.returncode == 0
    assert json.loads(good.stdout)["ok"] is True


def test_a_fatal_watch_error_is_printed_once(cli: Callable[..., CliRun]) -> None:
    proc = cli("watch", "run", "--url", "http://127.0.0.1:9", "--event", "demo/99x1", "--once")
    assert proc.returncode == 7
    assert proc.text.count("cannot connect") == 1, proc.text
    assert "http://127.0.0.1:9/demo/99x1/" in proc.text
    assert proc.stderr.strip().splitlines()[-1].startswith("error: ")


@pytest.mark.usefixtures("instant_waits")  # the backoffs after the 500 and the 429
def test_a_marketplace_500_is_labelled_a_server_error(
    market: tuple[Any, str], cli: Callable[..., CliRun]
) -> None:
    app, base = market
    app.state.market.inject(500, count=1)
    app.state.market.inject(429, count=1)
    proc = cli("watch", "run", "--url", base, "--event", "demo/99x1", *FAST, "--max-polls", "3")
    assert proc.returncode == 3, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if "GET /demo/99x1/secondhand/" in line]
    assert "→ server error (HTTP 500)" in lines[0]
    assert "throttled" not in lines[0]
    assert "→ throttled (HTTP 429, rate limited)" in lines[1]


def test_fetch_events_reports_each_skipped_row_once(
    cli: Callable[..., CliRun], tmp_path: Path
) -> None:
    source = tmp_path / "events.csv"
    source.write_text(
        "Name,Venue,City,Country,Date,viagogoID\n"
        "Gig,Hall,Berlin,DE,2030-05-01 20:00,12345\n"
        "bad,row\n"
    )
    db = f"sqlite:///{tmp_path / 'track.sqlite3'}"
    proc = cli("track", "fetch-events", "--db", db, "--events", f"csv:{source}")
    assert proc.returncode == 0, proc.stderr
    assert "1 new" in proc.stdout
    assert proc.text.count("row 3") == 1, proc.text
