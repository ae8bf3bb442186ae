"""`doctor --send-test`: one test per configured channel (global and per job), heartbeats pinged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.monitoring import LocalMonitor
from typer.testing import CliRunner

from boxoffice.cli import doctor as doc
from boxoffice.cli.main import app
from boxoffice.core.browser import BrowserError


def _no_browser(settings: object) -> list[doc.Check]:
    return [doc.Check("browser", False, str(BrowserError("skipped in this test")))]


@pytest.fixture
def config(tmp_path: Path, local_monitor: LocalMonitor) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f"""
[notify]
webhook = ["{local_monitor.webhook}"]

[book.notify]
webhook = ["{local_monitor.base}/hooks/book-only"]

[track.notify]
heartbeat = "{local_monitor.heartbeat("track-check")}"

[sync.notify]
heartbeat = "http://127.0.0.1:9/ping/unreachable"
"""
    )
    return path


def test_send_test_reaches_every_channel_and_pings_every_heartbeat(
    config: Path, local_monitor: LocalMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doc, "check_browser", _no_browser)
    result = CliRunner().invoke(app, ["--config", str(config), "doctor", "--json", "--send-test"])
    rows = {r["name"]: r for r in json.loads(result.stdout)}
    received = local_monitor.monitor.received()
    assert sorted(received["paths"]) == ["/hooks/book-only", "/hooks/boxoffice"]
    assert all(b["title"] == "boxoffice doctor" for b in received["notifications"])
    assert [p["check"] for p in received["pings"]] == ["track-check"]
    beats = {k: v for k, v in rows.items() if k.startswith("heartbeat")}
    assert [v["ok"] for k, v in sorted(beats.items())] == [False, True]  # sync, track
    assert "ping-unreachable" not in result.stdout


def test_without_send_test_nothing_is_sent(
    config: Path, local_monitor: LocalMonitor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doc, "check_browser", _no_browser)
    result = CliRunner().invoke(app, ["--config", str(config), "doctor", "--json"])
    rows = json.loads(result.stdout)
    assert local_monitor.monitor.received() == {
        "notifications": [], "paths": [], "pings": [], "failed": 0,
    }  # fmt: skip
    assert any(r["name"].startswith("heartbeat track") and r["ok"] for r in rows)
