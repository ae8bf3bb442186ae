"""The LibreBooking simulator: auth shapes, the API switched off, strict create, 401s, and the
real 2.8.6.2's answers to deletes, listings and approval (observed on the real server)."""

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


async def test_api_disabled_is_200_html_everywhere_like_the_real_server() -> None:
    app = sim.create_app()
    app.world.api_enabled = False
    async with client(app) as http:
        for answer in (
            await http.get(f"{API}/"),
            await http.post(f"{API}/Authentication/Authenticate", json={}),
            await http.delete(f"{API}/Reservations/abc"),
        ):
            assert answer.status_code == 200
            assert answer.headers["content-type"].startswith("text/html")
            assert "configured as disabled" in answer.text


def _body(resource: int, user_id: str, day: str = "2030-01-07") -> dict[str, object]:
    body: dict[str, object] = {name: [] for name in sim.REQUIRED_FIELDS}
    body.update(
        resourceId=resource,
        userId=int(user_id),
        startDateTime=f"{day}T09:00:00+0000",
        endDateTime=f"{day}T10:00:00+0000",
        title="",
        description="",
        recurrenceRule={"type": "none"},
        startReminder=None,
        endReminder=None,
        allowParticipation=False,
        termsAccepted=True,
    )
    return body


async def test_delete_list_and_approval_answer_as_the_real_server() -> None:
    app = sim.create_app()
    app.world.one_at_a_time = False
    app.world.approval_resources = [232]
    async with client(app) as http:
        data = await auth(http)
        h = {"X-Booked-SessionToken": data["sessionToken"], "X-Booked-UserId": str(data["userId"])}
        made = await http.post(
            f"{API}/Reservations/", json=_body(231, str(data["userId"])), headers=h
        )
        ref = made.json()["referenceNumber"]
        assert made.json()["isPendingApproval"] is False
        held = await http.post(
            f"{API}/Reservations/", json=_body(232, str(data["userId"])), headers=h
        )
        assert held.status_code == 201
        assert held.json()["isPendingApproval"] is True
        listed = await http.get(f"{API}/Reservations/", headers=h)
        rows = {r["resourceId"]: r for r in listed.json()["reservations"]}
        assert rows[231]["startDate"] == "2030-01-07T09:00:00+0000"  # UTC, whatever the zone
        assert rows[232]["requiresApproval"] is True
        other = app.world.add_reservation(233, *[shared.parse_iso("2030-01-08T09:00:00Z")] * 2, "7")
        refused = await http.delete(f"{API}/Reservations/{other.reference}", headers=h)
        assert refused.status_code == 400
        assert refused.json()["errors"] == ["You are not allowed to change this reservation."]
        gone = await http.delete(f"{API}/Reservations/{ref}", headers=h)
        assert gone.json() == {"message": "The item was deleted"}
        again = await http.delete(f"{API}/Reservations/{ref}", headers=h)
        assert (again.status_code, again.content) == (200, b"")


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
