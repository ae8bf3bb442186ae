"""Session cache (cookies/token + CSRF, 6 h, mode 0600 in the state dir) and getting a session.

Cookies are kept as whole :class:`~boxoffice.core.http.CookieRecord` s — domain, path,
secure, host-only (``__Host-``) — so a restored session sends each cookie only where the
server bound it. A cache in the older ``{name: value}`` layout is treated as invalid: a fresh
login replaces it. The cache never holds the password or the TOTP secret — only what the
server handed out.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from boxoffice.core.logging import add_secrets, get_logger
from boxoffice.core.state import write_private
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.booked.booked3 import SessionExpiredError
from boxoffice.platforms.booked.client import BookedClient, Credentials
from boxoffice.platforms.booked.models import SESSION_TTL, BookedSession

log = get_logger(__name__)

T = TypeVar("T")


class SessionCache:
    """One cached session per (dialect, URL, user), as a 0600 JSON file."""

    def __init__(
        self,
        directory: Path,
        dialect: str,
        base_url: str,
        username: str,
        *,
        ttl: float = SESSION_TTL,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = hashlib.sha256(f"{dialect}|{base_url.rstrip('/')}|{username}".encode()).hexdigest()
        self.path = directory / "book" / f"session-{key[:16]}.json"
        self.dialect, self.base_url, self.username = dialect, base_url.rstrip("/"), username
        self.ttl, self.clock = ttl, clock

    def load(self) -> BookedSession | None:
        """The cached session if present, well-formed, for this target and younger than 6 h."""
        try:
            session = BookedSession.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning(
                "ignoring an unreadable or outdated session cache; logging in again",
                path=str(self.path),
                reason=str(exc),
            )
            return None
        if (
            session.dialect != self.dialect
            or session.base_url.rstrip("/") != self.base_url
            or session.username != self.username
            or session.expired(now=self.clock(), ttl=self.ttl)
        ):
            return None
        add_secrets(session.secrets())
        return session

    def save(self, session: BookedSession) -> Path:
        """Write the session (0600, atomic)."""
        add_secrets(session.secrets())
        return write_private(self.path, json.dumps(session.to_json()).encode())

    def clear(self) -> None:
        """Forget the cached session."""
        self.path.unlink(missing_ok=True)


def credentials_from(
    username: str | None, password: str | None, totp_secret: str | None
) -> Credentials:
    """Credentials or a ConfigurationError naming what is missing."""
    if not username:
        raise ConfigurationError(
            "no scheduler username", hint="set BOXOFFICE_BOOK_USERNAME or book.username"
        )
    if not password:
        raise ConfigurationError(
            "no scheduler password", hint="set BOXOFFICE_BOOK_PASSWORD (env or .env file)"
        )
    add_secrets([password, *([totp_secret] if totp_secret else [])])
    return Credentials(username, password, totp_secret or None)


async def ensure_session(
    client: BookedClient,
    credentials: Credentials,
    cache: SessionCache,
    *,
    force: bool = False,
) -> tuple[BookedSession, bool]:
    """A working session: the cached one if the server still accepts it, else a fresh login.

    Returns the session and whether a fresh login happened.
    """
    if not force:
        cached = cache.load()
        if cached is not None:
            client.restore(cached)
            if await client.validate():
                log.info("reusing cached session", age_s=round(time.time() - cached.created_at))
                cache.save(cached)  # the CSRF token may have been refreshed
                return cached, False
            log.info("cached session no longer accepted; logging in again")
    session = await client.login(credentials)
    cache.save(session)
    log.info("logged in", user_id=session.user_id)
    return session, True


async def with_relogin(
    client: BookedClient,
    credentials: Credentials,
    cache: SessionCache,
    operation: Callable[[], Awaitable[T]],
) -> T:
    """Run ``operation`` with a session; if the server says it expired, log in once and retry."""
    await ensure_session(client, credentials, cache)
    try:
        return await operation()
    except SessionExpiredError:
        log.info("session expired; logging in again once")
        await ensure_session(client, credentials, cache, force=True)
        return await operation()
