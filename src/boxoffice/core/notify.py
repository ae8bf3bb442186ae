"""Notifications: one protocol, three channels; a failing channel is loud, never silent.

Public API:

``Notification`` (dataclass): title, body, url: str | None = None, data: dict = {} (extra JSON
    for the webhook channel).
``ChannelResult`` (dataclass): channel (str, secrets redacted), ok (bool), detail (str).
``Channel`` protocol: ``name: str``; ``async send(n: Notification) -> ChannelResult``.
``AppriseChannel(url)``, ``IMessageChannel(number, runner=subprocess runner)`` (macOS only —
    elsewhere ``send`` returns ok=False with a clear detail; constructing it never fails),
    ``WebhookChannel(url, transport=None)`` (POST JSON {title, body, url, data, sent_at}).
``Notifier(channels)``: ``async send_all(n) -> list[ChannelResult]`` concurrently; failures are
    logged at error level and returned, never swallowed. ``Notifier.from_settings(
    settings.notify, extra_apprise=[], extra_imessage=[], extra_webhook=[])``.

Also: ``redact_url(url)`` (scheme and host only — what channel names show; the core helper
with ``host_only``), ``Runner`` (the iMessage runner type: ``async (argv) -> (returncode,
output)``), ``IMESSAGE_SCRIPT``.

A channel's ``send`` never raises for a delivery failure: it returns ``ok=False`` with a one-line
``detail``. Only a malformed Apprise URL fails early (``ConfigurationError`` when constructing
``AppriseChannel``), so a typo is caught at start-up, not after a ticket was carted.
"""

from __future__ import annotations

import asyncio
import re
import sys
import urllib.parse
import warnings
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import httpx

from boxoffice.core.logging import (
    _host_port,
    _looks_like_hostname,
    add_secrets,
    get_logger,
    redact_text,
)
from boxoffice.core.logging import redact_url as _redact_url
from boxoffice.errors import ConfigurationError, map_exception

if TYPE_CHECKING:
    from boxoffice.settings import NotifySettings

log = get_logger(__name__)

#: ``async runner(argv) -> (returncode, combined stdout/stderr text)``.
Runner = Callable[[Sequence[str]], Awaitable[tuple[int, str]]]

#: The AppleScript run by ``osascript``. Recipient and text arrive as ``argv`` items, never
#: spliced into the script source, so quotes or backslashes in a message cannot break out.
IMESSAGE_SCRIPT = """on run argv
    set recipient to item 1 of argv
    set message to item 2 of argv
    tell application "Messages"
        set targetService to 1st account whose service type = iMessage
        set targetBuddy to participant recipient of targetService
        send message to targetBuddy
    end tell
end run"""

IMESSAGE_NEEDS_MACOS = "iMessage needs macOS (osascript)"


@dataclass
class Notification:
    """What to tell the user."""

    title: str
    body: str
    url: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """Title, body and link as plain text (iMessage, Apprise body)."""
        parts = [self.title, self.body] if self.title else [self.body]
        if self.url:
            parts.append(self.url)
        return "\n".join(p for p in parts if p)


@dataclass
class ChannelResult:
    """How one channel fared. ``channel`` never holds a secret."""

    channel: str
    ok: bool
    detail: str


@runtime_checkable
class Channel(Protocol):
    """A way to reach the user."""

    name: str

    async def send(self, n: Notification) -> ChannelResult:
        """Deliver ``n``; report failure in the result instead of raising."""
        ...


def redact_url(url: str) -> str:
    """``scheme://host[:port]`` plus ``/…`` when more followed: no user, password, path or query.

    What channel names show: :func:`boxoffice.core.logging.redact_url` with ``host_only`` (a
    "host" that is not a hostname, e.g. ``ntfy://topic``, ``tgram://bot-token/…``, is cut to
    its first three characters).
    """
    return _redact_url(url, host_only=True)


def _token_like(segment: str) -> bool:
    """A path segment that looks like a key rather than a word (``hooks``, ``notify``)."""
    has_digit = any(c.isdigit() for c in segment)
    has_alpha = any(c.isalpha() for c in segment)
    return len(segment) >= 16 or (len(segment) >= 6 and has_digit and has_alpha)


def _url_secrets(url: str) -> list[str]:
    """The parts of a URL that may be secret: user info, token-like host or path segments,
    query values, and the URL itself."""
    _, _, rest = url.partition("://")
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    out = [url]
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        out.extend(userinfo.split(":"))
    if not _looks_like_hostname(_host_port(netloc)[0]):
        out.append(hostport)
    tail = rest[len(netloc) :]
    path, _, query = tail.partition("?")
    out.extend(seg for seg in path.split("/") if _token_like(seg))
    out.extend(v for _, v in urllib.parse.parse_qsl(query.split("#")[0]))
    return [urllib.parse.unquote(s) for s in out if s]


def _import_apprise() -> Any:
    """Import Apprise lazily (it is slow to load), without its own DeprecationWarnings
    (``imghdr`` on Python 3.11/3.12) turning into errors where warnings are errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        return apprise


class AppriseChannel:
    """Any Apprise service (``ntfy://…``, ``tgram://…``, ``mailto://…``, ``json://…``, …).

    Apprise is synchronous, so a send runs in a worker thread, bounded by ``timeout``.
    """

    def __init__(self, url: str, *, timeout: float = 30.0) -> None:
        apprise = _import_apprise()
        self.url = url
        self.name = f"apprise {redact_url(url)}"
        self.timeout = timeout
        self._secrets = _url_secrets(url)
        add_secrets(self._secrets)
        self._apprise = apprise.Apprise()
        with warnings.catch_warnings():  # plugins load on first use; see _import_apprise
            warnings.simplefilter("ignore", DeprecationWarning)
            added = self._apprise.add(url)
        if not added:
            raise ConfigurationError(
                f"Apprise did not understand the notification URL {redact_url(url)}",
                hint="check its scheme and fields: https://github.com/caronc/apprise/wiki",
            )

    def _redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return redact_text(text)

    def _notify(self, n: Notification) -> tuple[bool, str]:
        body = n.body + (f"\n{n.url}" if n.url else "")
        result = self._apprise.notify(body=body or n.title, title=n.title)
        ok = bool(result)
        logs = getattr(result, "logs", None)
        lines = [e.message for e in logs()] if callable(logs) else []
        detail = "delivered" if ok else (lines[-1] if lines else "Apprise reported a failure")
        return ok, self._redact(detail)

    async def send(self, n: Notification) -> ChannelResult:
        """Send through Apprise in a thread."""
        try:
            ok, detail = await asyncio.wait_for(asyncio.to_thread(self._notify, n), self.timeout)
        except TimeoutError:
            return ChannelResult(self.name, False, f"no answer within {self.timeout:g} s")
        except Exception as exc:
            return ChannelResult(self.name, False, self._redact(f"{type(exc).__name__}: {exc}"))
        return ChannelResult(self.name, ok, detail)


async def subprocess_runner(argv: Sequence[str], *, timeout: float = 30.0) -> tuple[int, str]:
    """Run ``argv`` (no shell); return its exit code and combined output."""
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        return -1, f"timed out after {timeout:g} s"
    return proc.returncode or 0, out.decode(errors="replace").strip()


_RECIPIENT = re.compile(r"^(\+?[0-9][0-9 ()./-]{3,}|[^@\s]+@[^@\s]+\.[^@\s]+)$")


def _mask_recipient(number: str) -> str:
    n = number.strip()
    return n if len(n) <= 5 else f"{n[:3]}…{n[-2:]}"


class IMessageChannel:
    """iMessage via ``osascript`` and the Messages app (macOS only).

    ``number`` is a phone number (``+44…``) or an Apple ID e-mail. On other systems
    :meth:`send` returns ``ok=False`` ("iMessage needs macOS (osascript)"); constructing the
    channel never fails. ``runner`` and ``platform`` are injectable for tests.
    """

    def __init__(
        self, number: str, *, runner: Runner | None = None, platform: str | None = None
    ) -> None:
        self.number = number.strip()
        self.name = f"imessage {_mask_recipient(number)}"
        self.runner: Runner = runner or subprocess_runner
        self.platform = platform or sys.platform

    def argv(self, n: Notification) -> list[str]:
        """The exact command run for ``n``."""
        return ["osascript", "-e", IMESSAGE_SCRIPT, self.number, n.text()]

    async def send(self, n: Notification) -> ChannelResult:
        """Send through Messages; never raises."""
        if self.platform != "darwin":
            return ChannelResult(self.name, False, IMESSAGE_NEEDS_MACOS)
        if not _RECIPIENT.match(self.number):
            return ChannelResult(
                self.name, False, "not a phone number (+44…) or an Apple ID e-mail"
            )
        try:
            code, output = await self.runner(self.argv(n))
        except FileNotFoundError:
            return ChannelResult(self.name, False, IMESSAGE_NEEDS_MACOS)
        except Exception as exc:
            return ChannelResult(self.name, False, f"{type(exc).__name__}: {exc}")
        if code != 0:
            first = output.strip().splitlines()[0] if output.strip() else ""
            return ChannelResult(
                self.name, False, f"osascript exited {code}" + (f": {first}" if first else "")
            )
        return ChannelResult(self.name, True, "sent")


class WebhookChannel:
    """POST ``{title, body, url, data, sent_at}`` as JSON; only a 2xx answer is a success."""

    def __init__(
        self,
        url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url
        self.name = f"webhook {redact_url(url)}"
        self.transport = transport
        self.timeout = timeout
        self._secrets = _url_secrets(url)
        add_secrets(self._secrets)

    def payload(self, n: Notification) -> dict[str, Any]:
        """The JSON body sent for ``n``."""
        return {
            "title": n.title,
            "body": n.body,
            "url": n.url,
            "data": n.data,
            "sent_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        }

    def _redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            if len(secret) >= 3:
                text = text.replace(secret, "***")
        return redact_text(text)

    async def send(self, n: Notification) -> ChannelResult:
        """POST the notification; never raises."""
        try:
            async with httpx.AsyncClient(transport=self.transport, timeout=self.timeout) as client:
                response = await client.post(self.url, json=self.payload(n))
        except Exception as exc:
            err = map_exception(exc, context="webhook")
            return ChannelResult(self.name, False, self._redact(err.one_line()))
        if response.is_success:
            return ChannelResult(self.name, True, f"HTTP {response.status_code}")
        snippet = " ".join(response.text.split())[:120]
        return ChannelResult(
            self.name,
            False,
            self._redact(f"HTTP {response.status_code}" + (f": {snippet}" if snippet else "")),
        )


class Notifier:
    """Fan a notification out to every channel at once; report each outcome."""

    def __init__(self, channels: Iterable[Channel]) -> None:
        self.channels: list[Channel] = list(channels)

    def __len__(self) -> int:
        return len(self.channels)

    @classmethod
    def from_settings(
        cls,
        settings: NotifySettings,
        *,
        extra_apprise: Iterable[str] = (),
        extra_imessage: Iterable[str] = (),
        extra_webhook: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        runner: Runner | None = None,
    ) -> Notifier:
        """Channels from ``[notify]`` settings plus command-line extras (duplicates dropped).

        Raises ConfigurationError for an Apprise URL Apprise does not understand.
        """

        def unique(*lists: Iterable[str]) -> list[str]:
            seen: dict[str, None] = {}
            for items in lists:
                for item in items:
                    if item.strip():
                        seen.setdefault(item.strip(), None)
            return list(seen)

        channels: list[Channel] = []
        channels.extend(AppriseChannel(u) for u in unique(settings.apprise, extra_apprise))
        channels.extend(
            IMessageChannel(n, runner=runner) for n in unique(settings.imessage, extra_imessage)
        )
        channels.extend(
            WebhookChannel(u, transport=transport) for u in unique(settings.webhook, extra_webhook)
        )
        return cls(channels)

    async def _one(self, channel: Channel, n: Notification) -> ChannelResult:
        try:
            result = await channel.send(n)
        except Exception as exc:  # a channel broke its promise not to raise: still report it
            err = map_exception(exc, context=getattr(channel, "name", "channel"))
            result = ChannelResult(getattr(channel, "name", "channel"), False, err.one_line())
        if result.ok:
            log.info("notification sent", channel=result.channel, detail=result.detail)
        else:
            log.error("notification failed", channel=result.channel, detail=result.detail)
        return result

    async def send_all(self, n: Notification) -> list[ChannelResult]:
        """Send ``n`` on every channel concurrently; results in channel order."""
        return list(await asyncio.gather(*(self._one(c, n) for c in self.channels)))
