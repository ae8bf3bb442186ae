"""Logging: console and JSON output, levels, and registered secrets never rendered."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from boxoffice.core import logging as blog
from boxoffice.core.logging import add_secrets, configure, get_logger, redact_text, shorten

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
    configure(json=False, stream=out)
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
