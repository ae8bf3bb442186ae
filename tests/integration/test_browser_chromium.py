"""Real headless Chromium receives a session's cookies (``__Host-`` included) over HTTPS."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from boxoffice.core.browser import handoff, playwright_driver
from boxoffice.core.http import CookieJar, CookieRecord, HttpOptions, create_client
from boxoffice.sandbox.server import SandboxServer

pytestmark = pytest.mark.chromium

RECEIVED: list[dict[str, str]] = []


async def login(request: Request) -> Response:
    """Sets cookies the way pretix does over HTTPS."""
    response = HTMLResponse("<title>logged in</title>")
    response.headers.append(
        "set-cookie", "__Host-pretix_session=S3ss10n-abc; Path=/; Secure; HttpOnly; SameSite=Lax"
    )
    response.headers.append(
        "set-cookie", "__Host-pretix_csrftoken=Csrf-xyz-987; Path=/; Secure; SameSite=Lax"
    )
    response.headers.append("set-cookie", "__QXSESSION=front-42; Path=/; HttpOnly")
    return response


async def checkout(request: Request) -> Response:
    RECEIVED.append(dict(request.cookies))
    return HTMLResponse(
        "<!doctype html><html><head><title>Step 1 of 4 - checkout</title></head>"
        "<body><ol class='checkout-flow'></ol></body></html>"
    )


APP = Starlette(
    routes=[
        Route("/login", login),
        Route("/org/ev/checkout/start", checkout),
        Route("/favicon.ico", lambda request: Response(status_code=404)),
    ]
)

EXPECTED = {
    "__Host-pretix_session": "S3ss10n-abc",
    "__Host-pretix_csrftoken": "Csrf-xyz-987",
    "__QXSESSION": "front-42",
}


@pytest.fixture(scope="module")
def shop() -> Iterator[SandboxServer]:
    server = SandboxServer({"shop": APP}, tls=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _clear_received() -> None:
    RECEIVED.clear()


@pytest.fixture(autouse=True)
def _leaves_nothing_in_tmp(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test runs with a temp dir of its own; nothing may be left in it afterwards (a killed
    Chromium's singleton socket dir, Playwright's artifacts dirs, a browser profile). A short
    path: Chromium's singleton socket must fit a Unix socket address."""
    tmp = Path(tempfile.mkdtemp(prefix="bxt-", dir="/tmp"))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    yield
    for _ in range(100):  # a kept-open browser's profile goes shortly after the browser
        left = sorted(p.name for p in tmp.iterdir())
        if not left:
            break
        time.sleep(0.05)
    shutil.rmtree(tmp, ignore_errors=True)
    assert left == [], f"left behind in TMPDIR: {left}"


async def session_jar(shop: SandboxServer) -> CookieJar:
    """A cookie jar filled by a real HTTPS response, as the watch job's client would have it."""
    assert shop.ca_file is not None
    jar = CookieJar()
    options = HttpOptions(verify=str(shop.ca_file))
    async with create_client(options=options, cookies=jar) as client:
        response = await client.get(shop.urls["shop"] + "/login")
    assert response.http_version == "HTTP/2"
    assert {r.name for r in jar.items()} == set(EXPECTED)
    return jar


def checkout_url(shop: SandboxServer) -> str:
    return shop.urls["shop"] + "/org/ev/checkout/start"


async def test_launched_chromium_receives_every_cookie(
    shop: SandboxServer, chromium_path: Path
) -> None:
    jar = await session_jar(shop)
    result = await handoff(
        jar,
        checkout_url(shop),
        executable=chromium_path,
        headless=True,
        keep_open=False,
        ignore_https_errors=True,
        fallback=False,
    )
    assert result.ok, result.detail
    assert result.method == "launch"
    assert result.title == "Step 1 of 4 - checkout"
    assert result.cookies_added == 3
    assert RECEIVED == [EXPECTED]


async def test_kept_open_browser_outlives_the_handoff(
    shop: SandboxServer, chromium_path: Path
) -> None:
    jar = await session_jar(shop)
    url = checkout_url(shop)
    result = await handoff(
        jar,
        url,
        executable=chromium_path,
        headless=True,
        keep_open=True,
        ignore_https_errors=True,
        fallback=False,
    )
    assert result.pid is not None
    try:
        assert result.ok, result.detail
        assert result.method == "launch"
        assert RECEIVED == [EXPECTED]
        assert result.cdp_url is not None
        # the handoff is over; the browser still shows the checkout page with the session
        async with playwright_driver() as pw:
            browser = await pw.chromium.connect_over_cdp(result.cdp_url)
            pages = [p for c in browser.contexts for p in c.pages]
            assert url in [p.url for p in pages]
            names = {c["name"] for c in await browser.contexts[0].cookies(url)}
            assert names == set(EXPECTED)
    finally:
        os.killpg(result.pid, signal.SIGTERM)
        for _ in range(100):  # wait for the browser to let go of its profile
            try:
                os.kill(result.pid, 0)
            except ProcessLookupError:
                break
            await asyncio.sleep(0.05)
        profile = result.profile_dir
        assert profile is not None
        for _ in range(200):  # the profile (it holds the session) goes with the browser
            if not profile.exists():
                break
            await asyncio.sleep(0.05)
        leftover = profile.exists()
        shutil.rmtree(profile, ignore_errors=True)
        assert not leftover, "the browser's profile outlived it"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def running_chromium(chromium_path: Path, tmp_path: Path) -> Iterator[str]:
    """A Chromium the user started themselves with a DevTools port (here: headless)."""
    port = free_port()
    # the user's browser: its temp files are its own (removed below, once it is gone)
    own_tmp = tempfile.mkdtemp(prefix="bxu-", dir="/tmp")
    proc = subprocess.Popen(
        [
            str(chromium_path),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--ignore-certificate-errors",
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--remote-debugging-port={port}",
            "about:blank",
        ],
        env={**os.environ, "TMPDIR": own_tmp},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"chromium did not open its DevTools port (rc={proc.poll()})")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(10)
        shutil.rmtree(own_tmp, ignore_errors=True)


async def test_attach_over_cdp_to_a_running_browser(
    shop: SandboxServer, running_chromium: str
) -> None:
    jar = await session_jar(shop)
    result = await handoff(jar, checkout_url(shop), cdp_url=running_chromium, fallback=False)
    assert result.ok, result.detail
    assert result.method == "cdp"
    assert result.title == "Step 1 of 4 - checkout"
    assert RECEIVED == [EXPECTED]
    # the user's browser is still there after we detached
    async with playwright_driver() as pw:
        browser = await pw.chromium.connect_over_cdp(running_chromium)
        assert browser.is_connected()
        cookies = await browser.contexts[0].cookies(checkout_url(shop))
    host_cookie = next(c for c in cookies if c["name"] == "__Host-pretix_session")
    assert (host_cookie["domain"], host_cookie["path"]) == ("127.0.0.1", "/")
    assert host_cookie["secure"]
    assert host_cookie["httpOnly"]


async def test_unreachable_cdp_falls_back_to_manual_steps(shop: SandboxServer) -> None:
    records = [CookieRecord("__Host-pretix_session", "S3ss10n-abc", "127.0.0.1", secure=True)]
    result = await asyncio.wait_for(
        handoff(records, checkout_url(shop), cdp_url=f"127.0.0.1:{free_port()}", timeout=5),
        30,
    )
    assert not result.ok
    assert result.method == "manual"
    assert "cannot attach" in result.detail
    assert "__Host-pretix_session = S3ss10n-abc" in result.detail
