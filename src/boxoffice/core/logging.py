"""Logging: structlog to a rich console for people, JSON lines for machines; secrets never rendered.

Call :func:`configure` once (the CLI does). :func:`add_secrets` registers values (passwords,
tokens, cookie values) that are replaced by ``***`` in every rendered event, whichever field
they hide in.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

_SECRETS: set[str] = set()
REDACTED = "***"


def add_secrets(values: Iterable[str]) -> None:
    """Register values to redact from every log line (short values are ignored: too noisy)."""
    _SECRETS.update(v for v in values if v and len(v) >= 4)


def redact_text(text: str) -> str:
    """Replace every registered secret in ``text``."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def shorten(value: str, keep: int = 6) -> str:
    """A session id or token as logs show it: the first characters and an ellipsis."""
    return value if len(value) <= keep else value[:keep] + "…"


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if not _SECRETS:
        return event
    for key, value in list(event.items()):
        if isinstance(value, str):
            event[key] = redact_text(value)
        elif value is not None and not isinstance(value, int | float | bool):
            text = str(value)
            red = redact_text(text)
            if red != text:
                event[key] = red
    return event


def configure(*, json: bool = False, verbosity: int = 0, stream: Any = None) -> None:
    """Set up structlog. verbosity: -1 quiet (warnings+), 0 info, 1+ debug."""
    level = logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO
    renderer: Any
    if json:
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            _redact,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> Any:
    """A bound structlog logger named after the module using it."""
    return structlog.get_logger(name)
