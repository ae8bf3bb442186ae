"""`boxoffice watch run` against real pretix over HTTPS, then the session in real Chromium.

A listing appears on the (plugin-provided) secondhand marketplace after a few polls; the
watch adds it to the cart, exports the cookies (0600) and hands the session to headless
Chromium, which must show pretix's own checkout with the ticket in the cart.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright
from pretix_peer import PretixPeer

from boxoffice.core.browser import chromium_args, to_playwright_cookies
from boxoffice.core.http import CookieJar

pytestmark = pytest.mark.pretix

POLL_LINE = "GET /{org}/{event}/secondhand/?sort=price_asc "
EVENT_LINE = "GET /{org}/{event}/ "
CLI_TIMEOUT = 120.0


@dataclass
class WatchRun:
    """What one `boxoffice watch run` subprocess did."""

    code: int
    stdout: str
    stderr: str
    summary: dict[str, Any]
    listed: dict[str, Any]

    @property
    def watch(self) -> dict[str, Any]:
        return dict(self.summary["watches"][0])

    def diag(self) -> str:
        return f"exit {self.code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def _seen(peer: PretixPeer, line: str) -> int:
    needle = line.format(org=peer.organizer, event=peer.event)
    try:
        return peer.log_path.read_text(errors="replace").count(needle)
    except OSError:
        return 0


def _watch_cmd(peer: PretixPeer, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "boxoffice", "watch", "run",
        "--url", peer.base_url,
        "--event", peer.event_slug,
        "--interval", "0.5", "--jitter", "0", "--i-know-what-i-am-doing",
        "--max-polls", "60",
        "--ca-file", str(peer.ca_file),
        "--save-responses", str(out / "live-responses"),
        "--json",
        *extra,
    ]  # fmt: skip


def _run_watch(
    peer: PretixPeer,
    out: Path,
    *extra: str,
    wait_for: str = POLL_LINE,
    then: Callable[[], dict[str, Any]],
) -> WatchRun:
    """Start the watch; once the server logged ``wait_for`` twice, call ``then``; wait for exit."""
    env = os.environ | {"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
    stdout_path, stderr_path = out / "stdout.txt", out / "stderr.txt"
    before = _seen(peer, wait_for)
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            _watch_cmd(peer, out, *extra), stdout=stdout, stderr=stderr, env=env, cwd=out
        )
        try:
            deadline = time.monotonic() + 60
            while _seen(peer, wait_for) - before < 2:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"the watch did not send {wait_for.strip()!r} twice "
                        f"(exit {proc.poll()}):\n{stderr_path.read_text()}\n"
                        f"{stdout_path.read_text()}"
                    )
                time.sleep(0.1)
            listed = then()
            code = proc.wait(timeout=CLI_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text, errors = stdout_path.read_text(), stderr_path.read_text()
    try:
        summary = json.loads(text)  # --json: stdout is the JSON document and nothing else
    except ValueError:
        pytest.fail(f"stdout is not one JSON document (exit {code}):\n{text}\n{errors}")
    return WatchRun(code, text, errors, summary, listed)


def _cart_of(peer: PretixPeer, session: str) -> list[tuple[str, str]]:
    """(item, price) of every cart position the server holds for ``session``."""
    return [
        (p["item"], p["price"])
        for p in peer.cart_positions()
        if p["cart_id"].endswith("@" + session)
    ]


def _session_of(jar: CookieJar) -> str:
    session = jar.get("__Host-pretix_session")
    assert session, f"no __Host-pretix_session in {[c.name for c in jar.items()]}"
    return session


Seen = tuple[str, str, list[str]]


async def _open_checkout(chromium: Path, jars: list[CookieJar], url: str) -> list[Seen]:
    """Real headless Chromium, one fresh context per jar: (title, final URL, cart rows) each."""
    seen: list[Seen] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(chromium), headless=True, args=chromium_args(True)
        )
        try:
            for jar in jars:
                context = await browser.new_context(ignore_https_errors=True)
                await context.add_cookies(to_playwright_cookies(jar.items()))
                page = await context.new_page()
                await page.goto(url, wait_until="domcontentloaded", timeout=30_000)
                rows = await page.locator(".cart-row").all_inner_texts()
                seen.append((await page.title(), page.url, [" ".join(r.split()) for r in rows]))
                await context.close()
        finally:
            await browser.close()
    return seen


@pytest.mark.chromium
async def test_watch_carts_a_new_listing_and_chromium_shows_the_checkout(
    pretix: PretixPeer, cli_dir: Path, chromium_path: Path
) -> None:
    run = _run_watch(
        pretix, cli_dir, "--browser-headless", "--browser", str(chromium_path),
        then=lambda: pretix.add_listing("Standard", "45.00"),
    )  # fmt: skip
    assert run.code == 0, run.diag()
    assert run.summary["ok"] is True, run.diag()
    watch = run.watch
    assert watch["listing"]["ticket_type"] == "Standard"
    assert watch["listing"]["buy_url"].endswith(run.listed["buy_path"])
    assert "/checkout/" in watch["checkout_url"]
    assert watch["polls"] >= 3, "the listing appeared only after two empty polls"
    # The job's own handoff launched headless Chromium with the session (self-signed CA).
    assert watch["handoff"] == "launch", run.diag()

    # Cookie export: CookieJar JSON, 0600, with pretix's HTTPS (__Host-) cookies.
    cookie_file = Path(watch["cookie_file"])
    assert stat.S_IMODE(os.stat(cookie_file).st_mode) == 0o600
    jar = CookieJar.load(cookie_file)
    session = _session_of(jar)
    assert jar.get("__Host-pretix_csrftoken")
    assert session not in run.stdout + run.stderr, "session id printed in clear"

    # Server side: exactly this session holds the listed ticket in its cart.
    assert _cart_of(pretix, session) == [("Standard", "45.00")]
    assert pretix.listings()[-1]["state"] == "sold"

    # A fresh headless Chromium given only the exported cookie file sees the checkout; the
    # same URL without those cookies is an empty cart, which pretix sends back to the shop.
    with_cookies, without = await _open_checkout(
        chromium_path, [jar, CookieJar()], watch["checkout_url"]
    )
    title, final_url, rows = with_cookies
    assert "Step 1 of" in title, title
    assert "/checkout/" in final_url
    assert any("Standard" in row and "45.00" in row for row in rows), rows
    assert "/checkout/" not in without[1]
    assert without[2] == []


@pytest.mark.chromium
def test_headless_watch_then_handoff_of_the_saved_cookie_file(
    pretix: PretixPeer, cli_dir: Path, chromium_path: Path
) -> None:
    """--headless (no browser in the run), then `watch handoff` with the saved cookie file."""
    run = _run_watch(pretix, cli_dir, "--headless", then=lambda: pretix.add_listing("VIP", "99.00"))
    assert run.code == 0, run.diag()
    watch = run.watch
    assert watch["handoff"].startswith("skipped"), run.diag()
    jar = CookieJar.load(Path(watch["cookie_file"]))
    assert _cart_of(pretix, _session_of(jar)) == [("VIP", "99.00")]

    # `boxoffice watch handoff --headless` reopens the saved session in real Chromium.
    reopened = subprocess.run(
        [
            sys.executable, "-m", "boxoffice", "watch", "handoff",
            "--cookies", watch["cookie_file"], "--url", watch["checkout_url"],
            "--headless", "--browser", str(chromium_path), "--ca-file", str(pretix.ca_file),
        ],
        capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False,
        env=os.environ | {"NO_COLOR": "1", "COLUMNS": "300"},
    )  # fmt: skip
    assert reopened.returncode == 0, reopened.stdout + reopened.stderr
    assert "Step 1 of" in reopened.stdout, reopened.stdout
    assert "(launch)" in reopened.stdout


def test_watch_waits_for_a_switched_off_marketplace(pretix: PretixPeer, cli_dir: Path) -> None:
    """--poll-inactive-marketplace: no marketplace link yet → keep checking the event page;
    once the marketplace is switched on and a ticket listed, cart it."""
    pretix.set_marketplace(False)

    def open_marketplace() -> dict[str, Any]:
        pretix.set_marketplace(True)
        return pretix.add_listing("Standard", "45.00")

    run = _run_watch(
        pretix, cli_dir, "--headless", "--poll-inactive-marketplace", "0.5",
        wait_for=EVENT_LINE, then=open_marketplace,
    )  # fmt: skip
    assert run.code == 0, run.diag()
    watch = run.watch
    assert run.summary["ok"] is True, run.diag()
    assert watch["status"] == "carted", run.diag()
    assert watch["requests"] >= 3, "two event-page checks before the marketplace existed"
    jar = CookieJar.load(Path(watch["cookie_file"]))
    assert _cart_of(pretix, _session_of(jar)) == [("Standard", "45.00")]
