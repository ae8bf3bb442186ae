"""One exception tree for boxoffice.

Every failure a user can meet is a :class:`BoxofficeError`. The CLI turns it into one line
(``message`` plus an optional ``hint``) and an exit code (:func:`exit_codes` lists them).
Third-party exceptions (httpx, sqlite3, psycopg, playwright) are mapped into this tree with
:func:`map_exception` at the boundary where they are caught.
"""

from __future__ import annotations

import codecs
import re
import socket
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import httpx


class BoxofficeError(Exception):
    """Base of every error boxoffice raises on purpose."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        """The line the CLI prints: what happened, then what to do."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ConfigurationError(BoxofficeError):
    """Settings are missing or invalid (a key, a file, a flag)."""

    exit_code = 2


class AuthenticationError(BoxofficeError):
    """Credentials were refused (bad password, bad TOTP, bad API key, expired session)."""

    exit_code = 4


class RateLimitedError(BoxofficeError):
    """The peer asked us to slow down (429, 409 + Retry-After)."""

    exit_code = 5

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after
        self.status_code = status_code


class ProtocolError(BoxofficeError):
    """A page or response was not understood (changed markup, unexpected JSON)."""

    exit_code = 6

    def __init__(
        self, message: str, *, archived: Path | None = None, hint: str | None = None
    ) -> None:
        if archived is not None and hint is None:
            hint = f"the response was saved to {archived}"
        super().__init__(message, hint=hint)
        self.archived = archived


class NetworkError(BoxofficeError):
    """The peer could not be reached or did not answer in time (DNS, TLS, refused, timeout)."""

    exit_code = 7


class StorageError(BoxofficeError):
    """Local storage failed (state dir, SQLite, PostgreSQL)."""

    exit_code = 8


class NotFoundError(BoxofficeError):
    """The thing asked for does not exist (event, reservation, file)."""

    exit_code = 9


class BrowserError(BoxofficeError):
    """No usable browser, or the browser handoff failed."""

    exit_code = 10


class NotificationError(BoxofficeError):
    """A notification channel failed or cannot work on this machine."""

    exit_code = 11


class RefusedError(BoxofficeError):
    """The peer understood the request and refused it, with its reasons (a rule, a permission)."""

    exit_code = 12


class BusyError(BoxofficeError):
    """Another run is doing the same work (it holds the lock; the message names it)."""

    exit_code = 14


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL with a host, as words that follow it in a
    message ("is not an http(s) URL", "has no host", …); None when it is one."""
    text = url.strip()
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError as exc:  # a bad IPv6 literal, a port that is not a number
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in ("http", "https") or not text.lower().startswith(
        ("http://", "https://")
    ):
        return "is not an http(s) URL"
    if not parts.hostname:
        return "has no host"
    if not port_ok:
        return "has a port out of range"
    return None


def directory_given(path: Path, what: str) -> ConfigurationError | None:
    """The one line for a folder given where a file is expected (None: ``path`` is none)."""
    if not path.is_dir():
        return None
    return ConfigurationError(
        f"{what} {path} is a directory".strip(),
        hint="give the path of a file (one inside it?), not the folder",
    )


def require_file(
    path: Path,
    what: str,
    *,
    hint: str | None = None,
    missing: type[BoxofficeError] = NotFoundError,
) -> Path:
    """``path`` when it is a regular file; else the one line that says what it is instead.

    A folder "is a directory" (:class:`ConfigurationError`, exit 2), a device or pipe "is not
    a regular file" (2), a missing path "does not exist" (``missing``, by default
    :class:`NotFoundError`, exit 9; ``hint`` says where to find the right one). ``what``
    names the file for the user ("cookie file", "listings CSV"; may be empty).
    """
    if path.is_file():
        return path
    folder = directory_given(path, what)
    if folder is not None:
        raise folder
    if path.exists():
        raise ConfigurationError(f"{what} {path} is not a regular file".strip(), hint=hint)
    raise missing(f"{what} {path} does not exist".strip(), hint=hint)


def require_utf8_file(
    path: Path, what: str, *, hint: str | None = None, chunk: int = 1 << 20
) -> Path:
    """``path`` when it is a regular file of UTF-8 text (:func:`require_file` first), read
    through once, so that a caller that imports it row by row never stores half of a file
    that turns out not to be UTF-8 (a latin-1 export, say): that is one line, exit 2, naming
    the line and byte where the text stops being UTF-8. ``hint`` follows the advice to
    convert it."""
    require_file(path, what)
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = line = 0
    try:
        with path.open("rb") as fh:
            while data := fh.read(chunk):
                try:
                    decoder.decode(data)
                except UnicodeDecodeError as exc:
                    where = max(exc.start - len(exc.object) + len(data), 0)
                    line += data[:where].count(b"\n")
                    advice = f"save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 {path} > new.csv)"
                    raise ConfigurationError(
                        f"{what} {path} is not UTF-8 text (line {line + 1}, byte "
                        f"{offset + where}: {exc.reason})".strip(),
                        hint=f"{advice}; {hint}" if hint else advice,
                    ) from None
                offset += len(data)
                line += data.count(b"\n")
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:  # the file ends inside a character
        raise ConfigurationError(
            f"{what} {path} is not UTF-8 text (it ends inside a character: {exc.reason})",
            hint=hint,
        ) from None
    return path


EXIT_NO_RESULT = 3
"""Not an error: the run ended normally without a result (``book run``: no slot won;
``watch run``: no ticket carted; ``sync push``: tickets wait for a retry beyond ``--max-wait``)."""
EXIT_PENDING = 13
"""Not an error: ``book run`` holds a reservation that is pending an admin's approval (the
resource requires approval) — not won until approved."""
EXIT_INTERRUPTED = 130


def exit_codes() -> list[tuple[int, str, str]]:
    """Every exit code the CLI uses: ``(code, error class, meaning)``, sorted by code.

    0 is success, 3 a run without a result, 130 an interrupt (Ctrl-C); the rest come from the
    exception tree.
    """
    rows: list[tuple[int, str, str]] = [
        (0, "-", "success"),
        (
            EXIT_NO_RESULT,
            "-",
            "no result: no slot won (book run), no ticket carted (watch run), tickets left "
            "waiting for a later retry (sync push)",
        ),
        (EXIT_PENDING, "-", "book run: a reservation is held but pending the admin's approval"),
    ]
    seen: list[type[BoxofficeError]] = [BoxofficeError]
    queue: list[type[BoxofficeError]] = [BoxofficeError]
    while queue:
        cls = queue.pop(0)
        for sub in cls.__subclasses__():
            if sub.__module__ == __name__ and sub not in seen:
                seen.append(sub)
                queue.append(sub)
    for cls in seen:
        doc = (cls.__doc__ or "").strip().splitlines()[0]
        rows.append((cls.exit_code, cls.__name__, doc))
    rows.append((EXIT_INTERRUPTED, "-", "interrupted (Ctrl-C)"))
    return sorted(rows, key=lambda row: row[0])


def map_exception(exc: BaseException, *, context: str = "") -> BoxofficeError:
    """Map a third-party exception to the boxoffice tree (returned, not raised).

    ``context`` names what was being done ("polling https://…/secondhand/") and prefixes the
    message so the user's one line says what failed and where.
    """
    if isinstance(exc, BoxofficeError):
        return exc
    prefix = f"{context}: " if context else ""
    mapped = _map_httpx(exc, prefix)
    if mapped is not None:
        return mapped
    if isinstance(exc, sqlite3.Error):
        return StorageError(f"{prefix}SQLite: {exc}")
    module = type(exc).__module__
    if module.startswith("psycopg"):
        refused = postgres_auth_error(str(exc))
        if refused is not None:
            return AuthenticationError(f"{prefix}{refused.message}", hint=refused.hint)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return StorageError(
            f"{prefix}PostgreSQL: {first}",
            hint="check the database URL, that the server runs and accepts connections",
        )
    if module.startswith("playwright"):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return BrowserError(f"{prefix}browser: {first}")
    if isinstance(exc, ConnectionError | TimeoutError | socket.gaierror):
        return NetworkError(f"{prefix}{_os_text(exc)}", hint="check the address and your network")
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"{prefix}{_os_text(exc)}")
    if isinstance(exc, OSError):
        return StorageError(f"{prefix}{_os_text(exc)}")
    return BoxofficeError(f"{prefix}{type(exc).__name__}: {exc}")


_PG_AUTH_FAILED = re.compile(r'authentication failed for user "(?P<user>[^"]*)"')
_PG_NO_PASSWORD = "no password supplied"
_PG_SERVER = re.compile(r'server at "(?P<host>[^"]*)"(?: \([^)]*\))?, port (?P<port>\d+) failed')


def postgres_auth_error(text: str, *, url: str = "") -> AuthenticationError | None:
    """An :class:`AuthenticationError` when libpq's ``text`` says the server refused the
    credentials (a wrong password, none given); None for any other failure.

    The line names the user and the server; ``url`` (already masked) is shown after it. libpq
    never repeats the password, so nothing secret is quoted.
    """
    failed = _PG_AUTH_FAILED.search(text)
    if failed is None and _PG_NO_PASSWORD not in text:
        return None
    parts = urlsplit(url) if url else None
    server = _PG_SERVER.search(text)
    if server is not None:
        at = f" at {server['host']}:{server['port']}"
    elif parts is not None and parts.hostname:
        at = f" at {parts.hostname}:{parts.port or 5432}"
    else:
        at = ""
    user = failed["user"] if failed is not None else (parts.username if parts else None)
    who = f'user "{user}"' if user else "the user"
    where = f" ({url})" if url else ""
    if failed is not None:
        message = f"PostgreSQL{at} refused the password of {who}{where}"
    else:
        message = f"PostgreSQL{at} wants a password for {who} and the URL gives none{where}"
    return AuthenticationError(
        message,
        hint="check the password in the database URL (--db / BOXOFFICE_DB_URL); an @ : / or % "
        "in it must be percent-encoded (%40 %3A %2F %25)",
    )


def _map_httpx(exc: BaseException, prefix: str) -> BoxofficeError | None:
    """httpx's errors; only looked for when httpx is loaded (else ``exc`` cannot be one)."""
    httpx = sys.modules.get("httpx")
    if httpx is None:
        return None
    if isinstance(exc, httpx.TimeoutException):
        return NetworkError(
            f"{prefix}timed out ({type(exc).__name__})",
            hint="the server is slow or unreachable; try again or raise the timeout",
        )
    if isinstance(exc, httpx.ConnectError):
        text = str(exc)
        if "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return NetworkError(
                f"{prefix}TLS error: {text}",
                hint="the server's certificate was not accepted; check the URL",
            )
        return NetworkError(
            f"{prefix}cannot connect: {text or type(exc).__name__}",
            hint="check the URL and your network",
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return NetworkError(f"{prefix}connection dropped by the server: {exc}")
    if isinstance(exc, httpx.HTTPStatusError):
        return _map_status(exc, prefix)
    if isinstance(exc, httpx.InvalidURL | httpx.UnsupportedProtocol):
        return ConfigurationError(f"{prefix}invalid URL: {exc}")
    if isinstance(exc, httpx.TransportError):
        return NetworkError(f"{prefix}{type(exc).__name__}: {exc}")
    return None


def _os_text(exc: OSError) -> str:
    text = exc.strerror or str(exc) or type(exc).__name__
    return f"{text}: {exc.filename}" if exc.filename else text


def _map_status(exc: httpx.HTTPStatusError, prefix: str) -> BoxofficeError:
    from boxoffice.core.pacing import parse_retry_after  # pure module; avoids an import cycle

    status = exc.response.status_code
    where = f"{prefix}HTTP {status} from {exc.request.url}"
    retry_after = parse_retry_after(exc.response.headers.get("Retry-After"))
    if status in (401, 403):
        return AuthenticationError(where, hint="check the credentials or session")
    if status == 429 or (status == 409 and retry_after is not None):
        return RateLimitedError(
            where,
            status_code=status,
            retry_after=retry_after,
            hint="the server asks to slow down; wait and try again",
        )
    if status == 404:
        return NotFoundError(where)
    if status >= 500:
        return NetworkError(where, hint="the server failed; try again later")
    return ProtocolError(where)
