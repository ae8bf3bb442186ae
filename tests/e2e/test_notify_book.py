"""`book run` tells the user its outcome, and --keep-trying books a place freed after T0."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from datetime import time as dtime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.monitoring import LocalMonitor
from typer.testing import CliRunner

from boxoffice.cli.main import app as cli
from boxoffice.sandbox import booked3 as sim_booked3
from boxoffice.sandbox import librebooking as sim_libre
from boxoffice.sandbox.server import SandboxServer

ZURICH = ZoneInfo("Europe/Zurich")
SLOT_DAY = datetime.now(ZURICH).date() + timedelta(days=30)  # a slot a month ahead
SLOT = ["--date", SLOT_DAY.isoformat(), "--start", "09:00", "--end", "12:00"]
START = datetime.combine(SLOT_DAY, dtime(9), tzinfo=ZURICH)
END = datetime.combine(SLOT_DAY, dtime(12), tzinfo=ZURICH)
OTHER = "77"


@pytest.fixture
def libre(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for key, value in {
        "BOXOFFICE_BOOK_USERNAME": sim_booked3.DEFAULT_USERNAME,
        "BOXOFFICE_BOOK_PASSWORD": sim_booked3.DEFAULT_PASSWORD,
        "BOXOFFICE_BOOK_TOTP_SECRET": sim_booked3.DEFAULT_TOTP_SECRET,
        "BOXOFFICE_BOOK_TIMEZONE": "Europe/Zurich",
    }.items():
        monkeypatch.setenv(key, value)
    app = sim_libre.create_app()
    app.world.php_mode = True
    with SandboxServer({"l": app}, include_date_header=False) as urls:
        yield app, urls["l"] + "/Web"


def _occupy(app: Any, resources: range) -> list[str]:
    return [app.world.add_reservation(r, START, END, OTHER).reference for r in resources]


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=True)


def test_a_lost_booking_notifies_lost_with_the_best_outcome(
    libre: tuple[Any, str], local_monitor: LocalMonitor
) -> None:
    app, url = libre
    _occupy(app, range(231, 234))
    result = invoke(
        "book", "run", "--url", url, "--dialect", "librebooking", *SLOT,
        "--resources", "231-233", "--notify", local_monitor.webhook, "--json",
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    (notice,) = local_monitor.bodies("book.lost")
    assert notice["data"]["kind"] == "failure"  # type: ignore[index]
    assert notice["data"]["fields"]["best_outcome"] == "no free resource"  # type: ignore[index]
    assert "Lost the race" in str(notice["body"])
    assert sim_booked3.DEFAULT_PASSWORD not in json.dumps(notice)


def test_a_won_booking_notifies_won(libre: tuple[Any, str], local_monitor: LocalMonitor) -> None:
    _, url = libre
    result = invoke(
        "book", "run", "--url", url, "--dialect", "librebooking", *SLOT,
        "--resources", "231-233", "--prefer", "232", "--notify", local_monitor.webhook,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert local_monitor.monitor.events() == ["book.won"]
    (notice,) = local_monitor.bodies("book.won")
    assert notice["data"]["fields"]["resource"] == 232  # type: ignore[index]


def test_keep_trying_books_a_place_freed_after_t0(
    libre: tuple[Any, str], local_monitor: LocalMonitor
) -> None:
    app, url = libre
    refs = _occupy(app, range(231, 234))
    world = app.world

    def cancel_after_the_race() -> None:
        # the race reads availability once; free 232 once a re-check has happened after it
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            reads = [e for e in list(world.log) if e.method == "GET" and "Reservations" in e.path]
            if len(reads) >= 2:
                break
            time.sleep(0.02)
        assert world.cancel(refs[1], OTHER)

    canceller = threading.Thread(target=cancel_after_the_race)
    canceller.start()
    result = invoke(
        "book", "run", "--url", url, "--dialect", "librebooking", *SLOT,
        "--resources", "231-233", "--keep-trying", "20s", "--retry-interval", "1s",
        "--notify", local_monitor.webhook, "--json",
    )  # fmt: skip
    canceller.join()
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["resource"] == 232
    mine = [r for r in world.reservations if r.user_id == sim_booked3.DEFAULT_USER_ID]
    assert [r.resource_id for r in mine] == [232]  # one booking held
    (notice,) = local_monitor.bodies("book.won")
    assert "freed after the race" in str(notice["body"])


def test_keep_trying_gives_up_when_nothing_is_freed(
    libre: tuple[Any, str], local_monitor: LocalMonitor
) -> None:
    app, url = libre
    _occupy(app, range(231, 233))
    result = invoke(
        "book", "run", "--url", url, "--dialect", "librebooking", *SLOT,
        "--resources", "231-232", "--keep-trying", "2.5s", "--retry-interval", "1s",
        "--notify", local_monitor.webhook,
    )  # fmt: skip
    assert result.exit_code == 3, result.output
    assert "gave up after" in result.output
    assert local_monitor.monitor.events() == ["book.lost"]


def test_retry_interval_has_a_floor(libre: tuple[Any, str]) -> None:
    _, url = libre
    result = invoke(
        "book", "run", "--url", url, "--dialect", "librebooking", *SLOT,
        "--resources", "231", "--keep-trying", "10m", "--retry-interval", "0.1s",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "below the 1 s floor" in str(result.exception)
    assert not libre[0].world.reservations  # refused before any request was sent
