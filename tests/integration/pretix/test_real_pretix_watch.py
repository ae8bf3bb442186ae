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
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import async_playwright
from pretix_peer import PretixPeer

from boxoffice.core.browser import chromium_args, handoff, to_playwright_cookies
from boxoffice.core.http import CookieJar

pytestmark = pytest.mark.pretix

POLL_LINE = "GET /{org}/{event}/secondhand/?sort=price_asc "
CLI_TIMEOUT = 120.0


def _polls_seen(peer: PretixPeer) -> int:
    needle = POLL_LINE.format(org=peer.organizer, event=peer.event)
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


def _run_watch_until_listed(
    peer: PretixPeer, out: Path, listing: dict[str, str], *extra: str
) -> tuple[int, str, str, dict[str, Any]]:
    """Start the watch, list a ticket once it has polled twice, wait for it to finish."""
    env = os.environ | {"NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb"}
    stdout_path, stderr_path = out / "stdout.txt", out / "stderr.txt"
    before = _polls_seen(peer)
    with stdout_path.open("w") as stdout, stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            _watch_cmd(peer, out, *extra), stdout=stdout, stderr=stderr, env=env, cwd=out
        )
        try:
            deadline = time.monotonic() + 60
            while _polls_seen(peer) - before < 2:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "the watch did not poll the marketplace twice "
                        f"(exit {proc.poll()}):\n{stderr_path.read_text()}\n"
                        f"{stdout_path.read_text()}"
                    )
                time.sleep(0.1)
            listed = peer.add_listing(listing["item"], listing["price"])
            code = proc.wait(timeout=CLI_TIMEOUT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    text, errors = stdout_path.read_text(), stderr_path.read_text()
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert lines, f"no JSON summary (exit {code}):\n{text}\n{errors}"
    summary = json.loads(lines[-1])
    summary["_listed"] = listed
    return code, text, errors, summary


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
    code, text, errors, summary = _run_watch_until_listed(
        pretix, cli_dir, {"item": "Standard", "price": "45.00"},
        "--browser-headless", "--browser", str(chromium_path),
    )  # fmt: skip
    assert code == 0, f"exit {code}\n{text}\n{errors}"
    assert summary["ok"] is True
    watch = summary["watches"][0]
    assert watch["listing"]["ticket_type"] == "Standard"
    assert watch["listing"]["buy_url"].endswith(summary["_listed"]["buy_path"])
    assert "/checkout/" in watch["checkout_url"]
    assert watch["polls"] >= 3, "the listing appeared only after two empty polls"
    # The job's own handoff launched headless Chromium with the session (self-signed CA).
    assert watch["handoff"] == "launch", f"handoff: {watch['handoff']}\n{text}\n{errors}"

    # Cookie export: CookieJar JSON, 0600, with pretix's HTTPS (__Host-) cookies.
    cookie_file = Path(watch["cookie_file"])
    assert stat.S_IMODE(os.stat(cookie_file).st_mode) == 0o600
    jar = CookieJar.load(cookie_file)
    session = _session_of(jar)
    assert jar.get("__Host-pretix_csrftoken")
    assert session not in errors + text, "session id printed in clear"

    # Server side: exactly this session holds the listed ticket in its cart.
    mine = [p for p in pretix.cart_positions() if p["cart_id"].endswith("@" + session)]
    assert [p["item"] for p in mine] == ["Standard"]
    assert mine[0]["price"] == "45.00"
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
async def test_headless_watch_then_handoff_of_the_saved_cookie_file(
    pretix: PretixPeer, cli_dir: Path, chromium_path: Path
) -> None:
    """--headless (no browser in the run), then the saved cookie file handed to Chromium."""
    code, text, errors, summary = _run_watch_until_listed(
        pretix, cli_dir, {"item": "VIP", "price": "99.00"}, "--headless"
    )
    assert code == 0, f"exit {code}\n{text}\n{errors}"
    watch = summary["watches"][0]
    assert watch["handoff"].startswith("skipped")
    jar = CookieJar.load(Path(watch["cookie_file"]))
    session = _session_of(jar)
    mine = [p for p in pretix.cart_positions() if p["cart_id"].endswith("@" + session)]
    assert [(p["item"], p["price"]) for p in mine] == [("VIP", "99.00")]
    result = await handoff(
        jar.items(),
        watch["checkout_url"],
        executable=chromium_path,
        headless=True,
        keep_open=False,
        ignore_https_errors=True,
        fallback=False,
    )
    assert result.ok, result.detail
    assert result.title is not None
    assert "Step 1 of" in result.title, result.title
