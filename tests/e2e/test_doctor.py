"""`boxoffice doctor` end to end: a real process, real checks, JSON shape and exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.chromium


def _doctor(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "boxoffice", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=full_env,
        timeout=120,
        check=False,
    )


def _by_name(stdout: str) -> dict[str, dict[str, Any]]:
    rows = json.loads(stdout)
    assert isinstance(rows, list)
    for row in rows:
        assert set(row) == {"name", "ok", "detail", "required", "configured", "status"}
        assert isinstance(row["name"], str)
        assert isinstance(row["ok"], bool)
        assert isinstance(row["detail"], str)
        assert row["detail"]
        assert isinstance(row["required"], bool)
    return {row["name"]: row for row in rows}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_doctor_json_on_a_healthy_machine(tmp_path: Path, chromium_path: Path) -> None:
    proc = _doctor(tmp_path, "doctor", "--json")
    assert proc.returncode == 0, proc.stderr
    checks = _by_name(proc.stdout)
    assert checks["config"]["ok"]
    assert checks["config"]["required"]
    assert checks["state dir"]["ok"]
    assert checks["state dir"]["required"]
    assert os.environ["BOXOFFICE_STATE_DIR"] in checks["state dir"]["detail"]
    assert checks["browser"]["ok"]
    assert not checks["browser"]["required"]
    assert checks["browser launch"]["ok"], checks["browser launch"]["detail"]
    assert "boxoffice doctor" in checks["browser launch"]["detail"]  # the test page's title
    assert checks["database"]["ok"]
    assert not checks["database"]["required"]  # nothing configured: nothing to require
    assert "no PostgreSQL URL" in checks["database"]["detail"]
    assert checks["notify"]["status"] == "not configured"  # not a tick, not a failure
    assert {c["status"] for n, c in checks.items() if n != "notify"} == {"ok"}


def test_a_broken_config_is_a_failed_required_check_not_a_crash(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[http]\nconnect_timeout = "soon"\n', encoding="utf-8")
    proc = _doctor(
        tmp_path,
        "--config",
        str(config),
        "doctor",
        "--json",
        env={"BOXOFFICE_BROWSER_EXECUTABLE": str(tmp_path / "no-browser")},
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    checks = _by_name(proc.stdout)
    assert not checks["config"]["ok"]
    detail = checks["config"]["detail"]
    assert "http.connect_timeout" in detail
    assert str(config) in detail
    assert "\n" not in detail
    assert checks["state dir"]["ok"]  # the other checks still ran, on defaults


def test_a_configured_database_that_is_unreachable_fails_the_run(tmp_path: Path) -> None:
    """db_url set but the server refuses: a required check fails, exit code 1, no password."""
    port = _closed_port()
    url = f"postgresql://track:s3cret-pw@127.0.0.1:{port}/prices?sslmode=disable"
    proc = _doctor(
        tmp_path,
        "doctor",
        "--json",
        env={"BOXOFFICE_DB_URL": url, "BOXOFFICE_BROWSER_EXECUTABLE": str(tmp_path / "none")},
    )
    assert proc.returncode == 1, proc.stderr
    checks = _by_name(proc.stdout)
    assert checks["config"]["ok"]
    assert checks["state dir"]["ok"]
    db = checks["database"]
    assert not db["ok"]
    assert db["required"]
    assert db["detail"].startswith(f"postgresql://track:***@127.0.0.1:{port}/prices: ")
    assert "PostgreSQL" in db["detail"]
    assert "refused" in db["detail"].lower()
    assert "s3cret-pw" not in proc.stdout + proc.stderr
    assert "sslmode" not in db["detail"]  # no query string


def test_optional_failures_are_reported_clearly_without_failing_the_run(tmp_path: Path) -> None:
    """No browser, bad notification URLs: each a clear row; exit code 0."""
    proc = _doctor(
        tmp_path,
        "doctor",
        "--json",
        env={
            "BOXOFFICE_BROWSER_EXECUTABLE": str(tmp_path / "no-browser"),
            "BOXOFFICE_NOTIFY_APPRISE": '["json://127.0.0.1:9/hook", "nosuchscheme://x"]',
            "BOXOFFICE_NOTIFY_WEBHOOK": "ftp://example.com/hook",
        },
    )
    assert proc.returncode == 0, proc.stderr  # optional checks do not fail the run
    checks = _by_name(proc.stdout)
    assert checks["config"]["ok"]

    browser = checks["browser"]
    assert not browser["ok"]
    assert "no-browser" in browser["detail"]
    assert "BOXOFFICE_BROWSER_EXECUTABLE" in browser["detail"]

    rows = [r for r in json.loads(proc.stdout) if r["name"].startswith("notify")]
    assert [(r["name"], r["ok"]) for r in rows] == [
        ("notify apprise json://127.0.0.1:9/…", True),
        ("notify apprise nosuchscheme://x…/…", False),
        ("notify webhook ftp://example.com/…", False),
    ]
    assert "--send-test" in rows[0]["detail"]  # validated only, nothing sent
    assert "Apprise did not understand" in rows[1]["detail"]
