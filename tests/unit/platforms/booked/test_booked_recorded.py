"""Replay of recorded HTTP (vcrpy cassettes), the secret filter, and the `live` re-recording."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyotp
import pytest
from tests.unit.platforms.booked.booked_testkit import CREDS, ZURICH, make_app
from tests.unit.platforms.booked.booked_vcr import (
    CASSETTES,
    RECORDED_HOST,
    booking_flow,
    read_only_flow,
    record_sandbox,
    recorder,
)

from boxoffice.platforms.booked import Credentials, Outcome, make_client
from boxoffice.sandbox import booked3 as sim

DIALECTS = ["booked3", "librebooking"]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_replay_of_the_recorded_flow(dialect: str) -> None:
    cassette = CASSETTES / f"{dialect}_flow.yaml"
    with recorder(cassette, mode="none"):
        client = make_client(dialect, f"http://{RECORDED_HOST}/Web", timezone=ZURICH)
        try:
            # any secret works on replay: the recording holds none
            outcome = await booking_flow(client, Credentials("u", "p", CREDS.totp_secret))
        finally:
            await client.aclose()
    assert outcome["user_id"] == "42"
    assert outcome["taken"] == [233]
    assert outcome["first"] is Outcome.BOOKED
    assert outcome["second"][0] is Outcome.ONE_AT_A_TIME
    assert "one reservation at a time" in outcome["second"][1]
    assert outcome["mine_after_cancel"] == []


def _values_seen_by_server(app: object) -> list[str]:
    sessions = getattr(app, "sessions", {})
    tokens = getattr(app, "tokens", {})
    out: list[str] = list(sessions) + list(tokens)
    for sess in sessions.values():
        out += [sess.csrf, sess.login_token or ""]
    return [v for v in out if v]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_recording_keeps_no_secret(dialect: str, tmp_path: Path) -> None:
    planted = Credentials(
        "planted.user@secret.example", "Planted-Pa55word-XYZ", pyotp.random_base32()
    )
    app = make_app(dialect)
    app.world.users[planted.username] = sim.User(
        planted.username, planted.password, "42", planted.totp_secret
    )
    cassette = tmp_path / "flow.yaml"
    record_sandbox(dialect, cassette, app=app, creds=planted, tell_secrets=False)
    text = cassette.read_text()
    assert "REDACTED" in text
    assert "Reservations" in text or "reservation.php" in text
    secrets = [planted.username, planted.password, str(planted.totp_secret)]
    secrets += _values_seen_by_server(app)
    leaked = [s for s in secrets if s in text]
    assert leaked == []
    totp = pyotp.TOTP(str(planted.totp_secret))
    now = time.time()
    codes = {totp.at(now + step * 30) for step in range(-4, 2)}
    assert not [c for c in codes if re.search(rf"\b{c}\b", text)]


def test_committed_cassettes_keep_no_secret() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= 2
    for path in files:
        text = path.read_text()
        for secret in (CREDS.username, CREDS.password, str(CREDS.totp_secret)):
            assert secret not in text, path
        for value in re.findall(r"(?:PHPSESSID|login_token)=([^;\s']+)", text):
            assert value == "REDACTED", path
        for value in re.findall(r'name="CSRF_TOKEN"\s+value="([^"]*)"', text):
            assert value == "REDACTED", path
        assert not re.search(r'"sessionToken":\s*"(?!REDACTED)', text), path
        assert not re.search(r"OTP=(?!REDACTED)", text), path


LIVE_ENV = (
    "BOXOFFICE_LIVE_BOOK_URL",
    "BOXOFFICE_LIVE_BOOK_USERNAME",
    "BOXOFFICE_LIVE_BOOK_PASSWORD",
)


@pytest.mark.live
async def test_live_rerecord_read_only() -> None:
    """Re-record login + availability + list against a real server (never books anything)."""
    missing = [name for name in LIVE_ENV if not os.environ.get(name)]
    if missing:
        pytest.skip(f"live re-recording needs {', '.join(missing)}")
    dialect = os.environ.get("BOXOFFICE_LIVE_BOOK_DIALECT", "booked3")
    creds = Credentials(
        os.environ["BOXOFFICE_LIVE_BOOK_USERNAME"],
        os.environ["BOXOFFICE_LIVE_BOOK_PASSWORD"],
        os.environ.get("BOXOFFICE_LIVE_BOOK_TOTP_SECRET") or None,
    )
    target = CASSETTES / f"live_{dialect}.yaml"
    target.unlink(missing_ok=True)
    secrets = [creds.username, creds.password, creds.totp_secret or ""]
    with recorder(target, mode="all", secrets=secrets):
        client = make_client(
            dialect,
            os.environ["BOXOFFICE_LIVE_BOOK_URL"],
            timezone=os.environ.get("BOXOFFICE_LIVE_BOOK_TIMEZONE", ZURICH),
            owner_id=os.environ.get("BOXOFFICE_LIVE_BOOK_OWNER") or None,
        )
        try:
            outcome = await read_only_flow(client, creds)
        finally:
            await client.aclose()
    assert outcome["user_id"] or outcome["found"] >= 0
    text = target.read_text()
    assert not [s for s in secrets if s and s in text]
