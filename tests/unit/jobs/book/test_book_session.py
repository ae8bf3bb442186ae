"""Session cache: 0600, 6 h, no credentials inside, validated before use."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from tests.unit.platforms.booked.booked_testkit import BASE, CREDS, client_for, make_app

from boxoffice.jobs.book.session import SessionCache, ensure_session


async def test_login_is_cached_privately_without_credentials(tmp_path: Path) -> None:
    app = make_app("booked3")
    client = client_for(app, "booked3")
    cache = SessionCache(tmp_path, "booked3", BASE, CREDS.username)
    session, fresh = await ensure_session(client, CREDS, cache)
    assert fresh
    assert stat.S_IMODE(cache.path.stat().st_mode) == 0o600
    text = cache.path.read_text()
    assert CREDS.password not in text
    assert CREDS.totp_secret is not None
    assert CREDS.totp_secret not in text
    assert json.loads(text)["cookies"]["login_token"] == session.cookies["login_token"]
    await client.aclose()


async def test_cached_session_is_reused_then_replaced_when_refused(tmp_path: Path) -> None:
    app = make_app("booked3")
    cache = SessionCache(tmp_path, "booked3", BASE, CREDS.username)
    first = client_for(app, "booked3")
    await ensure_session(first, CREDS, cache)
    await first.aclose()
    logins_before = sum(
        1 for e in app.world.log if e.path == "/Web/index.php" and e.method == "POST"
    )

    second = client_for(app, "booked3")
    _, fresh = await ensure_session(second, CREDS, cache)
    assert not fresh
    logins = sum(1 for e in app.world.log if e.path == "/Web/index.php" and e.method == "POST")
    assert logins == logins_before

    app.world.expire_sessions()  # the server forgot the session
    _, fresh = await ensure_session(second, CREDS, cache)
    assert fresh
    await second.aclose()


def test_cache_older_than_six_hours_is_ignored(tmp_path: Path) -> None:
    now = [1_000_000.0]
    cache = SessionCache(tmp_path, "librebooking", BASE, "me", clock=lambda: now[0])
    from boxoffice.platforms.booked.models import BookedSession

    cache.save(BookedSession("librebooking", BASE, "me", session_token="t", created_at=now[0]))
    now[0] += 6 * 3600 - 1
    assert cache.load() is not None
    now[0] += 1
    assert cache.load() is None


def test_cache_is_per_target_and_user(tmp_path: Path) -> None:
    from boxoffice.platforms.booked.models import BookedSession

    mine = SessionCache(tmp_path, "librebooking", BASE, "me")
    mine.save(BookedSession("librebooking", BASE, "me", session_token="t"))
    assert SessionCache(tmp_path, "librebooking", BASE, "you").load() is None
    assert SessionCache(tmp_path, "booked3", BASE, "me").load() is None
    assert mine.load() is not None


def test_corrupt_cache_is_ignored(tmp_path: Path) -> None:
    cache = SessionCache(tmp_path, "booked3", BASE, "me")
    cache.path.parent.mkdir(parents=True)
    cache.path.write_text("{not json")
    assert cache.load() is None
