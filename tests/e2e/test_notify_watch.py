"""`watch run` tells the user: a local webhook channel and a local heartbeat monitor observe it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.e2e._cli import CliRun, run_cli
from tests.monitoring import LocalMonitor

from boxoffice.core.http import CookieJar
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


def test_a_watch_ending_on_unrecognised_pages_sends_its_failure_and_a_fail_ping(
    cli: Callable[..., CliRun], local_monitor: LocalMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_WATCH_MAX_UNKNOWN_PAGES", "3")
    app = create_app()
    app.state.market.configure(markup="broken")
    with SandboxServer({"m": app}) as urls:
        proc = cli(
            "watch", "run", "--url", urls["m"], "--event", "demo/99x1", *FAST,
            "--max-polls", "20", "--notify", local_monitor.webhook,
            "--heartbeat", local_monitor.heartbeat("watch1"),
        )  # fmt: skip
    assert proc.returncode != 0
    (notice,) = local_monitor.bodies("watch.error")
    assert notice["data"]["kind"] == "failure"  # type: ignore[index]
    assert "3 unrecognised marketplace pages in a row" in str(notice["body"])
    archived = notice["data"]["fields"]["archived"]  # type: ignore[index]
    assert archived
    assert Path(archived).is_file() or (Path.cwd() / archived).is_file()
    assert f"Archived page: {archived}" in str(notice["body"])
    pings = local_monitor.monitor.received()["pings"]
    assert pings[0]["kind"] == "start"
    assert pings[-1]["kind"] == "fail"
    assert "unrecognised marketplace pages" in pings[-1]["body"]


def test_a_cart_add_notifies_with_the_checkout_link_and_the_reservation_deadline(
    cli: Callable[..., CliRun], local_monitor: LocalMonitor, tmp_path: Path
) -> None:
    app = create_app()
    app.state.market.add_listing("Ticket – Standard", "95", after_polls=1)
    before = datetime.now(UTC)
    with SandboxServer({"m": app}) as urls:
        proc = cli(
            "watch", "run", "--url", urls["m"], "--event", "demo/99x1", *FAST,
            "--max-polls", "20", "--notify", local_monitor.webhook,
            "--heartbeat", local_monitor.heartbeat("watch2"),
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (notice,) = local_monitor.bodies("watch.carted")
    fields = notice["data"]["fields"]  # type: ignore[index]
    assert notice["url"] == f"{urls['m']}/demo/99x1/checkout/questions/"
    deadline = datetime.fromisoformat(fields["reservation_deadline"])
    # the sandbox reserves for 30 minutes from the cart add, as pretix does by default
    assert before + timedelta(minutes=29) < deadline < datetime.now(UTC) + timedelta(minutes=31)
    assert "Reserved for you until" in str(notice["body"])
    (cookie_file,) = (tmp_path / "live-responses").glob("cookies_*.txt")
    for record in CookieJar.load(cookie_file).items():
        assert record.value not in str(notice)
    assert local_monitor.monitor.ping_kinds("watch2")[0] == "start"
    assert local_monitor.monitor.ping_kinds("watch2")[-1] == "success"


def test_marketplace_opened_after_waiting_is_an_info_event(
    cli: Callable[..., CliRun], local_monitor: LocalMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_NOTIFY_ON", '["failure", "info"]')
    app = create_app()
    market = app.state.market
    market.configure(event_link=False)

    def open_later() -> None:
        deadline = time.monotonic() + 10
        while market.event_polls < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        market.configure(event_link=True)

    opener = threading.Thread(target=open_later)
    with SandboxServer({"m": app}) as urls:
        opener.start()
        proc = cli(
            "watch", "run", "--url", urls["m"], "--event", "demo/99x1", *FAST,
            "--poll-inactive-marketplace", "0.1", "--max-polls", "12",
            "--notify", local_monitor.webhook,
        )  # fmt: skip
        opener.join()
    assert proc.returncode == 3, proc.stderr  # nothing listed: no ticket, budget used up
    (notice,) = local_monitor.bodies("watch.marketplace_opened")
    assert notice["data"]["fields"]["marketplace_url"].endswith("/secondhand/")  # type: ignore[index]
