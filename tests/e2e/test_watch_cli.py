"""`boxoffice watch …` end to end: the CLI entry point against the simulator."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.e2e._cli import CliRun, run_cli

from boxoffice.core.http import CookieJar, CookieRecord
from boxoffice.sandbox.pretix_marketplace import create_app, render_marketplace
from boxoffice.sandbox.server import SandboxServer

FAST = ["--interval", "0.2", "--i-know-what-i-am-doing"]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliRun]:
    """Run ``boxoffice …`` in this process (the console-script entry point), in tmp_path."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> CliRun:
        return run_cli(capsys, monkeypatch, *args)

    return invoke


@pytest.fixture
def market() -> Iterator[tuple[Any, str, Path]]:
    """An HTTPS simulator: (app, base URL, CA file)."""
    app = create_app()
    server = SandboxServer({"m": app}, tls=True)
    with server as urls:
        assert server.ca_file is not None
        yield app, urls["m"], server.ca_file


def test_headless_run_then_reopen_the_session_in_chromium(
    market: tuple[Any, str, Path],
    tmp_path: Path,
    chromium_path: Path,
    cli: Callable[..., CliRun],
) -> None:
    app, base, ca = market
    app.state.market.add_listing("Ticket – Standard", "95", after_polls=2)
    proc = cli(
        "watch", "run", "--url", base, "--event", "demo/99x1", *FAST,
        "--headless", "--ca-file", str(ca), "--max-polls", "20", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)  # --json: stdout is the JSON document, nothing else
    assert summary["ok"] is True
    (watch,) = summary["watches"]
    assert watch["polls"] == 3
    assert watch["checkout_url"] == f"{base}/demo/99x1/checkout/questions/"
    cookie_file = tmp_path / watch["cookie_file"]
    assert cookie_file.parent == tmp_path / "live-responses"
    assert stat.S_IMODE(cookie_file.stat().st_mode) == 0o600
    assert f"checkout: {watch['checkout_url']}" in proc.stderr
    assert f"cookies: {watch['cookie_file']}" in proc.stderr
    jar = CookieJar.load(cookie_file)
    session = jar.get("__Host-pretix_session")
    assert session is not None
    assert session in app.state.market.carts
    assert session not in proc.stdout + proc.stderr  # shown shortened only
    assert f"session {session[:6]}…" in proc.stderr
    assert "IN CART" in proc.stderr

    handoff = cli(
        "watch", "handoff", "--cookies", watch["cookie_file"], "--url", watch["checkout_url"],
        "--browser", str(chromium_path), "--headless", "--ca-file", str(ca),
    )  # fmt: skip
    assert handoff.returncode == 0, handoff.stderr
    assert "Step 1 of 4" in handoff.stdout


def test_dry_run_reports_and_never_posts(
    market: tuple[Any, str, Path], cli: Callable[..., CliRun]
) -> None:
    app, base, ca = market
    app.state.market.add_listing("Ticket – Standard", "95")
    proc = cli(
        "watch", "run", "--url", base, "--event", "demo/99x1", *FAST, "--dry-run",
        "--ca-file", str(ca), "--max-polls", "3", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (watch,) = json.loads(proc.stdout)["watches"]
    assert [d["price"] for d in watch["detections"]] == ["95.00"]
    assert "DRY RUN: would buy Ticket – Standard at 95.00 EUR" in proc.stderr
    assert app.state.market.buys == 0


def test_once_polls_the_marketplace_once(
    market: tuple[Any, str, Path], cli: Callable[..., CliRun]
) -> None:
    """``--once``: the event page (to find the marketplace), then exactly one marketplace
    poll; a ticket on offer in that poll goes into the cart."""
    app, base, ca = market
    app.state.market.add_listing("Ticket – Standard", "95")
    proc = cli(
        "watch", "run", "--url", base, "--event", "demo/99x1", "--ca-file", str(ca),
        "--once", "--headless", "--json",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    (watch,) = json.loads(proc.stdout)["watches"]
    assert watch["status"] == "carted"
    assert watch["polls"] == 1
    market_gets = [
        r
        for r in app.state.market.records()
        if r.path.endswith("/secondhand/") and r.method == "GET"
    ]
    assert len(market_gets) == 1


@pytest.mark.parametrize(
    ("setup", "args", "code", "message"),
    [
        (None, ["--event", "demo/nope"], 9, "event 'demo/nope' not found"),
        ("nolink", [], 9, "no secondhand marketplace link"),
        (None, ["--interval", "1"], 2, "below the 2 s floor"),
        (None, ["--type", "(["], 2, "not a valid regular expression"),
    ],
)
def test_bad_input_is_one_line_and_an_exit_code(
    market: tuple[Any, str, Path],
    cli: Callable[..., CliRun],
    setup: str | None,
    args: list[str],
    code: int,
    message: str,
) -> None:
    app, base, ca = market
    if setup == "nolink":
        app.state.market.configure(event_link=False)
    full = ["watch", "run", "--url", base, "--event", "demo/99x1", "--ca-file", str(ca), "--once"]
    proc = cli(*full, *args)
    assert proc.returncode == code, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert message in errors[0]


def test_tls_error_and_unreachable_server(
    market: tuple[Any, str, Path], cli: Callable[..., CliRun]
) -> None:
    _, base, _ = market
    proc = cli("watch", "run", "--url", base, "--event", "demo/99x1", "--once")
    assert proc.returncode == 7
    assert "TLS error" in proc.stderr
    proc = cli("watch", "run", "--url", "http://127.0.0.1:9", "--event", "demo/99x1", "--once")
    assert proc.returncode == 7
    assert "cannot connect" in proc.stderr


def test_interval_below_five_seconds_warns(
    market: tuple[Any, str, Path], cli: Callable[..., CliRun]
) -> None:
    _, base, ca = market
    proc = cli(
        "watch", "run", "--url", base, "--event", "demo/99x1", "--interval", "3",
        "--ca-file", str(ca), "--once",
    )  # fmt: skip
    assert "warning: interval 3 s is below 5 s" in proc.stderr
    assert proc.returncode == 3  # one poll, no ticket
    assert "no ticket in the cart" in proc.stderr


def test_several_watches_from_a_config_file(tmp_path: Path, cli: Callable[..., CliRun]) -> None:
    one, two = create_app(seed=1, event="org/one"), create_app(seed=2, event="org/two")
    one.state.market.add_listing("Standard", "95", after_polls=1)
    two.state.market.add_listing("VIP", "250", after_polls=3)
    two.state.market.add_listing("Standard", "300")  # over this watch's price cap
    with SandboxServer({"one": one, "two": two}) as urls:
        config = tmp_path / "config.toml"
        config.write_text(
            f"""
[watch]
interval = 0.2
i_know_what_i_am_doing = true
headless = true

[[watch.watches]]
url = "{urls["one"]}"
event = "org/one"

[[watch.watches]]
name = "second"
url = "{urls["two"]}"
event = "org/two"
max_price = 260
type = "vip"
"""
        )
        proc = cli("--config", str(config), "watch", "run", "--max-polls", "20", "--json")
    assert proc.returncode == 0, proc.stderr
    watches = json.loads(proc.stdout)["watches"]
    assert [(w["watch"], w["status"]) for w in watches] == [
        ("org/one", "carted"),
        ("second", "carted"),
    ]
    assert watches[1]["listing"]["ticket_type"] == "VIP"


def test_json_output_can_be_piped_into_a_json_parser(tmp_path: Path) -> None:
    """`watch run --json | jq`: stdout is one JSON document; progress lines go to stderr."""
    app = create_app()
    app.state.market.add_listing("Ticket – Standard", "95", after_polls=2)
    with SandboxServer({"m": app}) as urls:
        proc = subprocess.run(
            [sys.executable, "-m", "boxoffice.cli", "watch", "run", "--url", urls["m"],
             "--event", "demo/99x1", *FAST, "--headless", "--max-polls", "20", "--json"],
            capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False,
            env=os.environ | {"COLUMNS": "200"},
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is True
    (watch,) = summary["watches"]
    assert watch["status"] == "carted"
    assert "GET /demo/99x1/secondhand/" in proc.stderr
    assert "IN CART" in proc.stderr
    assert f"checkout: {watch['checkout_url']}" in proc.stderr
    assert f"cookies: {watch['cookie_file']}" in proc.stderr


def test_parse_a_saved_page(tmp_path: Path, cli: Callable[..., CliRun]) -> None:
    state = create_app().state.market
    page = tmp_path / "page.html"
    items = [state.add_listing("Standard", "95"), state.add_listing("VIP", "240")]
    page.write_text(render_marketplace(state, items, "tok" * 10))
    proc = cli("watch", "parse", str(page), "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["state"] == "listings"
    assert [(x["ticket_type"], x["price"], x["currency"]) for x in data["listings"]] == [
        ("Standard", "95.00", "EUR"),
        ("VIP", "240.00", "EUR"),
    ]
    assert set(data["listings"][0]) == {"ticket_type", "price", "currency", "buy_url", "csrf_token"}
    assert data["parser"] == "fast"
    human = cli("watch", "parse", str(page))
    assert "state: listings (parser: fast)" in human.stdout
    assert "- VIP · 240.00 EUR · " in human.stdout
    missing = cli("watch", "parse", str(tmp_path / "nope.html"))
    assert missing.returncode == 9
    assert "does not exist" in missing.stderr


def test_handoff_without_the_cookie_file(cli: Callable[..., CliRun]) -> None:
    proc = cli("watch", "handoff", "--cookies", "missing.txt", "--url", "https://t.example.com/")
    assert proc.returncode == 9
    assert "cookie file missing.txt does not exist" in proc.stderr


def test_missing_browser_is_one_line_with_manual_steps(
    tmp_path: Path, cli: Callable[..., CliRun]
) -> None:
    jar = CookieJar()
    jar.set(CookieRecord("__Host-pretix_session", "s3cr3tsession", "t.example.com", secure=True))
    jar.set(CookieRecord("__QXSESSION", "frontvalue", "t.example.com", secure=True))
    cookies = jar.save(tmp_path / "cookies.txt")
    proc = cli(
        "watch", "handoff", "--cookies", str(cookies), "--url", "https://t.example.com/e/",
        "--browser", str(tmp_path / "no-such-chrome"),
    )  # fmt: skip
    assert proc.returncode == 10
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1
    assert "__Host-pretix_session" in proc.stdout  # what to paste by hand
    assert "__QXSESSION" in proc.stdout


def test_test_handoff_notifies_a_webhook(cli: Callable[..., CliRun]) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with SandboxServer({"hook": receiver}) as urls:
        proc = cli("watch", "test-handoff", "--headless", "--webhook", f"{urls['hook']}/hook")
    assert proc.returncode == 0, proc.stderr
    (message,) = received
    assert "/checkout/" in message["url"]
    assert message["data"]["cookie_file"].startswith("live-responses/cookies_")
    assert "IN CART" in proc.stdout


def test_test_handoff_json_is_the_only_stdout(cli: Callable[..., CliRun]) -> None:
    proc = cli("watch", "test-handoff", "--headless", "--json")
    assert proc.returncode == 0, proc.stderr
    (watch,) = json.loads(proc.stdout)["watches"]
    assert watch["status"] == "carted"
    assert watch["handoff"] == "skipped (headless)"
    assert "IN CART" in proc.stderr
    assert f"checkout: {watch['checkout_url']}" in proc.stderr


def test_ctrl_c_stops_cleanly(market: tuple[Any, str, Path], tmp_path: Path) -> None:
    app, base, ca = market
    proc = subprocess.Popen(
        [sys.executable, "-m", "boxoffice.cli", "watch", "run", "--url", base, "--event",
         "demo/99x1", "--interval", "0.2", "--i-know-what-i-am-doing", "--ca-file", str(ca)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while app.state.market.polls < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "stopped by Ctrl-C" in err
    assert "Traceback" not in err
