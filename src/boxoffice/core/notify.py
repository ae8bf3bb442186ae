"""Notifications (CONTRACT — being implemented).

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
"""

from __future__ import annotations
