"""The LibreBooking simulator: auth shapes, 503 when the API is off, strict create, 401s."""

from __future__ import annotations

import httpx
import pyotp

from boxoffice.sandbox import booked3 as shared
from boxoffice.sandbox import librebooking as sim
from boxoffice.sandbox import registry

API = "/Web/Services/index.php"


def client(app: sim.LibreBookingApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sim.test")


async def auth(http: httpx.AsyncClient, password: str = shared.DEFAULT_PASSWORD) -> dict[str, str]:
    answer = await http.post(
        f"{API}/Authentication/Authenticate",
        json={
            "username": shared.DEFAULT_USERNAME,
            "password": password,
            "otp": pyotp.TOTP(shared.DEFAULT_TOTP_SECRET).now(),
        },
    )
    assert answer.status_code == 200
    return dict(answer.json())


async def test_registry_knows_the_simulator() -> None:
    assert isinstance(registry.create("librebooking"), sim.LibreBookingApp)


async def test_bad_password_is_200_with_is_authenticated_false() -> None:
    async with client(sim.create_app()) as http:
        data = await auth(http, password="nope")
    assert data["isAuthenticated"] is False
    assert data["sessionToken"] is None


async def test_api_disabled_is_503_everywhere() -> None:
    app = sim.create_app()
    app.world.api_enabled = False
    async with client(app) as http:
        assert (await http.get(f"{API}/")).status_code == 503
        answer = await http.post(f"{API}/Authentication/Authenticate", json={})
        assert answer.status_code == 503


async def test_create_needs_every_field_and_a_valid_token() -> None:
    app = sim.create_app()
    async with client(app) as http:
        data = await auth(http)
        headers = {
            "X-Booked-SessionToken": str(data["sessionToken"]),
            "X-Booked-UserId": str(data["userId"]),
        }
        partial = await http.post(f"{API}/Reservations/", json={"resourceId": 1}, headers=headers)
        assert partial.status_code == 500
        assert partial.headers["content-type"].startswith("text/html")
        wrong = await http.get(
            f"{API}/Reservations/", headers={**headers, "X-Booked-SessionToken": "bad"}
        )
        assert wrong.status_code == 401
        listed = await http.get(f"{API}/Reservations/", headers=headers)
        assert listed.json() == {"reservations": []}
