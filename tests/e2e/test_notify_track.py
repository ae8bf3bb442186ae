"""`track run` with a heartbeat and a price alert, end to end in a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.monitoring import LocalMonitor
from typer.testing import CliRunner

from boxoffice.cli.main import app
from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer

WHEN = (datetime.now(UTC) + timedelta(days=90)).strftime("%Y-%m-%d 20:00:00")


@pytest.fixture
def listings() -> Iterator[str]:
    with SandboxServer({"l": listings_sim.create_app(seed=3, api_key="k")}) as urls:
        yield urls["l"]


def test_track_run_pings_its_heartbeat_and_sends_a_price_alert(
    tmp_path: Path, listings: str, local_monitor: LocalMonitor
) -> None:
    events = tmp_path / "events.csv"
    events.write_text(
        f"Name,Venue,City,Country,Date,viagogoID,is_tracked\nShow,Hall,Town,UK,{WHEN},4242,TRUE\n"
    )
    db = tmp_path / "t.sqlite3"
    env = {
        **os.environ,
        "BOXOFFICE_TRACK_PROXY_URL": listings,
        "BOXOFFICE_TRACK_PROXY_API_KEY": "k",
    }
    runner = CliRunner(env={k: v for k, v in env.items() if k.startswith("BOXOFFICE_TRACK")})
    fetched = runner.invoke(
        app, ["track", "fetch-events", "--db", str(db), "--events", f"csv:{events}"]
    )
    assert fetched.exit_code == 0, fetched.output
    added = runner.invoke(
        app, ["track", "alert", "add", "4242", "--below", "1000000", "--db", str(db)]
    )
    assert added.exit_code == 0, added.output
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "track", "run", "--db", str(db),
         "--events", f"csv:{events}", "--notify", local_monitor.webhook,
         "--heartbeat", local_monitor.heartbeat("tracker")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if local_monitor.bodies("track.price_alert"):
                break
            time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    (alert,) = local_monitor.bodies("track.price_alert")
    fields = alert["data"]["fields"]  # type: ignore[index]
    assert fields["event"] == "Show"
    assert fields["price"] < 1000000
    assert "section" in fields
    assert "row" in fields
    assert "captured_at" in fields
    kinds = local_monitor.monitor.ping_kinds("tracker")
    assert kinds[0] == "start"
    assert kinds[-1] == "success"  # a clean stop (SIGTERM) is not a failure
