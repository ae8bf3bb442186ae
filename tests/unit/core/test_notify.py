"""Notification channels: real Apprise against a local server, iMessage argv, JSON webhook."""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from boxoffice.core import logging as bo_logging
from boxoffice.core.notify import (
    IMESSAGE_NEEDS_MACOS,
    IMESSAGE_SCRIPT,
    AppriseChannel,
    Channel,
    ChannelResult,
    IMessageChannel,
    Notification,
    Notifier,
    WebhookChannel,
    redact_url,
)
from boxoffice.errors import ConfigurationError
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import NotifySettings

NOTE = Notification(
    title="Ticket in your cart",
    body='Front row "A" — 45.00 EUR',
    url="https://tickets.example.org/checkout/",
    data={"listing": 17},
)


class Inbox:
    """A local server that records what it is sent; /fail answers 500."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def app(self) -> Starlette:
        async def ok(request: Request) -> Response:
            body = await request.json()
            with self.lock:
                self.received.append(body)
                self.paths.append(request.url.path)
            return JSONResponse({"ok": True})

        async def fail(request: Request) -> Response:
            await request.body()
            return Response("database on fire", status_code=500)

        return Starlette(
            routes=[
                Route("/fail/{rest:path}", fail, methods=["POST"]),
                Route("/{rest:path}", ok, methods=["POST"]),
            ]
        )


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, str]]:
    box = Inbox()
    with SandboxServer({"inbox": box.app()}) as urls:
        yield box, urls["inbox"]


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    bo_logging.configure(json=True, stream=stream)
    yield stream
    structlog.reset_defaults()


def log_events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


# --- Apprise, for real, with its json:// service ----------------------------------------------


async def test_apprise_json_service_delivers_to_a_real_server(inbox: tuple[Inbox, str]) -> None:
    box, base = inbox
    host = base.removeprefix("http://")
    channel = AppriseChannel(f"json://{host}/apprise/hook")
    result = await channel.send(NOTE)
    assert result.ok, result
    payload = next(p for p, path in zip(box.received, box.paths, strict=True) if "apprise" in path)
    assert payload["title"] == "Ticket in your cart"
    assert 'Front row "A" — 45.00 EUR' in payload["message"]
    assert "https://tickets.example.org/checkout/" in payload["message"]


async def test_apprise_failure_is_reported_with_apprise_reason(inbox: tuple[Inbox, str]) -> None:
    _, base = inbox
    host = base.removeprefix("http://")
    channel = AppriseChannel(f"json://alice:hunter2pw@{host}/fail/now")
    result = await channel.send(NOTE)
    assert not result.ok
    assert result.detail
    assert "hunter2pw" not in result.detail
    assert "hunter2pw" not in result.channel
    assert result.channel == f"apprise json://{host}/…"


async def test_apprise_unreachable_host_fails_loudly(captured_logs: io.StringIO) -> None:
    channel = AppriseChannel("json://127.0.0.1:1/hook")
    results = await Notifier([channel]).send_all(NOTE)
    assert [r.ok for r in results] == [False]
    errors = [e for e in log_events(captured_logs) if e["level"] == "error"]
    assert errors
    assert errors[0]["event"] == "notification failed"
    assert errors[0]["channel"] == "apprise json://127.0.0.1:1/…"


def test_unknown_apprise_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="Apprise did not understand") as info:
        AppriseChannel("bogus://token123secret@example.org/x")
    assert "token123secret" not in info.value.one_line()


# --- redaction of channel names ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "json://user:s3cret@hooks.example.org:8443/p/a9f8e7d6c5?token=abc",
            "json://hooks.example.org:8443/…",
        ),
        ("ntfy://my-private-topic", "ntfy://my-…/…"),
        ("tgram://123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/1234", "tgram://123…/…"),
        ("mailto://bob:pw@gmail.com", "mailto://gmail.com"),
        ("https://hooks.slack.com/services/T000/B000/XXXXXXXX", "https://hooks.slack.com/…"),
        ("http://[::1]:8080/", "http://[::1]:8080"),
        ("not a url", "<url>"),
    ],
)
def test_redact_url_keeps_scheme_and_host_only(url: str, shown: str) -> None:
    assert redact_url(url) == shown


# --- iMessage ---------------------------------------------------------------------------------


class RecordingRunner:
    def __init__(self, code: int = 0, output: str = "") -> None:
        self.calls: list[list[str]] = []
        self.code, self.output = code, output

    async def __call__(self, argv: Sequence[str]) -> tuple[int, str]:
        self.calls.append(list(argv))
        return self.code, self.output


async def test_imessage_on_macos_runs_osascript_with_exact_argv() -> None:
    runner = RecordingRunner()
    channel = IMessageChannel("+44 7700 900123", runner=runner, platform="darwin")
    note = Notification(title='He said "hi"', body='end tell\ndo shell script "rm -rf ~"')
    result = await channel.send(note)
    assert result.ok
    assert runner.calls == [
        [
            "osascript",
            "-e",
            IMESSAGE_SCRIPT,
            "+44 7700 900123",
            'He said "hi"\nend tell\ndo shell script "rm -rf ~"',
        ]
    ]
    # The message never becomes AppleScript source: the script is constant.
    assert "rm -rf" not in IMESSAGE_SCRIPT
    assert "item 2 of argv" in IMESSAGE_SCRIPT


async def test_imessage_elsewhere_fails_clearly_without_running_anything() -> None:
    runner = RecordingRunner()
    channel = IMessageChannel("+447700900123", runner=runner, platform="linux")
    result = await channel.send(NOTE)
    assert not result.ok
    assert result.detail == IMESSAGE_NEEDS_MACOS
    assert runner.calls == []
    assert "7700900" not in result.channel  # the number is personal: masked


async def test_imessage_osascript_error_is_reported() -> None:
    runner = RecordingRunner(1, "execution error: Messages got an error: Can’t get participant.")
    channel = IMessageChannel("someone@example.org", runner=runner, platform="darwin")
    result = await channel.send(NOTE)
    assert not result.ok
    assert result.detail.startswith("osascript exited 1: execution error")


async def test_imessage_rejects_a_recipient_that_is_no_number() -> None:
    runner = RecordingRunner()
    result = await IMessageChannel("call me", runner=runner, platform="darwin").send(NOTE)
    assert not result.ok
    assert runner.calls == []


async def test_imessage_default_runner_without_osascript_fails_clearly() -> None:
    # On this (non-macOS) CI machine there is no osascript binary: FileNotFoundError is mapped.
    channel = IMessageChannel("+447700900123", platform="darwin")
    result = await channel.send(NOTE)
    assert not result.ok
    assert result.detail == IMESSAGE_NEEDS_MACOS


# --- JSON webhook -----------------------------------------------------------------------------


async def test_webhook_posts_the_documented_json(inbox: tuple[Inbox, str]) -> None:
    box, base = inbox
    result = await WebhookChannel(f"{base}/hooks/watch").send(NOTE)
    assert result.ok
    assert result.detail == "HTTP 200"
    payload = next(
        p for p, path in zip(box.received, box.paths, strict=True) if path == "/hooks/watch"
    )
    assert set(payload) == {"title", "body", "url", "data", "sent_at"}
    assert payload["data"] == {"listing": 17}
    assert payload["url"] == "https://tickets.example.org/checkout/"
    assert payload["sent_at"].endswith("+00:00")


async def test_webhook_non_2xx_is_a_failure_with_status_and_reason(
    inbox: tuple[Inbox, str],
) -> None:
    _, base = inbox
    result = await WebhookChannel(f"{base}/fail/x").send(NOTE)
    assert not result.ok
    assert result.detail == "HTTP 500: database on fire"


async def test_webhook_with_injected_transport_and_secret_path_is_redacted() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise httpx.ConnectError("boom for /hook/k3yK3yK3yK3y", request=request)

    url = "https://hooks.example.org/hook/k3yK3yK3yK3y"
    channel = WebhookChannel(url, transport=httpx.MockTransport(handler))
    result = await channel.send(NOTE)
    assert len(seen) == 1
    assert not result.ok
    assert "k3yK3yK3yK3y" not in result.detail
    assert "cannot connect" in result.detail
    assert result.channel == "webhook https://hooks.example.org/…"


# --- Notifier ---------------------------------------------------------------------------------


class SlowChannel:
    def __init__(self, name: str, ok: bool, started: list[str], gate: asyncio.Event) -> None:
        self.name, self.ok, self.started, self.gate = name, ok, started, gate

    async def send(self, n: Notification) -> ChannelResult:
        self.started.append(self.name)
        await self.gate.wait()
        return ChannelResult(self.name, self.ok, "done" if self.ok else "refused")


class BrokenChannel:
    name = "broken"

    async def send(self, n: Notification) -> ChannelResult:
        raise RuntimeError("bug in channel")


async def test_send_all_runs_channels_concurrently_and_keeps_order(
    captured_logs: io.StringIO,
) -> None:
    started: list[str] = []
    gate = asyncio.Event()
    channels: list[Channel] = [
        SlowChannel("a", True, started, gate),
        SlowChannel("b", False, started, gate),
        BrokenChannel(),
    ]
    task = asyncio.create_task(Notifier(channels).send_all(NOTE))
    for _ in range(10):
        await asyncio.sleep(0)
    assert started == ["a", "b"]  # both started before either finished
    gate.set()
    results = await task
    assert [(r.channel, r.ok) for r in results] == [("a", True), ("b", False), ("broken", False)]
    assert "bug in channel" in results[2].detail
    events = log_events(captured_logs)
    failed = sorted(e["channel"] for e in events if e["level"] == "error")
    assert failed == ["b", "broken"]
    assert [e["channel"] for e in events if e["level"] == "info"] == ["a"]


def test_from_settings_builds_every_channel_once() -> None:
    settings = NotifySettings(
        apprise=["json://127.0.0.1:9/x"],
        imessage=["+447700900123"],
        webhook=["http://127.0.0.1:9/hook"],
    )
    notifier = Notifier.from_settings(
        settings,
        extra_apprise=["json://127.0.0.1:9/x", "json://127.0.0.1:9/y"],
        extra_webhook=["http://127.0.0.1:9/other"],
    )
    kinds = [type(c).__name__ for c in notifier.channels]
    assert kinds == [
        "AppriseChannel",
        "AppriseChannel",
        "IMessageChannel",
        "WebhookChannel",
        "WebhookChannel",
    ]


async def test_empty_notifier_sends_nothing() -> None:
    assert await Notifier([]).send_all(NOTE) == []
