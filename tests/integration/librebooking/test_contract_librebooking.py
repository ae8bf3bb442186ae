"""Contract: the simulator is a double of the real LibreBooking 2.8.6.2.

One short scenario — log in, create, a conflict, list, cancel, cancel again, the API switched
off — runs against both, and the outcomes a user would notice must be the same, so the two
cannot drift apart again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from boxoffice.errors import BoxofficeError
from boxoffice.platforms.booked import BookedClient, Credentials, Slot, make_client
from boxoffice.platforms.booked.models import BookingRequest
from boxoffice.sandbox import booked3 as sim_booked3
from boxoffice.sandbox import librebooking as sim_libre

ZONE = "Europe/Zurich"


@dataclass
class Backend:
    client: Callable[[], BookedClient]
    first: Credentials
    second: Credentials
    resource: int
    set_api: Callable[[bool], None]


def _simulator() -> Backend:
    app = sim_libre.create_app()
    app.world.one_at_a_time = False

    def client() -> BookedClient:
        return make_client(
            "librebooking",
            "http://librebooking.sandbox.test/Web",
            transport=httpx.ASGITransport(app=app),
            timezone=ZONE,
        )

    def set_api(on: bool) -> None:
        app.world.api_enabled = on

    return Backend(
        client,
        Credentials(
            sim_booked3.DEFAULT_USERNAME,
            sim_booked3.DEFAULT_PASSWORD,
            sim_booked3.DEFAULT_TOTP_SECRET,
        ),
        Credentials("other@uni.example", "other-password"),
        231,
        set_api,
    )


def _real(request: pytest.FixtureRequest) -> Backend:
    peer = request.getfixturevalue("librebooking")
    return Backend(
        lambda: make_client("librebooking", peer.base_url, timezone=peer.timezone),
        Credentials("alice", peer.users["alice"]),
        Credentials("bob", peer.users["bob"]),
        peer.room_ids[0],
        peer.set_api,
    )


async def _outcome(step: Callable[[], Any]) -> str:
    """What a step came to, as a user would tell it: "ok", or the error class."""
    try:
        await step()
    except BoxofficeError as exc:
        return type(exc).__name__
    return "ok"


async def scenario(backend: Backend) -> dict[str, Any]:
    today = datetime.now(ZoneInfo(ZONE)).date()
    slot = Slot.local(today + timedelta(days=9), time(10), time(11), ZONE)
    lo, hi = slot.start - timedelta(hours=12), slot.end + timedelta(hours=12)
    me, other = backend.client(), backend.client()
    seen: dict[str, Any] = {}
    try:
        session = await me.login(backend.first)
        await other.login(backend.second)
        seen["login"] = bool(session.session_token)
        made = await me.create(BookingRequest(slot=slot, resource_id=backend.resource))
        seen["create"] = made.outcome.value
        clash = await other.create(BookingRequest(slot=slot, resource_id=backend.resource))
        seen["conflict"] = clash.outcome.value
        mine = await me.list_mine(lo, hi)
        seen["list"] = [
            (r.reference == made.reference, r.resource_id == backend.resource, r.start, r.end)
            for r in mine
        ]
        seen["list_zone"] = {str(r.start.tzinfo) for r in mine}
        ref = made.reference or ""
        seen["cancel_other"] = await _outcome(lambda: other.cancel(ref))
        seen["cancel"] = await _outcome(lambda: me.cancel(ref))
        seen["cancel_again"] = await _outcome(lambda: me.cancel(ref))
        seen["after"] = len(await me.list_mine(lo, hi))
        backend.set_api(False)
        seen["api_off_list"] = await _outcome(lambda: me.list_mine(lo, hi))
        seen["api_off_login"] = await _outcome(lambda: backend.client().login(backend.first))
    finally:
        backend.set_api(True)
        await me.aclose()
        await other.aclose()
    seen["slot"] = (slot.start, slot.end)
    return seen


def expected(slot: tuple[datetime, datetime]) -> dict[str, Any]:
    return {
        "login": True,
        "create": "booked",
        "conflict": "slot_taken",
        "list": [(True, True, slot[0], slot[1])],
        "list_zone": {ZONE},
        "cancel_other": "RefusedError",
        "cancel": "ok",
        "cancel_again": "NotFoundError",
        "after": 0,
        "api_off_list": "ConfigurationError",
        "api_off_login": "ConfigurationError",
        "slot": slot,
    }


@pytest.mark.parametrize(
    "backend_name", ["simulator", pytest.param("real", marks=pytest.mark.librebooking)]
)
async def test_the_same_scenario_has_the_same_outcomes(
    backend_name: str, request: pytest.FixtureRequest
) -> None:
    backend = _simulator() if backend_name == "simulator" else _real(request)
    seen = await scenario(backend)
    assert seen == expected(seen["slot"])
