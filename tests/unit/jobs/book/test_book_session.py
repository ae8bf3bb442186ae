"""Session cache: 0600, 6 h, no credentials inside, validated before use."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

from tests.unit.platforms.booked.booked_testkit import BASE, CREDS, client_for, make_app

from boxoffice.core.http import CookieRecord
from boxoffice.jobs.book.session import SessionCache, ensure_session
from boxoffice.platforms.booked.models import BookedSession


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
    stored = {c["name"]: c for c in json.loads(text)["cookies"]}
    token = next(c for c in session.cookies if c.name == "login_token")
    assert stored["login_token"]["value"] == token.value
    assert stored["login_token"]["domain"] == "booked.sandbox.test"
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
    cache.save(BookedSession("librebooking", BASE, "me", session_token="t", created_at=now[0]))
    now[0] += 6 * 3600 - 1
    assert cache.load() is not None
    now[0] += 1
    assert cache.load() is None


def test_cache_is_per_target_and_user(tmp_path: Path) -> None:
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


def test_cookies_keep_their_domain_path_and_flags(tmp_path: Path) -> None:
    host_only = CookieRecord("__Host-sid", "s3cr3t", "booked.example.org", "/", secure=True)
    scoped = CookieRecord("PHPSESSID", "p", ".example.org", "/Web", http_only=True, host_only=False)
    cache = SessionCache(tmp_path, "booked3", BASE, "me")
    cache.save(BookedSession("booked3", BASE, "me", cookies=[host_only, scoped], csrf_token="c"))
    loaded = cache.load()
    assert loaded is not None
    assert sorted(loaded.cookies, key=lambda c: c.name) == [scoped, host_only]


async def test_restored_cookies_go_only_where_the_server_bound_them(tmp_path: Path) -> None:
    client = client_for(make_app("booked3"), "booked3")
    host_only = CookieRecord("__Host-sid", "s", "booked.sandbox.test", "/", secure=True)
    scoped = CookieRecord("deep", "d", "booked.sandbox.test", "/Web/admin")
    client.restore(BookedSession("booked3", BASE, "me", cookies=[host_only, scoped]))
    jar = client.http.cookie_jar
    deep = {c.name for c in jar.for_url("https://booked.sandbox.test/Web/admin/x")}
    assert {"__Host-sid", "deep"} <= deep
    names = {c.name for c in jar.for_url("https://booked.sandbox.test/Web/index.php")}
    assert "deep" not in names
    assert "__Host-sid" in names
    assert "__Host-sid" not in {c.name for c in jar.for_url("http://booked.sandbox.test/")}
    assert "__Host-sid" not in {c.name for c in jar.for_url("https://other.sandbox.test/")}
    await client.aclose()


async def test_an_old_format_cache_means_a_fresh_login(tmp_path: Path) -> None:
    app = make_app("booked3")
    cache = SessionCache(tmp_path, "booked3", BASE, CREDS.username)
    cache.path.parent.mkdir(parents=True)
    old = {
        "dialect": "booked3",
        "base_url": BASE,
        "username": CREDS.username,
        "cookies": {"PHPSESSID": "x", "login_token": "y"},
        "csrf_token": "c",
        "session_token": None,
        "user_id": "42",
        "created_at": time.time(),
    }
    cache.path.write_text(json.dumps(old))
    assert cache.load() is None
    client = client_for(app, "booked3")
    session, fresh = await ensure_session(client, CREDS, cache)
    assert fresh
    assert all(isinstance(c, CookieRecord) for c in session.cookies)
    assert json.loads(cache.path.read_text())["version"] == BookedSession.FORMAT_VERSION
    await client.aclose()
