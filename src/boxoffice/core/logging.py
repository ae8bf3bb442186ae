"""Logging: structlog to a rich console for people, JSON lines for machines; secrets never rendered.

Call :func:`configure` once (the CLI does). :func:`add_secrets` registers values (passwords,
tokens, cookie values) that are replaced by ``***`` in every rendered event, whichever field
they hide in — nested in dicts or lists, in an exception's traceback, or in a line logged by a
third-party library through the standard :mod:`logging` module (also routed here).
"""

from __future__ import annotations

import json as _json
import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

_SECRETS: set[str] = set()
REDACTED = "***"
MIN_SECRET_LENGTH = 4

_HANDLER_NAME = "boxoffice"
_json_mode = False


def json_mode() -> bool:
    """Whether :func:`configure` last chose JSON lines (the CLI then reports errors as JSON)."""
    return _json_mode


def add_secrets(values: Iterable[str]) -> None:
    """Register values to redact from every log line (values shorter than 4 are ignored)."""
    for value in values:
        if not value or len(value) < MIN_SECRET_LENGTH:
            continue
        _SECRETS.add(value)
        escaped = _json.dumps(value)[1:-1]  # how it looks inside a JSON string
        if escaped != value:
            _SECRETS.add(escaped)


def clear_secrets() -> None:
    """Forget every registered secret (tests)."""
    _SECRETS.clear()


def redact_text(text: str) -> str:
    """Replace every registered secret in ``text``."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def shorten(value: str, keep: int = 6) -> str:
    """A session id or token as logs show it: the first characters and an ellipsis."""
    return value if len(value) <= keep else value[:keep] + "…"


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {_redact_value(k): _redact_value(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_redact_value(v) for v in value)
    if isinstance(value, list | set | frozenset):
        return [_redact_value(v) for v in value]
    if isinstance(value, BaseException):
        return value  # rendered (and redacted) as text by the renderer wrapper
    text = str(value)
    red = redact_text(text)
    return red if red != text else value


def _redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    if not _SECRETS:
        return event
    for key, value in list(event.items()):
        event[key] = _redact_value(value)
    return event


class _RedactingRenderer:
    """Wrap a renderer: whatever it produced (tracebacks included) is redacted as text."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, logger: Any, name: str, event: MutableMapping[str, Any]) -> str:
        rendered = self.inner(logger, name, event)
        text = rendered if isinstance(rendered, str) else str(rendered)
        return redact_text(text) if _SECRETS else text


class _CurrentStderr:
    """Writes to whatever ``sys.stderr`` is *now* (test runners swap it between tests)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _level(verbosity: int) -> int:
    return logging.DEBUG if verbosity > 0 else logging.WARNING if verbosity < 0 else logging.INFO


def configure(*, json: bool = False, verbosity: int = 0, stream: Any = None) -> None:
    """Set up structlog (and route the standard ``logging`` module through it).

    ``verbosity``: -1 quiet (warnings and errors), 0 info, 1 debug for boxoffice, 2+ debug for
    third-party libraries too. ``json`` renders one JSON object per line.
    """
    global _json_mode
    _json_mode = json
    level = _level(verbosity)
    out: Any = stream if stream is not None else _CurrentStderr()
    inner: Any
    if json:
        inner = structlog.processors.JSONRenderer()
        exc_processors: list[Any] = [structlog.processors.format_exc_info]
    else:
        colors = bool(getattr(out, "isatty", lambda: False)())
        inner = structlog.dev.ConsoleRenderer(colors=colors)
        exc_processors = []
    renderer = _RedactingRenderer(inner)
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, *exc_processors, _redact, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    # third-party libraries (httpx, hypercorn, apprise) log through the stdlib: same output
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exc_processors,
            _redact,
            renderer,
        ],
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(formatter)
    root.addHandler(handler)
    root.setLevel(level if verbosity > 1 else max(level, logging.WARNING))


def get_logger(name: str) -> Any:
    """A bound structlog logger named after the module using it."""
    return structlog.get_logger(name)
