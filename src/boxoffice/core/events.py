"""Typed job events and the one way they reach the user: filtered, retried, redacted, after.

Every job tells the user about its outcome the same way::

    announcer = Announcer(notifier, on=["success", "failure"])
    announcer.soon(Event("book", "failure", "book.lost", "no slot won", "…", fields={…}))
    …
    await announcer.drain()

* An :class:`Event` has a job, a kind (``success``, ``failure``, ``warning``, ``info``,
  ``alert``), a name (``watch.carted``, ``book.lost`` …), a title, a body and fields.
* ``on`` picks the kinds that are sent (default success + failure); ``alert`` (a price alert
  the user added) is always sent.
* Each channel is retried on failure after :func:`pacing.notify_retry_delays` (2, 4, 8 s),
  then the failure is reported (log line and :attr:`Announcer.failures`) — never silent.
* Title, body and fields pass through the log redaction (registered secrets, cookie and
  authorization header values) and any extra ``secrets`` given (e.g. a session's cookie
  values) before they leave the process.
* :meth:`Announcer.soon` sends in the background: the job never waits for a channel;
  :meth:`Announcer.drain` (at the end of a run) waits for what is still in flight.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx

from boxoffice.core import pacing
from boxoffice.core.logging import REDACTED, get_logger, mask_header_values, redact_text
from boxoffice.core.notify import (
    AppriseChannel,
    Channel,
    ChannelResult,
    IMessageChannel,
    Notification,
    Notifier,
    Runner,
    WebhookChannel,
)
from boxoffice.errors import map_exception

if TYPE_CHECKING:
    from boxoffice.settings.notify import NotifySettings

log = get_logger(__name__)

ALWAYS_SENT = frozenset({"alert"})
DEFAULT_ON: tuple[str, ...] = ("success", "failure")
MIN_SECRET = 4


@dataclass
class Event:
    """Something a job wants the user to know."""

    job: str
    kind: str
    name: str
    title: str
    body: str
    fields: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def notification(self, scrub: Callable[[str], str] = lambda s: s) -> Notification:
        """The event as a channel message (webhook ``data`` carries job, kind, event, fields)."""
        fields = {k: _scrub_value(v, scrub) for k, v in self.fields.items()}
        return Notification(
            title=scrub(self.title),
            body=scrub(self.body),
            url=scrub(self.url) if self.url else None,
            data={
                "job": self.job,
                "kind": self.kind,
                "event": self.name,
                "at": self.at.isoformat(timespec="seconds"),
                "fields": fields,
            },
        )


def _scrub_value(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _scrub_value(v, scrub) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub_value(v, scrub) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return scrub(str(value))


def channels_for(
    settings: NotifySettings,
    *,
    extra: Iterable[str] = (),
    extra_imessage: Iterable[str] = (),
    extra_webhook: Iterable[str] = (),
    transport: httpx.AsyncBaseTransport | None = None,
    runner: Runner | None = None,
) -> list[Channel]:
    """Channels of ``settings`` plus ``--notify`` URLs (an ``http(s)://`` one is a JSON
    webhook, anything else an Apprise URL), duplicates dropped."""
    apprise, webhooks = list(settings.apprise), list(settings.webhook) + list(extra_webhook)
    for url in extra:
        (webhooks if url.strip().lower().startswith(("http://", "https://")) else apprise).append(
            url
        )
    seen: set[str] = set()

    def fresh(url: str) -> bool:
        url = url.strip()
        if not url or url in seen:
            return False
        seen.add(url)
        return True

    out: list[Channel] = []
    out.extend(AppriseChannel(u.strip()) for u in apprise if fresh(u))
    imessage = list(settings.imessage) + list(extra_imessage)
    out.extend(IMessageChannel(n.strip(), runner=runner) for n in imessage if fresh(n))
    out.extend(WebhookChannel(u.strip(), transport=transport) for u in webhooks if fresh(u))
    return out


class Announcer:
    """Sends job events to the channels: filtered by kind, retried, redacted, in the background.

    ``report`` (optional) is called with each final channel result — the CLI prints them.
    """

    def __init__(
        self,
        channels: Iterable[Channel] | Notifier | None = None,
        *,
        on: Iterable[str] = DEFAULT_ON,
        retry_delays: Sequence[float] | None = None,
        secrets: Iterable[str] = (),
        report: Callable[[Event, ChannelResult], None] | None = None,
    ) -> None:
        if isinstance(channels, Notifier):
            channels = channels.channels
        self.channels: list[Channel] = list(channels or ())
        self.on = frozenset(on)
        self.retry_delays = list(
            pacing.notify_retry_delays() if retry_delays is None else retry_delays
        )
        self._secrets = {s for s in secrets if len(s) >= MIN_SECRET}
        self.report = report
        self.sent: list[tuple[Event, ChannelResult]] = []
        self.failures: list[tuple[Event, ChannelResult]] = []
        self.skipped: list[Event] = []
        self._tasks: set[asyncio.Task[list[ChannelResult]]] = set()

    @classmethod
    def from_settings(
        cls,
        settings: NotifySettings,
        *,
        extra: Iterable[str] = (),
        extra_imessage: Iterable[str] = (),
        extra_webhook: Iterable[str] = (),
        transport: httpx.AsyncBaseTransport | None = None,
        secrets: Iterable[str] = (),
        report: Callable[[Event, ChannelResult], None] | None = None,
    ) -> Announcer:
        """Channels and ``on`` from the (merged) ``[notify]`` settings plus ``--notify`` URLs."""
        return cls(
            channels_for(
                settings,
                extra=extra,
                extra_imessage=extra_imessage,
                extra_webhook=extra_webhook,
                transport=transport,
            ),
            on=settings.on,
            retry_delays=pacing.notify_retry_delays(settings.retries),
            secrets=secrets,
            report=report,
        )

    def __bool__(self) -> bool:
        return bool(self.channels)

    def add_secrets(self, values: Iterable[str]) -> None:
        """More values never to send (e.g. the cookie values of a session)."""
        self._secrets.update(v for v in values if len(v) >= MIN_SECRET)

    def wants(self, kind: str) -> bool:
        """Whether events of ``kind`` are sent."""
        return kind in self.on or kind in ALWAYS_SENT

    def scrub(self, text: str) -> str:
        """``text`` with secrets, cookie/authorization values and the extra secrets masked."""
        text = mask_header_values(redact_text(text))
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        return text

    async def _deliver(self, channel: Channel, message: Notification) -> ChannelResult:
        name = getattr(channel, "name", "channel")
        attempt = 0
        while True:
            try:
                result = await channel.send(message)
            except Exception as exc:  # a channel broke its promise not to raise
                result = ChannelResult(name, False, map_exception(exc, context=name).one_line())
            if result.ok or attempt >= len(self.retry_delays):
                if not result.ok and attempt:
                    result = ChannelResult(
                        result.channel,
                        False,
                        f"{result.detail} (after {attempt + 1} attempts)",
                    )
                return result
            delay = self.retry_delays[attempt]
            attempt += 1
            log.warning(
                "notification failed, retrying",
                channel=result.channel,
                detail=result.detail,
                retry_in_s=delay,
            )
            await pacing.sleep(delay)

    async def send(self, event: Event) -> list[ChannelResult]:
        """Send ``event`` now on every channel (if its kind is wanted); results in order."""
        if not self.wants(event.kind):
            self.skipped.append(event)
            return []
        if not self.channels:
            return []
        message = event.notification(self.scrub)
        results = list(await asyncio.gather(*(self._deliver(c, message) for c in self.channels)))
        for result in results:
            if result.ok:
                self.sent.append((event, result))
                log.info("notification sent", job_event=event.name, channel=result.channel)
            else:
                self.failures.append((event, result))
                log.error(
                    "notification failed",
                    job_event=event.name,
                    channel=result.channel,
                    detail=result.detail,
                )
            if self.report is not None:
                self.report(event, result)
        return results

    def soon(self, event: Event) -> None:
        """Send ``event`` in the background (the caller never waits); :meth:`drain` at the end.

        Needs a running event loop.
        """
        if not self.wants(event.kind):
            self.skipped.append(event)
            return
        if not self.channels:
            return
        task = asyncio.get_running_loop().create_task(self.send(event))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the background sends still in flight (at most ``timeout`` s)."""
        if not self._tasks:
            return
        pending = list(self._tasks)
        done, still = await asyncio.wait(pending, timeout=timeout)
        for task in still:
            task.cancel()
        for task in done:
            if not task.cancelled() and task.exception() is not None:
                log.error("notification task crashed", error=repr(task.exception()))


class Throttle:
    """At most one message per ``period`` seconds (e.g. "listings filtered out": once an hour)."""

    def __init__(self, period: float, *, clock: Callable[[], float] | None = None) -> None:
        import time

        self.period = period
        self._clock = clock or time.monotonic
        self._last: float | None = None

    def allow(self) -> bool:
        """True (and the period starts again) when a message may go out now."""
        now = self._clock()
        if pacing.quiet_period_over(self._last, now, self.period):
            self._last = now
            return True
        return False
