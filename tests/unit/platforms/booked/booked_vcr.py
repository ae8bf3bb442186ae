"""Recorded HTTP for the book clients: vcrpy config that scrubs every credential, cookie,
CSRF token, session token and OTP before anything is written, and the flows recorded.

Regenerate the committed sandbox cassettes with::

    .venv/bin/python -m tests.unit.platforms.booked.booked_vcr

Re-record against a real server with the ``live`` marker (see docs/book.md)::

    BOXOFFICE_LIVE_BOOK_URL=https://host/booked/Web BOXOFFICE_LIVE_BOOK_USERNAME=… \\
    BOXOFFICE_LIVE_BOOK_PASSWORD=… [BOXOFFICE_LIVE_BOOK_TOTP_SECRET=…] \\
    [BOXOFFICE_LIVE_BOOK_DIALECT=librebooking] .venv/bin/pytest -m live tests/unit/platforms/booked
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import vcr
from tests.unit.platforms.booked.booked_testkit import SLOT, ZURICH

from boxoffice.platforms.booked import BookedClient, BookingRequest, Credentials, Outcome

CASSETTES = Path(__file__).resolve().parents[3] / "cassettes" / "book"
RECORDED_HOST = "booked.sandbox.test"
REDACTED = "REDACTED"

SECRET_HEADERS = {"cookie", "x-csrf-token", "x-booked-sessiontoken", "authorization"}
SECRET_FIELDS = {"email", "password", "otp", "csrf_token", "username", "sessiontoken"}
SECRET_JSON_KEYS = {"username", "password", "otp", "sessionToken", "emailAddress"}


def _scrub_text(text: str, secrets: Iterable[str]) -> str:
    text = re.sub(r"""(name=["']CSRF_TOKEN["'][^>]*?value=["'])[^"']*""", rf"\g<1>{REDACTED}", text)
    text = re.sub(  # multipart form part
        r'(name="(?:CSRF_TOKEN|OTP|password|email)"\r\n(?:[^\r\n]+\r\n)*\r\n)[^\r\n]*',
        rf"\g<1>{REDACTED}",
        text,
    )
    for key in SECRET_JSON_KEYS:
        text = re.sub(rf'("{key}"\s*:\s*)"[^"]*"', rf'\g<1>"{REDACTED}"', text)
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _scrub_form(body: str, secrets: Iterable[str]) -> str:
    pairs = parse_qsl(body, keep_blank_values=True)
    scrubbed = [(k, REDACTED if k.lower() in SECRET_FIELDS else v) for k, v in pairs]
    return _scrub_text(urlencode(scrubbed), secrets)


def request_scrubber(secrets: Iterable[str] = ()) -> Callable[[Any], Any]:
    """``before_record_request``: rewrite the host, blank secret headers and body fields."""
    known = list(secrets)

    def scrub(request: Any) -> Any:
        parts = urlsplit(request.uri)
        request.uri = urlunsplit(("http", RECORDED_HOST, parts.path, parts.query, ""))
        for name in list(request.headers):
            if name.lower() in SECRET_HEADERS:
                request.headers[name] = REDACTED
            elif name.lower() == "host":
                request.headers[name] = RECORDED_HOST
        body = request.body
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            ctype = str(
                request.headers.get("Content-Type", request.headers.get("content-type", ""))
            )
            if "x-www-form-urlencoded" in ctype:
                text = _scrub_form(text, known)
            else:
                text = _scrub_text(text, known)
            request.body = text.encode()
        return request

    return scrub


def response_scrubber(secrets: Iterable[str] = ()) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """``before_record_response``: cookie values, CSRF and session tokens, known secrets."""
    known = list(secrets)

    def scrub(response: dict[str, Any]) -> dict[str, Any]:
        headers = response.get("headers", {})
        for name in list(headers):
            if name.lower() == "set-cookie":
                headers[name] = [
                    re.sub(r"^([^=]+)=[^;]*", rf"\g<1>={REDACTED}", v) for v in headers[name]
                ]
        body = response.get("body", {}).get("string")
        if body:
            text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
            response["body"]["string"] = _scrub_text(text, known).encode()
        return response

    return scrub


def recorder(path: Path, *, mode: str, secrets: Iterable[str] = ()) -> Any:
    """A vcr cassette context for ``path`` with the scrubbers installed."""
    known = list(secrets)
    config = vcr.VCR(
        record_mode=mode,
        match_on=["method", "path", "query"],
        before_record_request=request_scrubber(known),
        before_record_response=response_scrubber(known),
        decode_compressed_response=True,
    )
    return config.use_cassette(str(path))


def booking(resource: int) -> BookingRequest:
    """A booking of the test slot."""
    return BookingRequest(SLOT, resource, timezone=ZURICH)


async def booking_flow(client: BookedClient, creds: Credentials) -> dict[str, Any]:
    """Login → availability → book 240 → book 241 (one at a time) → cancel 240 → list mine."""
    session = await client.login(creds)
    before = await client.availability(SLOT.start, SLOT.end, 1)
    first = await client.create(booking(240))
    second = await client.create(booking(241))
    assert first.reference is not None
    await client.cancel(first.reference)
    mine = await client.list_mine(SLOT.start, SLOT.end)
    return {
        "user_id": session.user_id,
        "taken": sorted(r.resource_id for r in before),
        "first": first.outcome,
        "second": (second.outcome, second.message),
        "mine_after_cancel": [r.reference for r in mine],
        "reference": first.reference,
    }


async def read_only_flow(client: BookedClient, creds: Credentials) -> dict[str, Any]:
    """What a live re-recording does on a real server: login, availability, list mine."""
    session = await client.login(creds)
    found = await client.availability(SLOT.start, SLOT.end, 1)
    mine = await client.list_mine(SLOT.start, SLOT.end)
    return {"user_id": session.user_id, "found": len(found), "mine": len(mine)}


def record_sandbox(
    dialect: str, path: Path, *, app: Any = None, creds: Credentials, tell_secrets: bool = True
) -> Any:
    """Record :func:`booking_flow` against the simulator served on loopback; returns the app.

    ``tell_secrets=False`` records without telling the scrubbers the credentials, so only the
    structural filters (fields, headers, cookies, tokens) protect them.
    """
    from tests.unit.platforms.booked.booked_testkit import make_app, occupy

    from boxoffice.platforms.booked import make_client
    from boxoffice.sandbox.server import SandboxServer

    app = app or make_app(dialect)
    occupy(app, 233)
    path.unlink(missing_ok=True)
    secrets = [creds.username, creds.password, creds.totp_secret or ""] if tell_secrets else []
    with SandboxServer({dialect: app}) as urls, recorder(path, mode="all", secrets=secrets):

        async def main() -> None:
            client = make_client(dialect, urls[dialect] + "/Web", timezone=ZURICH)
            try:
                outcome = await booking_flow(client, creds)
            finally:
                await client.aclose()
            assert outcome["first"] is Outcome.BOOKED

        asyncio.run(main())
    return app


def main() -> None:
    """Regenerate the committed sandbox cassettes."""
    from tests.unit.platforms.booked.booked_testkit import CREDS

    CASSETTES.mkdir(parents=True, exist_ok=True)
    for dialect in ("booked3", "librebooking"):
        target = CASSETTES / f"{dialect}_flow.yaml"
        record_sandbox(dialect, target, creds=CREDS)
        print(f"recorded {target}")
    print(json.dumps({"ok": True}))


if __name__ == "__main__":
    main()
