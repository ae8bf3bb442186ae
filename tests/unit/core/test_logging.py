"""Logging: console and JSON output, levels, and registered secrets never rendered."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from boxoffice.core import logging as blog
from boxoffice.core.logging import (
    add_secrets,
    configure,
    get_logger,
    mask_header_values,
    redact_text,
    redact_url,
    shorten,
)

PASSWORD = "hunter2-Correct-Horse"
TOKEN = "tok_9f8e7d6c5b4a"
ODD = 'quo"te\\slash'  # changes shape when JSON-escaped


@pytest.fixture(autouse=True)
def _clean_logging() -> Iterator[None]:
    blog.clear_secrets()
    yield
    blog.clear_secrets()
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "boxoffice":
            root.removeHandler(handler)
    root.setLevel(logging.WARNING)


class _Url:
    """An object whose str() holds a secret (like httpx.URL with a token in the query)."""

    def __str__(self) -> str:
        return f"https://api.example/hook?key={TOKEN}"


def _emit_everything() -> None:
    log = get_logger("boxoffice.test")
    log.info(f"logging in with {PASSWORD}", user="alice")
    log.info("request", url=_Url(), headers={"Authorization": f"Bearer {TOKEN}"})
    log.warning("cookies", jar=[("session", TOKEN), ("other", "harmless")], odd=ODD)
    try:
        raise RuntimeError(f"login refused for password {PASSWORD}")
    except RuntimeError:
        log.exception("failed")
    logging.getLogger("apprise").warning("could not notify json://x/?token=%s", TOKEN)


def _secret_forms() -> list[str]:
    return [PASSWORD, TOKEN, ODD, json.dumps(ODD)[1:-1]]


def test_console_output_never_shows_secrets() -> None:
    out = io.StringIO()
    configure(json=False, verbosity=1, stream=out)  # -v: info records on the console
    add_secrets([PASSWORD, TOKEN, ODD])
    _emit_everything()
    text = out.getvalue()
    for secret in _secret_forms():
        assert secret not in text
    assert text.count("***") >= 6
    # the useful parts survive
    assert "alice" in text
    assert "harmless" in text
    assert "RuntimeError" in text
    assert "could not notify" in text


def test_json_lines_never_show_secrets_and_stay_valid_json() -> None:
    out = io.StringIO()
    configure(json=True, stream=out)
    add_secrets([PASSWORD, TOKEN, ODD])
    _emit_everything()
    lines = out.getvalue().splitlines()
    assert len(lines) == 5
    events = [json.loads(line) for line in lines]
    raw = out.getvalue()
    for secret in _secret_forms():
        assert secret not in raw
    assert events[0]["event"] == "logging in with ***"
    assert events[0]["user"] == "alice"
    assert events[0]["level"] == "info"
    assert "timestamp" in events[0]
    assert events[1]["headers"] == {"Authorization": "Bearer ***"}
    assert events[1]["url"] == "https://api.example/hook?key=***"
    assert events[2]["odd"] == "***"
    assert "RuntimeError" in events[3]["exception"]
    assert events[4]["level"] == "warning"
    assert events[4]["event"] == "could not notify json://x/?token=***"


def test_secrets_registered_after_configure_still_apply() -> None:
    out = io.StringIO()
    configure(json=True, stream=out)
    get_logger("t").info("before", value=TOKEN)
    add_secrets([TOKEN])
    get_logger("t").info("after", value=TOKEN)
    before, after = (json.loads(line) for line in out.getvalue().splitlines())
    assert before["value"] == TOKEN  # nothing registered yet: shown as is
    assert after["value"] == "***"


def test_levels_follow_verbosity() -> None:
    def run(verbosity: int) -> list[str]:
        out = io.StringIO()
        configure(json=True, verbosity=verbosity, stream=out)
        log = get_logger("t")
        log.debug("d")
        log.info("i")
        log.warning("w")
        log.error("e")
        return [json.loads(line)["event"] for line in out.getvalue().splitlines()]

    assert run(-1) == ["w", "e"]
    assert run(0) == ["i", "w", "e"]
    assert run(1) == ["d", "i", "w", "e"]


def test_the_console_shows_log_records_only_from_v_on() -> None:
    """Without -v the console has the jobs' own lines and warnings, no info records."""

    def run(verbosity: int) -> str:
        out = io.StringIO()
        configure(json=False, verbosity=verbosity, stream=out)
        log = get_logger("t")
        log.debug("dbg-line")
        log.info("info-line")
        log.warning("warn-line")
        return out.getvalue()

    quiet, default, v, vv = run(-1), run(0), run(1), run(2)
    assert "warn-line" in quiet
    assert "info-line" not in quiet
    assert "warn-line" in default
    assert "info-line" not in default
    assert "info-line" in v
    assert "dbg-line" not in v
    assert "dbg-line" in vv


def test_third_party_debug_only_with_double_verbose() -> None:
    for verbosity, shown in ((1, False), (2, True)):
        out = io.StringIO()
        configure(json=True, verbosity=verbosity, stream=out)
        logging.getLogger("httpx").debug("HTTP Request: GET https://x/")
        assert ("HTTP Request" in out.getvalue()) is shown


def test_reconfiguring_does_not_duplicate_stdlib_lines() -> None:
    out = io.StringIO()
    configure(json=True, stream=out)
    configure(json=True, stream=out)
    logging.getLogger("hypercorn").error("boom")
    assert out.getvalue().count("boom") == 1


def test_redact_text_prefers_the_longest_match() -> None:
    add_secrets(["abcd", "abcdefgh"])
    assert redact_text("x abcdefgh y abcd") == "x *** y ***"


def test_shorten() -> None:
    assert shorten("0123456789abcdef") == "012345…"
    assert shorten("short") == "short"
    assert shorten("0123456789", keep=3) == "012…"


# --- secret HTTP headers in third-party debug lines -------------------------------------------

LOGIN_TOKEN = "lt-6d2f1c9a8b7e"
PHPSESSID = "k3j4h5g6f7d8s9a0"
CSRF = "csrf-77aa88bb99cc"


def _emit_httpcore_lines() -> None:
    """What httpcore (HTTP/1.1 and HTTP/2) and hpack print at debug level during a login."""
    headers = [
        (b"Date", b"Sun, 22 Nov 2026 03:00:00 GMT"),
        (b"Set-Cookie", f"login_token={LOGIN_TOKEN}; Path=/; HttpOnly".encode()),
        (b"set-cookie", f"PHPSESSID={PHPSESSID}; path=/".encode()),
        (b"X-CSRF-Token", CSRF.encode()),
    ]
    line = f"receive_response_headers.complete return_value=(b'HTTP/1.1', 200, b'OK', {headers!r})"
    logging.getLogger("httpcore.http11").debug(line)
    h2 = [(b":status", b"200"), (b"set-cookie", f"PHPSESSID={PHPSESSID}".encode())]
    logging.getLogger("httpcore.http2").debug(
        "receive_response_headers.complete return_value=%r", (200, h2)
    )
    logging.getLogger("hpack.hpack").debug("Decoded %s, consumed %d", ("cookie", PHPSESSID), 30)
    logging.getLogger("h2.connection").debug("headers %s", {"cookie": PHPSESSID})


@pytest.mark.parametrize("as_json", [False, True], ids=["console", "json"])
def test_cookie_and_token_headers_in_library_debug_lines_are_masked(as_json: bool) -> None:
    out = io.StringIO()
    # library debug lines: -vv in JSON, -vvv on the console (whose default shows no log records)
    configure(json=as_json, verbosity=2 if as_json else 3, stream=out)
    _emit_httpcore_lines()
    text = out.getvalue()
    for secret in (LOGIN_TOKEN, PHPSESSID, CSRF):
        assert secret not in text
    assert "receive_response_headers.complete" in text  # the line itself is still there
    assert "Sun, 22 Nov 2026" in text  # harmless headers stay readable
    assert "(b'Set-Cookie', b'***')" in text  # the header name stays, its value goes
    assert "Decoded" not in text  # hpack and h2 never print their debug lines
    assert "headers {" not in text
    if as_json:
        events = [json.loads(line) for line in text.splitlines()]
        assert [e["logger"] for e in events] == ["httpcore.http11", "httpcore.http2"]


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (
            "[(b'Cookie', b'a=1; b=2'), (b'Accept', b'*/*')]",
            "[(b'Cookie', b'***'), (b'Accept', b'*/*')]",
        ),
        ("{'Authorization': 'Bearer x', 'x': 'y'}", "{'Authorization': '***', 'x': 'y'}"),
        ("(b'set-cookie', b\"it's=1\")", "(b'set-cookie', b\"***\")"),
        (
            "Proxy-Authorization: Basic dXNlcg==\nAccept: */*",
            "Proxy-Authorization: ***\nAccept: */*",
        ),
        ("X-Booked-SessionToken: abc123", "X-Booked-SessionToken: ***"),
        ("('x-xsrf-token', 'abc')", "('x-xsrf-token', '***')"),
        ("GET /cookies?page=2 done", "GET /cookies?page=2 done"),
    ],
)
def test_mask_header_values(text: str, masked: str) -> None:
    assert mask_header_values(text) == masked


def test_quiet_and_default_levels_still_hide_library_debug() -> None:
    out = io.StringIO()
    configure(json=True, verbosity=0, stream=out)
    logging.getLogger("hpack").info("info from hpack")
    logging.getLogger("h2").warning("warning from h2")
    assert "info from hpack" not in out.getvalue()
    assert "warning from h2" in out.getvalue()


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://user:pw@db.example:5432/x", "postgresql://user:***@db.example:5432/x"),
        ("postgresql://user@db/x", "postgresql://user@db/x"),
        ("postgresql://track:p%40ss@db/x?sslmode=require", "postgresql://track:***@db/x"),
        ("ntfy://ntfy.sh/topic?token=abc", "ntfy://ntfy.sh/topic"),
        ("https://h.example/hook#frag", "https://h.example/hook"),
        ("HTTP://[::1]:9222", "http://[::1]:9222"),
        ("not a url", "<url>"),
    ],
)
def test_redact_url_hides_the_password_and_the_query(url: str, shown: str) -> None:
    assert redact_url(url) == shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "json://user:s3cret@hooks.example.org:8443/p/a9?token=abc",
            "json://hooks.example.org:8443/…",
        ),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1234", "tgram://123…/…"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/…"),
        ("mailto://bob:pw@gmail.com", "mailto://gmail.com"),
    ],
)
def test_redact_url_host_only_for_channels(url: str, shown: str) -> None:
    assert redact_url(url, host_only=True) == shown


def test_a_one_word_password_does_not_garble_prose_but_is_masked_as_a_value() -> None:
    """The password ``password``: the message about it stays readable; the value is masked
    wherever it stands as a value."""
    add_secrets(["password"])
    line = "username or password refused — check BOXOFFICE_BOOK_PASSWORD"
    assert redact_text(line) == line
    assert redact_text('{"username": "user", "password": "password"}') == (
        '{"username": "user", "***": "***"}'
    )
    assert redact_text("login?pw=password&x=1") == "login?pw=***&x=1"
    add_secrets(["pw-Secret9"])
    assert redact_text("sent pw-Secret9 in prose") == "sent *** in prose"
