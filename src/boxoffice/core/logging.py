"""Logging: structlog to a rich console for people, JSON lines for machines; secrets never rendered.

Call :func:`configure` once (the CLI does). :func:`add_secrets` registers values (passwords,
tokens, cookie values) that are replaced by ``***`` in every rendered event, whichever field
they hide in — nested in dicts or lists, in an exception's traceback, or in a line logged by a
third-party library through the standard :mod:`logging` module (also routed here).

Lines from third-party libraries also have the values of secret-bearing HTTP headers (cookies,
``Set-Cookie``, authorization, session and CSRF tokens) masked — httpcore's debug lines print
response headers — and HTTP/2's hpack/h2 debug output is never shown. :func:`redact_url` is
how a URL is shown anywhere (password, query and fragment removed).

structlog (and the rich traceback and pretty-printing machinery it brings) loads with the
first record that is to be shown: a run whose log level hides everything it logs — a watch on
the console, at the default level — never imports it. :func:`get_logger`'s loggers drop what
the configured level hides before that; from the first record shown on, structlog renders.
"""

from __future__ import annotations

import ipaddress
import json as _json
import logging
import re
import sys
import urllib.parse
from collections.abc import Iterable, MutableMapping
from typing import Any

_SECRETS: set[str] = set()
REDACTED = "***"
MIN_SECRET_LENGTH = 4

_HANDLER_NAME = "boxoffice"
_json_mode = False
#: the configuration :func:`configure` chose and structlog has not been given yet
_pending: dict[str, Any] | None = None
#: below it a record is dropped without loading structlog (NOTSET: never configured)
_min_level = logging.NOTSET
_stdlib_formatter: logging.Formatter | None = None


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


#: Words of boxoffice's own messages and hints that people also pick as (weak) passwords.
#: Where such a secret stands as a word of prose it is the word, not the secret, and masking
#: it would garble the message ("username or *** refused").
UI_WORDS = frozenset(
    {"password", "passwort", "secret", "admin", "user", "username", "login", "test", "token"}
)
_PROSE_BEFORE = " \t\n(«“"
_PROSE_AFTER = " \t\n.,;!?)»”—"


def redact_text(text: str) -> str:
    """Replace every registered secret in ``text``.

    A secret that is one of :data:`UI_WORDS` (say the password is ``password``) is left alone
    where it stands as a word of prose between spaces or punctuation, so "username or password
    refused" stays readable; everywhere else (``password=…``, inside quotes, JSON, URLs, glued
    to other characters) it is replaced like any secret.
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret not in text:
            continue
        if secret.lower() in UI_WORDS:
            text = _redact_word(text, secret)
        else:
            text = text.replace(secret, REDACTED)
    return text


def _redact_word(text: str, secret: str) -> str:
    out: list[str] = []
    pos = 0
    while (found := text.find(secret, pos)) >= 0:
        end = found + len(secret)
        prev = text[found - 1] if found else " "
        nxt = text[end] if end < len(text) else " "
        prose = prev in _PROSE_BEFORE and nxt in _PROSE_AFTER
        out.append(text[pos:found])
        out.append(secret if prose else REDACTED)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def shorten(value: str, keep: int = 6) -> str:
    """A session id or token as logs show it: the first characters and an ellipsis."""
    return value if len(value) <= keep else value[:keep] + "…"


# --- URLs --------------------------------------------------------------------------------------

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")


def _looks_like_hostname(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "." in host and re.fullmatch(r"[A-Za-z0-9.-]+", host) is not None
    return True


def _host_port(netloc: str) -> tuple[str, int | None]:
    hostport = netloc.rpartition("@")[2]
    try:
        parsed = urllib.parse.urlsplit(f"http://{hostport}")
        return parsed.hostname or "", parsed.port
    except ValueError:  # "bot123:ABC" is no host:port
        return hostport, None


def redact_url(url: str, *, host_only: bool = False) -> str:
    """A URL fit for logs, errors and reports: ``scheme://user:***@host:port/path``.

    The password becomes ``***``; the query and fragment (where tokens travel) are dropped.
    Anything that is not ``scheme://…`` is shown as ``<url>``.

    ``host_only`` (notification channels, whose user, path or even "host" may be the secret,
    e.g. a Slack webhook path, ``tgram://bot-token/…``): only ``scheme://host[:port]``, plus
    ``/…`` when more followed; a "host" that is not a hostname (``ntfy://topic``) is cut to
    its first three characters.
    """
    scheme, sep, rest = url.partition("://")
    if not sep or not _SCHEME.fullmatch(scheme):
        return "<url>"
    userinfo, hostport, tail = split_authority(rest)
    if host_only:
        more = tail not in ("", "/")
        host, port = _host_port(hostport)
        if not _looks_like_hostname(host):
            host, port = host[:3] + "…", None
            more = True
        shown = f"[{host}]" if ":" in host else host
        if port is not None:
            shown += f":{port}"
        return f"{scheme.lower()}://{shown}" + ("/…" if more else "")
    if userinfo is not None:
        user, colon, _ = userinfo.partition(":")
        if any(c in user for c in "/?#@[]"):  # no plain user name: the whole part is masked
            hostport = f"{REDACTED}@{hostport}"
        else:
            hostport = f"{user}:{REDACTED}@{hostport}" if colon else f"{user}@{hostport}"
    path = re.split(r"[?#]", tail, maxsplit=1)[0]
    return f"{scheme.lower()}://{hostport}{path}"


_HOST_THEN_END = re.compile(r"(?:\[[0-9A-Fa-f:.]*\]|[^:/?#@\[\]\s]+)(?::\d*)?(?=[/?#]|$)")


def split_authority(rest: str) -> tuple[str | None, str, str]:
    """``user:password@host:port/path…`` (what follows ``scheme://``) → (userinfo, host:port, rest).

    A password that is not percent-encoded may hold ``@``, ``/``, ``?`` or ``#``; the credential
    part then runs to the *last* ``@`` that is followed by a host[:port] and the end of the
    authority, so none of it is mistaken for the host or path (and shown).
    """
    netloc = re.split(r"[/?#]", rest, maxsplit=1)[0]
    _, at, hostport = netloc.rpartition("@")
    port = hostport.rpartition("]")[2].partition(":")[2] if ":" in hostport else ""
    if not at and (not port or port.isdigit()):
        return None, netloc, rest[len(netloc) :]
    for match in reversed(list(re.finditer("@", rest))):
        after = rest[match.end() :]
        host = _HOST_THEN_END.match(after)
        if host:
            return rest[: match.start()], host.group(0), after[host.end() :]
    if not at:
        return None, netloc, rest[len(netloc) :]
    userinfo, _, hostport = netloc.rpartition("@")
    return userinfo, hostport, rest[len(netloc) :]


def url_password(url: str) -> str | None:
    """The password of ``scheme://user:password@host…`` as written (for redaction), or None."""
    _, sep, rest = url.partition("://")
    if not sep:
        return None
    userinfo, _, _ = split_authority(rest)
    if userinfo is None or ":" not in userinfo:
        return None
    return userinfo.partition(":")[2] or None


def unencoded_password_chars(url: str) -> str:
    """Characters of the URL's credential part that must be percent-encoded but are not."""
    _, sep, rest = url.partition("://")
    if not sep:
        return ""
    userinfo, _, _ = split_authority(rest)
    if userinfo is None:
        return ""
    return "".join(sorted({c for c in userinfo if c in "@/?#[]"}))


# --- HTTP headers in third-party lines ---------------------------------------------------------

_SECRET_HEADER_NAMES = (
    r"(?:proxy-)?authorization|(?:set-)?cookie2?|x-booked-sessiontoken|x-api-key"
    r"|[a-z0-9_-]*(?:csrf|xsrf)[a-z0-9_-]*"
)
_HEADER_HINT = re.compile(r"authorization|cookie|sessiontoken|api-key|csrf|xsrf", re.IGNORECASE)
# ('set-cookie', 'v') / (b'Set-Cookie', b'v') / {'cookie': 'v'}: Python reprs of header pairs
_QUOTED_HEADER = re.compile(
    rf"""(?P<head>(?<![\w-])b?(?P<q1>['"])(?:{_SECRET_HEADER_NAMES})(?P=q1)\s*[,:]\s*"""
    r"""b?(?P<q2>['"]))(?:\\.|(?!(?P=q2)).)*(?P=q2)""",
    re.IGNORECASE,
)
# "Set-Cookie: v" (a header line as text): the value runs to the end of the line
_TEXT_HEADER = re.compile(
    rf"(?P<head>(?<![\w'\"-])(?:{_SECRET_HEADER_NAMES})[ \t]*:[ \t]*)[^\r\n]+",
    re.IGNORECASE,
)
_QUIET_LIBRARIES = ("hpack", "h2")  # their debug lines are (decoded) header blocks


def mask_header_values(text: str) -> str:
    """``text`` with the values of secret-bearing HTTP headers replaced by ``***``.

    Understands header pairs as Python prints them (``(b'set-cookie', b'…')``,
    ``{'Cookie': '…'}``) and header lines (``Authorization: Bearer …``); the header names stay.
    """
    if not _HEADER_HINT.search(text):
        return text
    text = _QUOTED_HEADER.sub(lambda m: f"{m['head']}{REDACTED}{m['q2']}", text)
    return _TEXT_HEADER.sub(lambda m: f"{m['head']}{REDACTED}", text)


class _HeaderValueFilter(logging.Filter):
    """Masks secret header values in a stdlib record's message (it is formatted here once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the formatter's problem, not ours
            return True
        masked = mask_header_values(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


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


def _steps(verbosity: int, *, json: bool) -> int:
    """Log detail: <0 warnings and errors, 0 info, 1 debug, 2+ third-party debug too.

    On the console the jobs print their own human lines, so log records join them only from
    ``-v`` on; JSON lines are for machines and carry info records by default."""
    if verbosity < 0:
        return -1
    return verbosity if json else verbosity - 1


def _level(steps: int) -> int:
    return logging.DEBUG if steps > 0 else logging.WARNING if steps < 0 else logging.INFO


def configure(*, json: bool = False, verbosity: int = 0, stream: Any = None) -> None:
    """Set up structlog (and route the standard ``logging`` module through it).

    ``verbosity`` (``-q`` is -1, each ``-v`` adds one): on the console 0 shows warnings and
    errors only (the jobs print their own lines), 1 info, 2 debug for boxoffice, 3+ debug for
    third-party libraries too. ``json`` renders one JSON object per line, with info records
    already at 0 (1 debug, 2+ third-party debug); -1 is warnings and errors in both.

    structlog itself is given this configuration with the first record to show (at once when
    it is loaded already).
    """
    global _json_mode, _pending, _min_level
    _json_mode = json
    steps = _steps(verbosity, json=json)
    level = _level(steps)
    out: Any = stream if stream is not None else _CurrentStderr()
    _min_level = level
    _pending = {"json": json, "level": level, "out": out}
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _HANDLER_NAME:
            root.removeHandler(handler)
    handler = logging.StreamHandler(out)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_HeaderValueFilter())
    handler.setFormatter(_DeferredFormatter())
    root.addHandler(handler)
    root_level = level if steps > 1 else max(level, logging.WARNING)
    root.setLevel(root_level)
    for name in _QUIET_LIBRARIES:  # never their debug lines, even with -vv
        logging.getLogger(name).setLevel(max(root_level, logging.INFO))
    if "structlog" in sys.modules:
        _structlog()


def _structlog() -> Any:
    """structlog, given the pending configuration (if any) on first use."""
    global _pending, _stdlib_formatter
    import structlog

    if _pending is not None:
        chosen, _pending = _pending, None
        _stdlib_formatter = _configure_structlog(structlog, **chosen)
    return structlog


def _configure_structlog(structlog: Any, *, json: bool, level: int, out: Any) -> logging.Formatter:
    """Give structlog its processors; returns the formatter for standard ``logging`` records
    (third-party libraries: httpx, hypercorn, apprise) — the same output."""
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
    formatter: logging.Formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *exc_processors,
            _redact,
            renderer,
        ],
    )
    return formatter


class _DeferredFormatter(logging.Formatter):
    """Formats a standard ``logging`` record with structlog's formatter, loaded for the first
    record that reaches the handler."""

    def format(self, record: logging.LogRecord) -> str:
        _structlog()
        if _stdlib_formatter is None:  # structlog was configured by someone else
            return super().format(record)
        return _stdlib_formatter.format(record)


class _Logger:
    """A module's logger: a record the configured level hides is dropped here (structlog
    stays unloaded); any other goes to structlog's logger of that name."""

    __slots__ = ("_name", "_proxy")

    def __init__(self, name: str) -> None:
        self._name = name
        self._proxy: Any = None  # structlog's lazy proxy: it reads the configuration per call

    def _real(self) -> Any:
        structlog = _structlog()  # a configure() since the last record applies first
        if self._proxy is None:
            self._proxy = structlog.get_logger(self._name)
        return self._proxy

    def _emit(self, level: int, method: str, event: Any, *args: Any, **kw: Any) -> Any:
        if level < _min_level and _pending is not None:
            return None
        return getattr(self._real(), method)(event, *args, **kw)

    def debug(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.DEBUG, "debug", event, *args, **kw)

    def info(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.INFO, "info", event, *args, **kw)

    def warning(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.WARNING, "warning", event, *args, **kw)

    warn = warning

    def error(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.ERROR, "error", event, *args, **kw)

    def exception(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.ERROR, "exception", event, *args, **kw)

    def critical(self, event: Any = None, *args: Any, **kw: Any) -> Any:
        return self._emit(logging.CRITICAL, "critical", event, *args, **kw)

    def __getattr__(self, name: str) -> Any:  # bind(), log(), …: structlog's own
        return getattr(self._real(), name)


def get_logger(name: str) -> Any:
    """A logger named after the module using it (structlog's, once a record is to be shown:
    see :class:`_Logger`)."""
    return _Logger(name)
