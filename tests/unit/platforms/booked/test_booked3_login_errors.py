"""booked3 login: a 16-character (80-bit) TOTP secret logs in against the simulator (which
verifies the code); a URL that is not a Booked login page says so, with what was found there;
a wrong password and a wrong TOTP are named as such."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from tests.unit.platforms.booked.booked_testkit import BASE, CREDS, ZURICH, client_for

from boxoffice.errors import (
    AuthenticationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
)
from boxoffice.platforms.booked import Credentials, make_client
from boxoffice.sandbox import booked3 as sim
from boxoffice.sandbox import librebooking as sim_libre

SHORT_SECRET = "JBSWY3DPEHPK3PXP"  # 16 base32 characters = 80 bits, the README's example kind


async def test_a_16_character_totp_secret_logs_in() -> None:
    app = sim.create_app()
    app.world.users["short@uni.example"] = sim.User(
        "short@uni.example", "pw-short", "77", SHORT_SECRET
    )
    client = client_for(app, "booked3")
    session = await client.login(Credentials("short@uni.example", "pw-short", SHORT_SECRET))
    assert session.csrf_token
    await client.aclose()


async def test_a_wrong_16_character_secret_is_named_as_the_totp() -> None:
    app = sim.create_app()
    app.world.users["short@uni.example"] = sim.User(
        "short@uni.example", "pw-short", "77", SHORT_SECRET
    )
    client = client_for(app, "booked3")
    with pytest.raises(AuthenticationError, match="2FA passcode was refused"):
        await client.login(Credentials("short@uni.example", "pw-short", "KRSXG5CTMVRXEZLU"))
    await client.aclose()


async def test_a_wrong_password_is_still_username_or_password_refused() -> None:
    client = client_for(sim.create_app(), "booked3")
    with pytest.raises(AuthenticationError, match="username or password refused"):
        await client.login(Credentials(CREDS.username, "wrong", CREDS.totp_secret))
    await client.aclose()


def _page_app(status: int, body: str, media: str = "text/html") -> Starlette:
    async def any_page(request: Request) -> Response:
        if media == "application/json":
            return JSONResponse({"detail": "nope"}, status_code=status)
        if media == "text/plain":
            return PlainTextResponse(body, status_code=status)
        return HTMLResponse(body, status_code=status)

    return Starlette(routes=[Route("/{path:path}", any_page, methods=["GET", "POST"])])


PRETIX = (
    "<html><head><title>Demo Festival :: pretix</title></head><body>"
    '<form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="x"></form>'
    "pretix</body></html>"
)


@pytest.mark.parametrize(
    ("app", "error", "found"),
    [
        (
            _page_app(500, "<html><title>Internal Server Error</title></html>"),
            NetworkError,
            "HTTP 500 with a text/html page titled 'Internal Server Error'",
        ),
        (_page_app(404, "<html><title>Not Found</title></html>"), NotFoundError, "HTTP 404"),
        (
            _page_app(200, "<html><title>Welcome to nginx!</title><p>hello</p></html>"),
            ProtocolError,
            "titled 'Welcome to nginx!' without a login form",
        ),
        (_page_app(200, PRETIX), ProtocolError, "a pretix page"),
        (_page_app(200, "", "application/json"), ProtocolError, "a JSON answer"),
        (
            _page_app(200, "LibreBooking API has been configured as disabled.<br/><br/>Set $conf"),
            ProtocolError,
            "the LibreBooking API (use --dialect librebooking)",
        ),
    ],
)
async def test_a_url_that_is_not_booked_says_so(
    app: Starlette, error: type[Exception], found: str
) -> None:
    client = client_for(app, "booked3")
    with pytest.raises(error) as info:
        await client.login(CREDS)
    line = str(info.value)
    assert "not a Booked login page — check --url" in line
    assert found in line
    assert "password refused" not in line
    await client.aclose()


async def test_a_librebooking_url_is_named_with_the_dialect_to_use() -> None:
    app = sim_libre.create_app()
    app.world.api_enabled = False
    client = make_client("booked3", BASE, transport=httpx.ASGITransport(app=app), timezone=ZURICH)
    with pytest.raises((NotFoundError, ProtocolError)) as info:
        await client.login(CREDS)
    assert "not a Booked login page" in str(info.value)
    await client.aclose()
