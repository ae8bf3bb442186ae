"""The `boxoffice` command itself: version, help everywhere, errors, JSON logs, the sandbox."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import typer
from typer.testing import CliRunner

from boxoffice import __version__
from boxoffice.cli import main
from boxoffice.cli.main import app
from boxoffice.core import logging as blog
from boxoffice.errors import ConfigurationError
from boxoffice.sandbox import registry

# the webhook receiver is the first simulator (issue 2); any registered one proves the shell
SIMULATOR = next(
    name
    for name in ("webhook", "vivenu")
    if importlib.util.find_spec(registry.SIMULATORS[name]) is not None
)


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "boxoffice", *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )


@pytest.fixture
def run_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[Callable[..., tuple[int, str, str]]]:
    """Run the console-script entry point in process: (exit code, stdout, stderr)."""
    monkeypatch.chdir(tmp_path)

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["boxoffice", *args])
        with pytest.raises(SystemExit) as info:
            main.run()
        out, err = capsys.readouterr()
        code = info.value.code
        return (code if isinstance(code, int) else 0), out, err

    yield invoke
    blog.configure()  # back to console mode, then to structlog's defaults
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "boxoffice":
            root.removeHandler(handler)


def _command_paths() -> list[list[str]]:
    """Every registered group and command, as argv prefixes."""
    root = typer.main.get_command(app)
    paths: list[list[str]] = [[]]

    def walk(cmd: Any, prefix: list[str]) -> None:
        if hasattr(cmd, "list_commands"):  # a group (the root one loads its groups lazily)
            ctx = cmd.make_context(cmd.name or "boxoffice", [], resilient_parsing=True)
            for name in cmd.list_commands(ctx):
                paths.append([*prefix, name])
                walk(cmd.get_command(ctx, name), [*prefix, name])

    walk(root, [])
    return paths


def test_version(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"boxoffice {__version__}"


def test_no_arguments_shows_help(run_cli: Callable[..., tuple[int, str, str]]) -> None:
    _, out, err = run_cli()
    assert "Usage" in out + err
    for group in ("watch", "book", "sync", "track", "sandbox", "doctor", "demo"):
        assert group in out + err


def test_every_group_and_command_has_help() -> None:
    paths = _command_paths()
    names = {p[0] for p in paths if p}
    assert {"watch", "book", "sync", "track", "sandbox", "doctor", "demo"} <= names
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"])
        assert result.exit_code == 0, f"boxoffice {' '.join(path)} --help: {result.output}"
        assert "Usage" in result.output
        assert "Traceback" not in result.output


def test_global_options_are_documented() -> None:
    result = CliRunner().invoke(app, ["--help"])
    for option in ("--config", "--log-json", "--verbose", "--quiet", "--version"):
        assert option in result.output


def test_a_boxoffice_error_is_one_line_and_its_exit_code(tmp_path: Path) -> None:
    proc = _cli(tmp_path, "sandbox", "--only", "no-such-simulator")  # a real process
    assert proc.returncode == ConfigurationError.exit_code
    lines = proc.stderr.strip().splitlines()
    assert lines == [
        "error: unknown simulator no-such-simulator — choose from "
        "pretix-marketplace, booked3, librebooking, vivenu, webhook, listings, monitor"
    ]
    assert proc.stdout == ""


def test_a_boxoffice_error_under_log_json_is_a_json_line(
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    code, _, err = run_cli("--log-json", "sandbox", "--port", "webhook=notaport")
    assert code == ConfigurationError.exit_code
    (line,) = err.strip().splitlines()
    record = json.loads(line)
    assert record["level"] == "error"
    assert record["exit_code"] == ConfigurationError.exit_code
    assert record["error"] == "ConfigurationError"
    assert "NAME=PORT" in record["event"]


def test_usage_errors_exit_2_with_click_message(
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    code, _, err = run_cli("doctor", "--no-such-flag")
    assert code == 2
    assert "No such option" in err
    assert "Traceback" not in err


def test_typer_exit_codes_reach_the_shell(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(blocker / "state"))
    monkeypatch.setenv("BOXOFFICE_BROWSER_EXECUTABLE", str(tmp_path / "none"))
    code, out, _ = run_cli("doctor", "--json")
    assert code == 1  # doctor's typer.Exit(1), not swallowed into 0
    assert json.loads(out)


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise AssertionError(f"sandbox exited early: {proc.communicate()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("sandbox did not write its ports file in time")
        time.sleep(0.05)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_sandbox_serves_writes_ports_file_and_stops_cleanly(tmp_path: Path, sig: int) -> None:
    ports_file = tmp_path / "ports.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "boxoffice",
            "--log-json",
            "sandbox",
            "--only",
            SIMULATOR,
            "--ports-file",
            str(ports_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        _wait_for(ports_file, proc)
        urls = json.loads(ports_file.read_text())
        assert list(urls) == [SIMULATOR]
        assert urls[SIMULATOR].startswith("http://127.0.0.1:")
        assert (ports_file.stat().st_mode & 0o777) == 0o600
        response = httpx.get(urls[SIMULATOR] + "/", timeout=10)
        assert response.status_code < 500
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert not ports_file.exists()  # removed on stop: no stale URLs for the next script
    assert "stopped" in out
    assert urls[SIMULATOR] in out
    records = [json.loads(line) for line in err.strip().splitlines()]  # --log-json: all JSON
    assert any(r["event"] == "sandbox serving" for r in records)
    with pytest.raises(httpx.ConnectError):
        httpx.get(urls[SIMULATOR] + "/", timeout=5)
