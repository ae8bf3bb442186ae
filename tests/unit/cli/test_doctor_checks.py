"""Doctor checks one by one (in process): config, dirs, channels, database, table, exit code."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from boxoffice.cli import doctor as doc
from boxoffice.cli.doctor import Check, check_config, check_database, check_dir, check_notify
from boxoffice.cli.main import app
from boxoffice.core import state
from boxoffice.errors import ConfigurationError
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import BrowserSettings, NotifySettings, Settings


def _settings(**kw: object) -> Settings:
    return Settings.model_construct(**kw)


def test_a_config_that_does_not_load_is_one_failed_line(tmp_path: Path) -> None:
    def broken() -> Settings:
        raise ConfigurationError(
            "invalid settings:\n  http.connect_timeout: bad (from x.toml)\n  http.http2: bad"
        )

    check, fallback = check_config(broken, tmp_path / "x.toml")
    assert check == Check(
        "config",
        False,
        "invalid settings: http.connect_timeout: bad (from x.toml); http.http2: bad",
        True,
    )
    assert fallback.http.connect_timeout == 5.0  # defaults for the remaining checks


def test_a_config_that_loads_names_its_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("")
    check, _ = check_config(Settings.model_construct, path)
    assert check.ok
    assert str(path) in check.detail
    check, _ = check_config(Settings.model_construct, tmp_path / "absent.toml")
    assert check.ok
    assert "no config file" in check.detail


def test_dir_check_writes_and_cleans_up(tmp_path: Path) -> None:
    check = check_dir("state dir", state.state_dir, tmp_path / "st", True)
    assert check.ok
    assert check.required
    assert list((tmp_path / "st").iterdir()) == []


def test_dir_check_failure_names_the_path(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    check = check_dir("state dir", state.state_dir, blocker / "st", True)
    assert not check.ok
    assert str(blocker / "st") in check.detail


def test_no_channels_is_neither_a_tick_nor_a_failure() -> None:
    (check,) = check_notify(_settings(notify=NotifySettings()), send_test=False)
    assert check.ok  # nothing fails the run
    assert check.status == "not configured"


def test_channels_are_validated_without_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    notify = NotifySettings(
        apprise=["json://127.0.0.1:9/hook", "definitely-not-a-url"],
        imessage=["+441234567890"],
        webhook=["https://hooks.example/x?token=abc", "mailto:x@example.com"],
    )
    checks = check_notify(_settings(notify=notify), send_test=False)
    assert [(c.name, c.ok) for c in checks] == [
        ("notify apprise json://127.0.0.1:9/…", True),
        ("notify apprise <url>", False),
        ("notify imessage +441234567890", False),
        ("notify webhook https://hooks.example/…", True),
        ("notify webhook <url>", False),
    ]
    assert "Apprise did not understand" in checks[1].detail
    assert "macOS" in checks[2].detail
    assert "http(s)" in checks[4].detail
    assert "token=abc" not in " ".join(c.name + c.detail for c in checks)
    assert all(not c.required for c in checks)


def test_database_not_configured_is_fine() -> None:
    check = check_database(_settings(db_url=None))
    assert check.ok
    assert not check.required
    assert "SQLite" in check.detail


def test_database_url_must_be_postgresql() -> None:
    check = check_database(_settings(db_url=SecretStr("mysql://u:pw@h/x?token=t0k")))
    assert not check.ok
    assert check.required
    assert check.detail == "mysql://u:***@h/x: not a postgresql:// URL"


def test_unreachable_database_is_a_failed_check_quickly() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    check = check_database(
        _settings(db_url=SecretStr(f"postgresql://u:hidden99@127.0.0.1:{port}/x"))
    )
    assert not check.ok
    assert check.required  # configured, so track needs it
    assert check.detail.startswith(f"postgresql://u:***@127.0.0.1:{port}/x: ")
    assert "hidden99" not in check.detail
    assert "\n" not in check.detail


def test_an_unreachable_configured_database_fails_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doc, "check_browser", _no_browser)
    monkeypatch.chdir(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("BOXOFFICE_DB_URL", f"postgresql://u:hidden99@127.0.0.1:{port}/x")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["database"]["required"]
    assert not rows["database"]["ok"]
    assert rows["config"]["ok"]
    assert rows["state dir"]["ok"]


def _no_browser(settings: Settings) -> list[Check]:
    return [Check("browser", False, "stubbed out in this test")]


def test_table_output_and_exit_codes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doc, "check_browser", _no_browser)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    assert "boxoffice doctor" in result.output
    assert "[notify]" in result.output  # details are printed literally, not as markup
    assert "stubbed out in this test" in result.output

    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(blocker / "state"))
    result = runner.invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1
    assert '"state dir"' in result.output


def _receiver(status: int, seen: list[dict[str, object]]) -> Starlette:
    async def hook(request: Request) -> JSONResponse:
        seen.append(await request.json())
        return JSONResponse({"ok": status < 300}, status_code=status)

    return Starlette(routes=[Route("/hook", hook, methods=["POST"])])


def test_send_test_really_sends_to_each_channel() -> None:
    good: list[dict[str, object]] = []
    bad: list[dict[str, object]] = []
    with SandboxServer({"good": _receiver(200, good), "bad": _receiver(500, bad)}) as urls:
        notify = NotifySettings(webhook=[urls["good"] + "/hook", urls["bad"] + "/hook"])
        validated = check_notify(_settings(notify=notify), send_test=False)
        assert good == []  # validating sends nothing
        assert bad == []
        assert all(c.ok for c in validated)
        sent = check_notify(_settings(notify=notify), send_test=True)
    assert [c.ok for c in sent] == [True, False]
    assert "HTTP 200" in sent[0].detail
    assert "HTTP 500" in sent[1].detail
    assert len(good) == 1
    assert good[0]["title"] == "boxoffice doctor"
    assert len(bad) == 1


def test_a_missing_config_file_is_a_failed_check_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doc, "check_browser", _no_browser)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["--config", str(tmp_path / "nope.toml"), "doctor", "--json"])
    assert result.exit_code == 1
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert not rows["config"]["ok"]
    assert "nope.toml does not exist" in rows["config"]["detail"]
    assert rows["state dir"]["ok"]


def test_cdp_endpoint_is_probed_without_a_local_browser(tmp_path: Path) -> None:
    async def version(request: Request) -> JSONResponse:
        return JSONResponse({"Browser": "Chrome/131.0", "webSocketDebuggerUrl": "ws://x"})

    cdp = Starlette(routes=[Route("/json/version", version)])
    with SandboxServer({"cdp": cdp}) as urls:
        browser = BrowserSettings(executable=tmp_path / "none", cdp_url=urls["cdp"])
        checks = doc.check_browser(_settings(browser=browser))
    assert [(c.name, c.ok) for c in checks] == [("browser", False), ("browser CDP", True)]
    assert "Chrome/131.0" in checks[1].detail
    down = doc.check_cdp(urls["cdp"])  # server stopped now
    assert not down.ok
    assert "cannot connect" in down.detail


def test_cdp_detail_hides_the_password() -> None:
    check = doc.check_cdp("http://user:pw-secret9@127.0.0.1:1")
    assert not check.ok
    assert check.detail.startswith("http://user:***@127.0.0.1:1: ")
    assert "pw-secret9" not in check.detail
