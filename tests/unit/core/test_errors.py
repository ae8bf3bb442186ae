"""The exception tree: one line per error, exit codes, third-party errors mapped into it."""

from __future__ import annotations

import errno
import socket
import sqlite3
from pathlib import Path

import httpx
import psycopg
import pytest

from boxoffice.errors import (
    EXIT_NO_RESULT,
    AuthenticationError,
    BoxofficeError,
    BrowserError,
    ConfigurationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    RateLimitedError,
    StorageError,
    exit_codes,
    map_exception,
    postgres_auth_error,
)

URL = "https://tickets.example.com/org/event/secondhand/"


def _status_error(status: int, headers: dict[str, str] | None = None) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", URL)
    response = httpx.Response(status, headers=headers, request=request)
    return httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)


def test_one_line_joins_message_and_hint() -> None:
    err = ConfigurationError("no event given", hint="pass --event ORG/EVENT")
    assert err.one_line() == "no event given — pass --event ORG/EVENT"
    assert "\n" not in err.one_line()
    assert BoxofficeError("plain").one_line() == "plain"


def test_protocol_error_points_at_the_archived_response(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    err = ProtocolError("marketplace page not understood", archived=saved)
    assert str(saved) in err.one_line()
    assert err.archived == saved


def test_exit_codes_are_distinct_per_class() -> None:
    rows = exit_codes()
    codes = [code for code, _, _ in rows]
    assert len(codes) == len(set(codes))
    by_name = {name: code for code, name, _ in rows}
    assert by_name["ConfigurationError"] == ConfigurationError.exit_code == 2
    assert by_name["RateLimitedError"] == RateLimitedError.exit_code
    assert codes[0] == 0
    assert codes[-1] == 130
    assert all(meaning for _, _, meaning in rows)


def test_exit_code_3_is_a_run_without_a_result() -> None:
    meanings = {code: meaning for code, _, meaning in exit_codes()}
    assert EXIT_NO_RESULT == 3
    assert "no slot won" in meanings[3]
    assert "no ticket carted" in meanings[3]


@pytest.mark.parametrize(
    ("exc", "kind", "needle"),
    [
        (httpx.ConnectTimeout("timed out"), NetworkError, "timed out"),
        (httpx.ReadTimeout("slow"), NetworkError, "ReadTimeout"),
        (httpx.ConnectError("[Errno 111] Connection refused"), NetworkError, "cannot connect"),
        (
            httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
            NetworkError,
            "TLS error",
        ),
        (httpx.RemoteProtocolError("Server disconnected"), NetworkError, "dropped"),
        (httpx.ReadError("reset"), NetworkError, "ReadError"),
        (
            httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'"),
            ConfigurationError,
            "invalid URL",
        ),
        (sqlite3.OperationalError("database is locked"), StorageError, "database is locked"),
        (
            PermissionError(errno.EACCES, "Permission denied", "/state/x.db"),
            StorageError,
            "/state/x.db",
        ),
        (
            FileNotFoundError(errno.ENOENT, "No such file or directory", "/nope.toml"),
            NotFoundError,
            "/nope.toml",
        ),
        (
            ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
            NetworkError,
            "Connection refused",
        ),
        (socket.gaierror(-2, "Name or service not known"), NetworkError, "not known"),
        (
            psycopg.OperationalError("connection failed: refused\nmore detail"),
            StorageError,
            "PostgreSQL: connection failed: refused",
        ),
        (
            psycopg.OperationalError(
                'connection failed: connection to server at "db.example", port 5433 failed: '
                'FATAL:  password authentication failed for user "track"'
            ),
            AuthenticationError,
            'PostgreSQL at db.example:5433 refused the password of user "track"',
        ),
        (ValueError("odd"), BoxofficeError, "ValueError: odd"),
    ],
)
def test_third_party_errors_map_into_the_tree(
    exc: BaseException, kind: type[BoxofficeError], needle: str
) -> None:
    mapped = map_exception(exc, context="polling the marketplace")
    assert type(mapped) is kind
    line = mapped.one_line()
    assert line.startswith("polling the marketplace: ")
    assert needle in line
    assert "\n" not in line


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (400, ProtocolError),
        (503, NetworkError),
    ],
)
def test_http_status_errors_by_code(status: int, kind: type[BoxofficeError]) -> None:
    mapped = map_exception(_status_error(status))
    assert type(mapped) is kind
    assert f"HTTP {status}" in mapped.message
    assert URL in mapped.message


def test_429_carries_retry_after() -> None:
    mapped = map_exception(_status_error(429, {"Retry-After": "42"}))
    assert isinstance(mapped, RateLimitedError)
    assert mapped.status_code == 429
    assert mapped.retry_after == 42.0


def test_429_without_retry_after() -> None:
    mapped = map_exception(_status_error(429))
    assert isinstance(mapped, RateLimitedError)
    assert mapped.retry_after is None


def test_409_with_retry_after_is_rate_limiting_without_it_is_not() -> None:
    limited = map_exception(_status_error(409, {"Retry-After": "7"}))
    assert isinstance(limited, RateLimitedError)
    assert limited.retry_after == 7.0
    assert isinstance(map_exception(_status_error(409)), ProtocolError)


def test_postgresql_refusing_credentials_is_an_authentication_error() -> None:
    url = "postgresql://track:***@db.example:5433/prices"
    wrong = postgres_auth_error(
        'connection to server at "db.example" (10.0.0.5), port 5433 failed: FATAL:  password '
        'authentication failed for user "track"',
        url=url,
    )
    assert wrong is not None
    assert wrong.exit_code == 4
    assert wrong.message == (
        f'PostgreSQL at db.example:5433 refused the password of user "track" ({url})'
    )
    assert "percent-encoded" in wrong.one_line()
    missing = postgres_auth_error("connection failed: fe_sendauth: no password supplied", url=url)
    assert missing is not None
    assert missing.message.startswith(
        'PostgreSQL at db.example:5433 wants a password for user "track"'
    )
    assert postgres_auth_error('FATAL:  database "prices" does not exist', url=url) is None


def test_boxoffice_errors_pass_through_unchanged() -> None:
    original = BrowserError("no browser")
    assert map_exception(original, context="ignored") is original


def test_the_reference_page_lists_every_exit_code() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[3] / "docs" / "reference.md").read_text()
    rows = {line.split("|")[1].strip() for line in page.splitlines() if line.startswith("| ")}
    missing = [code for code, _, _ in exit_codes() if str(code) not in rows]
    assert not missing, f"docs/reference.md's exit-code table lacks {missing}"
