"""The bring-up itself: the real server answers its API with the users and rooms we made."""

from __future__ import annotations

import httpx
import pytest
from librebooking_peer import LibreBookingPeer

pytestmark = pytest.mark.librebooking


def test_server_is_up_with_users_and_32_rooms(librebooking: LibreBookingPeer) -> None:
    response = httpx.post(
        f"{librebooking.api_url}/Authentication/Authenticate",
        json={"username": "alice", "password": librebooking.users["alice"]},
    )
    assert response.json()["isAuthenticated"] is True
    assert len(librebooking.room_ids) == 32
    assert "Approval Room" in librebooking.resources
