"""Both dialect clients against their simulators: login (TOTP), availability, create, cancel."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.unit.platforms.booked.booked_testkit import (
    CREDS,
    SLOT,
    ZURICH,
    client_for,
    close_window,
    make_app,
    occupy,
    stored_starts,
)

from boxoffice.errors import AuthenticationError, ConfigurationError
from boxoffice.platforms.booked import BookingRequest, Credentials, Outcome
from boxoffice.platforms.booked.booked3 import SessionExpiredError

DIALECTS = ["booked3", "librebooking"]


def request(resource: int) -> BookingRequest:
    return BookingRequest(SLOT, resource, owner_id="42", timezone=ZURICH)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_login_then_book_lands_at_the_right_utc_instant(dialect: str) -> None:
    app = make_app(dialect)
    client = client_for(app, dialect)
    session = await client.login(CREDS)
    assert session.user_id == "42"
    assert await client.validate()
    result = await client.create(request(240))
    assert result.outcome is Outcome.BOOKED
    assert result.reference
    # 09:00 Europe/Zurich in December is 08:00 UTC — not 09:00 UTC (the seed's 1–2 h bug).
    assert stored_starts(app) == [datetime(2026, 12, 1, 8, tzinfo=UTC)]
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize(
    ("language", "fragment"),
    [("de_de", "nur eine Reservierung"), ("en_us", "one reservation at a time")],
)
async def test_second_booking_same_time_is_one_at_a_time(
    dialect: str, language: str, fragment: str
) -> None:
    app = make_app(dialect)
    client = client_for(app, dialect, language=language)
    await client.login(CREDS)
    assert (await client.create(request(240))).outcome is Outcome.BOOKED
    second = await client.create(request(241))
    assert second.outcome is Outcome.ONE_AT_A_TIME
    assert fragment in second.message
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_taken_resource_is_slot_taken(dialect: str) -> None:
    app = make_app(dialect)
    occupy(app, 240)
    client = client_for(app, dialect, language="de_de")
    await client.login(CREDS)
    result = await client.create(request(240))
    assert result.outcome is Outcome.SLOT_TAKEN
    assert "Konflikt" in result.message
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_window_not_open_yet(dialect: str) -> None:
    app = make_app(dialect)
    close_window(app)
    client = client_for(app, dialect, language="de_de")
    await client.login(CREDS)
    result = await client.create(request(240))
    assert result.outcome is Outcome.WINDOW_NOT_OPEN
    assert "zu weit in der Zukunft" in result.message
    assert app.world.reservations == []
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_expired_session_is_reported_as_such(dialect: str) -> None:
    app = make_app(dialect)
    client = client_for(app, dialect)
    await client.login(CREDS)
    app.world.expire_sessions()
    assert not await client.validate()
    result = await client.create(request(240))
    assert result.outcome is Outcome.SESSION_EXPIRED
    with pytest.raises(SessionExpiredError):
        await client.availability(SLOT.start, SLOT.end, 1)
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_availability_list_mine_and_cancel(dialect: str) -> None:
    app = make_app(dialect)
    occupy(app, 233)
    client = client_for(app, dialect)
    await client.login(CREDS)
    mine = await client.create(request(240))
    assert mine.reference
    found = await client.availability(SLOT.start, SLOT.end, 1)
    assert sorted(r.resource_id for r in found) == [233, 240]
    assert all(r.start == SLOT.start for r in found)
    listed = await client.list_mine(SLOT.start, SLOT.end)
    assert [r.reference for r in listed] == [mine.reference]
    await client.cancel(mine.reference)
    assert [r.resource_id for r in app.world.reservations] == [233]
    await client.aclose()


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_wrong_password_is_a_clear_error(dialect: str) -> None:
    client = client_for(make_app(dialect), dialect)
    with pytest.raises(AuthenticationError, match="username or password refused"):
        await client.login(Credentials(CREDS.username, "wrong", CREDS.totp_secret))
    await client.aclose()


async def test_booked3_wrong_totp_secret_is_refused() -> None:
    client = client_for(make_app("booked3"), "booked3")
    with pytest.raises(AuthenticationError, match="2FA passcode was refused"):
        await client.login(
            Credentials(CREDS.username, CREDS.password, "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU")
        )
    await client.aclose()


async def test_booked3_missing_totp_secret_when_asked() -> None:
    client = client_for(make_app("booked3"), "booked3")
    with pytest.raises(AuthenticationError, match="no TOTP secret is configured"):
        await client.login(Credentials(CREDS.username, CREDS.password, None))
    await client.aclose()


async def test_booked3_malformed_totp_secret() -> None:
    client = client_for(make_app("booked3"), "booked3")
    with pytest.raises(ConfigurationError, match="TOTP secret is not usable"):
        await client.login(Credentials(CREDS.username, CREDS.password, "not-base32!!"))
    await client.aclose()


async def test_booked3_user_without_2fa_logs_in_with_password_only() -> None:
    app = make_app("booked3")
    client = client_for(app, "booked3")
    session = await client.login(Credentials("other@uni.example", "other-password", None))
    assert session.user_id == "7"
    await client.aclose()


async def test_librebooking_api_disabled_asks_for_the_admin() -> None:
    app = make_app("librebooking")
    app.world.api_enabled = False
    client = client_for(app, "librebooking")
    with pytest.raises(ConfigurationError) as info:
        await client.login(CREDS)
    assert info.value.message == "the server's API is disabled"
    assert info.value.hint is not None
    assert "ask the admin to set api.enabled" in info.value.hint
    await client.aclose()


async def test_librebooking_rejects_an_incomplete_request_like_the_real_server() -> None:
    from boxoffice.platforms.booked.librebooking import interpret_create

    app = make_app("librebooking")
    client = client_for(app, "librebooking")
    session = await client.login(CREDS)
    headers = {
        "X-Booked-SessionToken": session.session_token or "",
        "X-Booked-UserId": "42",
    }
    response = await client.http.post(
        client.url("Services/index.php/Reservations/"),
        json={"resourceId": 240, "startDateTime": "2026-12-01T08:00:00+0000"},
        headers=headers,
    )
    assert response.status_code == 500
    result = interpret_create(response)
    assert result.outcome is Outcome.ERROR
    assert "500" in result.message
    await client.aclose()


async def test_restored_session_is_reused_without_login() -> None:
    app = make_app("booked3")
    first = client_for(app, "booked3")
    session = await first.login(CREDS)
    await first.aclose()
    second = client_for(app, "booked3")
    second.restore(session)
    assert await second.validate()
    assert (await second.create(request(240))).outcome is Outcome.BOOKED
    await second.aclose()
