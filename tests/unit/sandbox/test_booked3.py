"""The booked3 simulator itself: TOTP, CSRF, language, clock skew, PHP mode, request log."""

from __future__ import annotations

import asyncio
import email.utils
import time

import httpx
import pyotp

from boxoffice.sandbox import booked3 as sim
from boxoffice.sandbox import registry
from boxoffice.sandbox.server import SandboxServer

BASE = "http://sim.test"


def client(app: sim.Booked3App, **kw: object) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE, **kw)  # type: ignore[arg-type]


async def login(http: httpx.AsyncClient, code: str | None = None) -> httpx.Response:
    page = await http.get("/Web/index.php")
    csrf = sim_csrf(page.text)
    await http.post(
        "/Web/index.php",
        data={
            "email": sim.DEFAULT_USERNAME,
            "password": sim.DEFAULT_PASSWORD,
            "CSRF_TOKEN": csrf,
            "login": "submit",
        },
    )
    otp = code or pyotp.TOTP(sim.DEFAULT_TOTP_SECRET).now()
    return await http.post("/Web/auth/validate-2fa.php", data={"CSRF_TOKEN": csrf, "OTP": otp})


def sim_csrf(page: str) -> str:
    from boxoffice.platforms.booked.booked3_pages import csrf_token

    token = csrf_token(page)
    assert token
    return token


async def test_registry_knows_the_simulator() -> None:
    assert isinstance(registry.create("booked3"), sim.Booked3App)


async def test_real_totp_is_required() -> None:
    app = sim.create_app()
    async with client(app) as http:
        stale = pyotp.TOTP(sim.DEFAULT_TOTP_SECRET).at(time.time() - 300)
        refused = await login(http, stale)
        assert refused.status_code == 200
        assert "Invalid passcode" in refused.text
        assert "login_token" not in http.cookies
    async with client(app) as http:
        ok = await login(http)
        assert ok.status_code == 302
        assert "login_token" in http.cookies


async def test_create_needs_the_csrf_header() -> None:
    app = sim.create_app()
    async with client(app) as http:
        await login(http)
        page = await http.get("/Web/schedule.php")
        csrf = sim_csrf(page.text)
        body = (
            '{"reservation": {"start": "2026-12-01T08:00:00.000Z", '
            '"end": "2026-12-01T11:00:00.000Z", "resourceIds": [240], "ownerId": 42}}'
        )
        files = {"request": (None, body), "CSRF_TOKEN": (None, csrf)}
        forged = await http.post(
            "/Web/api/reservation.php?action=create",
            files=files,
            headers={"X-Csrf-Token": "forged"},
        )
        assert forged.status_code == 403
        assert app.world.reservations == []
        good = await http.post(
            "/Web/api/reservation.php?action=create", files=files, headers={"X-Csrf-Token": csrf}
        )
        assert good.json()["data"]["success"] is True
        assert len(app.world.reservations) == 1


async def test_language_cookie_wins_over_accept_language() -> None:
    app = sim.create_app()
    async with client(app, headers={"Accept-Language": "en-US"}) as http:
        http.cookies.set("language", "de_de")
        page = await http.get("/Web/index.php")
        answer = await http.post(
            "/Web/index.php",
            data={"email": "x", "password": "y", "CSRF_TOKEN": sim_csrf(page.text)},
        )
        assert "Ungültiger Benutzername" in answer.text
    async with client(app, headers={"Accept-Language": "de-CH,de;q=0.9"}) as http:
        page = await http.get("/Web/index.php")
        answer = await http.post("/Web/index.php", data={"email": "x", "password": "y"})
        assert "Ungültiger Benutzername" in answer.text


async def test_date_header_follows_the_skewed_clock() -> None:
    app = sim.create_app()
    app.world.clock_offset = 3600.0
    async with client(app) as http:
        answer = await http.head("/Web/index.php")
    served = email.utils.parsedate_to_datetime(answer.headers["date"]).timestamp()
    assert abs(served - (time.time() + 3600)) < 5


async def test_php_mode_serializes_one_sessions_requests() -> None:
    app = sim.create_app()
    app.world.latency = 0.02
    async with client(app) as http:
        await http.get("/Web/index.php")  # gets a PHPSESSID
        app.world.php_mode = True
        await asyncio.gather(*(http.get("/Web/index.php") for _ in range(4)))
        assert app.world.peak_in_flight == 1
        app.world.php_mode = False
        await asyncio.gather(*(http.get("/Web/index.php") for _ in range(4)))
        assert app.world.peak_in_flight == 4


async def test_control_surface() -> None:
    app = sim.create_app()
    async with client(app) as http:
        assert (await http.post("/_sandbox/config", json={"bogus": 1})).status_code == 400
        config = (
            await http.post("/_sandbox/config", json={"latency": 0.0, "no_lock": True})
        ).json()
        assert config["no_lock"] is True
        added = await http.post(
            "/_sandbox/reservations",
            json={"resource_id": 240, "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T11:00Z"},
        )
        assert added.status_code == 201
        state = (await http.get("/_sandbox/state")).json()
        assert [r["resource_id"] for r in state["reservations"]] == [240]
        await http.get("/Web/index.php")
        assert [e["path"] for e in (await http.get("/_sandbox/log")).json()] == ["/Web/index.php"]
        await http.post("/_sandbox/reset")
        assert (await http.get("/_sandbox/state")).json()["reservations"] == []


def test_request_log_counts_new_tcp_connections() -> None:
    app = sim.create_app()
    with SandboxServer({"b": app}, include_date_header=False) as urls:

        async def main() -> None:
            async with httpx.AsyncClient(base_url=urls["b"]) as http:
                for _ in range(3):
                    await http.head("/Web/index.php")
            async with httpx.AsyncClient(base_url=urls["b"]) as http:
                await http.head("/Web/index.php")

        asyncio.run(main())
    assert [e.new_connection for e in app.world.log] == [True, False, False, True]


def test_served_with_defaults_it_sends_one_skewed_date_header() -> None:
    app = sim.create_app()
    app.world.clock_offset = -7200.0
    with SandboxServer({"b": app}) as urls:  # the default server adds no Date of its own
        answer = httpx.head(urls["b"] + "/Web/index.php")
    dates = answer.headers.get_list("date")
    assert len(dates) == 1
    served = email.utils.parsedate_to_datetime(dates[0]).timestamp()
    assert abs(served - (time.time() - 7200)) < 5
