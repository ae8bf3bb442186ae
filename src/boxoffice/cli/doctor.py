"""`boxoffice doctor`: check config, state dir, browser, notification channels, database.

Every check is real (the browser is launched headless, the database is connected to) and ends
as one :class:`Check` row; nothing here raises for a failed check. Exit code 1 when a
*required* check fails (config, state dir, and the database when ``db_url`` is set: a
configured database that cannot be used is broken set-up); the others are reported but
optional, because each job needs only some of them.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.markup import escape
from rich.table import Table

from boxoffice.cli.context import get_ctx
from boxoffice.core import state
from boxoffice.errors import BoxofficeError, map_exception

if TYPE_CHECKING:  # pydantic-settings and structlog load when the checks run, not for --help
    from boxoffice.settings import Settings

DB_CONNECT_TIMEOUT = 3
BROWSER_TIMEOUT = 30.0
TEST_PAGE = "data:text/html,<title>boxoffice doctor</title><p>ok</p>"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    ok: bool
    detail: str
    required: bool = False
    configured: bool = True  # False: nothing to check (e.g. no channel set) — neither ✓ nor ✗

    @property
    def status(self) -> str:
        """``ok``, ``failed`` or ``not configured`` (what the table's mark and the JSON say)."""
        if not self.configured:
            return "not configured"
        return "ok" if self.ok else "failed"


def _one_line(text: str) -> str:
    """Multi-line messages (one line per bad setting) folded into one: ``head: a; b``."""
    from boxoffice.core.logging import redact_text

    parts = [p.strip() for p in text.strip().splitlines() if p.strip()]
    if len(parts) > 1 and parts[0].endswith(":"):
        return redact_text(parts[0] + " " + "; ".join(parts[1:]))
    return redact_text("; ".join(parts))


def _error_text(exc: BaseException) -> str:
    mapped = map_exception(exc)
    return _one_line(mapped.one_line())


# --- checks ----------------------------------------------------------------------------------


def config_path(explicit: Path | None) -> Path:
    """The TOML file settings come from: ``--config``, env ``BOXOFFICE_CONFIG``, or default."""
    from boxoffice.core.config import CONFIG_ENV, default_config_path

    if explicit is not None:
        return explicit
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else default_config_path()


def check_config(load: Callable[[], Settings], path: Path) -> tuple[Check, Settings]:
    """Load the settings; a broken config is a failed check (defaults used for the rest)."""
    from boxoffice.settings import Settings

    try:
        settings = load()
    except BoxofficeError as exc:
        fallback = Settings.model_construct()  # defaults only: the remaining checks use them
        return Check("config", False, _one_line(exc.one_line()), True), fallback
    where = f"from {path}" if path.is_file() else f"no config file at {path} (defaults, env)"
    return Check("config", True, f"settings valid; {where}", True), settings


def check_dir(
    name: str, make: Callable[[Path | None], Path], configured: Path | None, required: bool
) -> Check:
    """The directory can be created, and a private file written to it and removed."""
    try:
        path = make(configured)
        probe = path / f".doctor-{uuid.uuid4().hex}"
        state.write_private(probe, b"ok")
        probe.unlink()
    except (BoxofficeError, OSError) as exc:
        return Check(name, False, _error_text(exc), required)
    return Check(name, True, f"{path} is writable", required)


def check_browser(settings: Settings) -> list[Check]:
    """Find Chromium/Chrome and launch it headless on a tiny local page; probe a CDP URL."""
    checks = _check_local_browser(settings)
    if settings.browser.cdp_url:
        checks.append(check_cdp(settings.browser.cdp_url))
    return checks


def _check_local_browser(settings: Settings) -> list[Check]:
    import asyncio

    from boxoffice.core.browser import find_browser, handoff

    try:
        path = find_browser(settings.browser.executable)
    except BoxofficeError as exc:
        return [Check("browser", False, _one_line(exc.one_line()))]
    checks = [Check("browser", True, f"found {path}")]
    try:
        result = asyncio.run(
            handoff(
                [],
                TEST_PAGE,
                executable=path,
                headless=True,
                keep_open=False,
                fallback=False,
                timeout=BROWSER_TIMEOUT,
            )
        )
    except Exception as exc:
        checks.append(Check("browser launch", False, _error_text(exc)))
        return checks
    if result.ok:
        detail = f"headless launch loaded a page ({result.title!r})"
        checks.append(Check("browser launch", True, detail))
    else:
        checks.append(Check("browser launch", False, _one_line(result.detail)))
    return checks


def check_cdp(cdp_url: str) -> Check:
    """A configured CDP endpoint answers /json/version (nothing is opened in the browser)."""
    import httpx

    from boxoffice.core.logging import redact_url

    base = cdp_url if "://" in cdp_url else f"http://{cdp_url}"
    try:
        response = httpx.get(base.rstrip("/") + "/json/version", timeout=3)
        response.raise_for_status()
        browser = response.json().get("Browser", "a browser")
    except Exception as exc:
        return Check("browser CDP", False, f"{redact_url(base)}: {_error_text(exc)}")
    return Check("browser CDP", True, f"{redact_url(base)} answers ({browser})")


def check_notify(settings: Settings, *, send_test: bool) -> list[Check]:
    """Validate each configured channel; with ``send_test``, send it a test message."""
    from boxoffice.core.logging import redact_url

    channels: list[tuple[str, str, Any]] = []
    apprise, imessage, webhook = _configured_channels(settings)
    for url in apprise:
        channels.append(("apprise", redact_url(url, host_only=True), url))
    for number in imessage:
        channels.append(("imessage", number, number))
    for url in webhook:
        channels.append(("webhook", redact_url(url, host_only=True), url))
    if not channels:
        return [
            Check("notify", True, "no channel configured (settings [notify])", configured=False)
        ]
    checks: list[Check] = []
    for kind, shown, target in channels:
        name = f"notify {kind} {shown}"
        problem = _validate_channel(kind, target)
        if problem:
            checks.append(Check(name, False, problem))
        elif send_test:
            checks.append(_send_test(name, kind, target))
        else:
            checks.append(Check(name, True, "valid (use --send-test to send a test message)"))
    return checks


def _job_overrides(settings: Settings) -> list[tuple[str, Any]]:
    """(label, NotifyOverride) of every job's and every watch's own ``notify`` table."""
    out: list[tuple[str, Any]] = []
    for job in ("watch", "book", "sync", "track"):
        override = getattr(getattr(settings, job), "notify", None)
        if override is not None:
            out.append((job, override))
    for entry in settings.watch.watches:
        if entry.notify is not None:
            out.append((f"watch {entry.name or entry.event}", entry.notify))
    return out


def _configured_channels(settings: Settings) -> tuple[list[str], list[str], list[str]]:
    """Apprise URLs, iMessage numbers and webhooks of ``[notify]`` and every job's table."""
    lists: tuple[list[str], list[str], list[str]] = (
        list(settings.notify.apprise),
        list(settings.notify.imessage),
        list(settings.notify.webhook),
    )
    for _, override in _job_overrides(settings):
        for target, extra in zip(
            lists, (override.apprise, override.imessage, override.webhook), strict=True
        ):
            target.extend(v for v in extra or () if v not in target)
    return lists


def check_heartbeats(settings: Settings, *, send_test: bool) -> list[Check]:
    """Each job's heartbeat URL is well formed; with ``send_test``, it gets one ping."""
    import asyncio

    from boxoffice.core.heartbeat import Heartbeat
    from boxoffice.core.logging import redact_url

    urls = [(label, o.heartbeat) for label, o in _job_overrides(settings) if o.heartbeat]
    if not urls:
        return []  # nothing to check (a --heartbeat flag is checked by its run)
    checks: list[Check] = []
    for label, url in urls:
        name = f"heartbeat {label} {redact_url(url, host_only=True)}"
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            checks.append(Check(name, False, "not an http(s) URL"))
            continue
        if not send_test:
            checks.append(Check(name, True, "valid (use --send-test to ping it)"))
            continue
        heartbeat = Heartbeat(url, timeout=5.0)

        async def ping(hb: Heartbeat = heartbeat) -> Any:
            return await hb.success("boxoffice doctor --send-test")

        result = asyncio.run(ping())
        checks.append(Check(name, result.ok, f"ping: {result.detail}"))
    return checks


def _validate_channel(kind: str, target: str) -> str | None:
    from boxoffice.core import notify

    if kind == "apprise":
        try:
            notify.AppriseChannel(target)  # parses the URL (and registers its secrets)
        except BoxofficeError as exc:
            return _one_line(exc.one_line())
        return None
    if kind == "webhook":
        notify.WebhookChannel(target)  # registers the URL's secrets for redaction
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            return "not an http(s) URL"
        return None
    if kind == "imessage":
        if sys.platform != "darwin":
            return "iMessage needs macOS (osascript); this machine is " + sys.platform
        if shutil.which("osascript") is None:
            return "osascript not found"
        return None
    return f"unknown channel kind {kind}"


def _send_test(name: str, kind: str, target: str) -> Check:
    import asyncio

    from boxoffice.core import notify

    channel: Any
    if kind == "apprise":
        channel = notify.AppriseChannel(target)
    elif kind == "imessage":
        channel = notify.IMessageChannel(target)
    else:
        channel = notify.WebhookChannel(target)
    message = notify.Notification(
        title="boxoffice doctor", body="Test message from `boxoffice doctor --send-test`."
    )
    try:
        result = asyncio.run(channel.send(message))
    except Exception as exc:
        return Check(name, False, _error_text(exc))
    return Check(name, bool(result.ok), _one_line(result.detail or ("sent" if result.ok else "")))


def check_database(settings: Settings) -> Check:
    """Connect to the configured PostgreSQL URL (short timeout) and ask its version.

    Required once ``db_url`` is set (track would fail on it); optional (and fine) without.
    """
    from boxoffice.core.logging import redact_url

    if settings.db_url is None or not settings.db_url.get_secret_value():
        return Check("database", True, "no PostgreSQL URL configured (track uses SQLite)")
    url = settings.db_url.get_secret_value()
    shown = redact_url(url)
    if url.partition("://")[0].lower() not in ("postgresql", "postgres"):
        return Check("database", False, f"{shown}: not a postgresql:// URL", True)
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=DB_CONNECT_TIMEOUT) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except Exception as exc:
        return Check("database", False, f"{shown}: {_error_text(exc)}", True)
    version = row[0] if row else "?"
    return Check("database", True, f"{shown} reachable (PostgreSQL {version})", True)


def check_timescale(settings: Settings) -> list[Check]:
    """TimescaleDB on the configured PostgreSQL: the extension, the store's shape, and
    failed background jobs (with what to do). Nothing when no PostgreSQL URL is set."""
    if settings.db_url is None or not settings.db_url.get_secret_value():
        return []
    url = settings.db_url.get_secret_value()
    if url.partition("://")[0].lower() not in ("postgresql", "postgres"):
        return []
    import psycopg

    from boxoffice.jobs.track.store import timescale

    try:
        with psycopg.connect(url, connect_timeout=DB_CONNECT_TIMEOUT) as conn:
            with conn.cursor() as cur:
                status = timescale.detect(cur)
            row = conn.execute("SHOW server_version").fetchone()
    except Exception as exc:  # the database check above already says why
        return [Check("timescaledb", False, _error_text(exc))]
    server = str(row[0]).split()[0] if row else "?"
    if status.installed is None:
        if status.available is None:
            return [
                Check(
                    "timescaledb",
                    True,
                    "not on this server (plain PostgreSQL is used)",
                    configured=False,
                )
            ]
        if not status.preloaded:
            return [
                Check(
                    "timescaledb",
                    False,
                    f"{status.available} available but not preloaded: {timescale.PRELOAD_HINT}",
                )
            ]
        return [
            Check(
                "timescaledb",
                True,
                f"{status.available} available; `boxoffice track init-db` creates it",
            )
        ]
    if not status.preloaded:
        return [
            Check(
                "timescaledb",
                False,
                f"{status.installed} installed but not preloaded: {timescale.PRELOAD_HINT}",
                True,
            )
        ]
    checks = [Check("timescaledb", True, status.summary())]
    if status.old_key:
        checks.append(
            Check(
                "timescaledb layout",
                False,
                f"older listings layout: {status.old_key} "
                "(imports slower; see `boxoffice track init-db`)",
            )
        )
    if status.failed_jobs:
        jobs = ", ".join(f"{j.proc} job {j.job_id}" for j in status.failed_jobs)
        calls = " ".join(f"CALL run_job({j.job_id});" for j in status.failed_jobs)
        why = (
            f"PostgreSQL {server} has an upstream TimescaleDB bug that makes every background "
            "job end Failed ('cannot drop portal'), usually after the policy did its work; "
            if server == "15.20"
            else ""
        )
        checks.append(
            Check(
                "timescaledb jobs",
                False,
                f"{len(status.failed_jobs)} background job(s) failed last time ({jobs}): {why}"
                f"run them by hand with psql: {calls} — and see "
                "timescaledb_information.job_errors",
            )
        )
    else:
        checks.append(Check("timescaledb jobs", True, "no failed background jobs"))
    return checks


def run_checks(
    load: Callable[[], Settings], *, config_file: Path | None = None, send_test: bool = False
) -> list[Check]:
    """Every check, in report order."""
    config, settings = check_config(load, config_path(config_file))
    checks = [
        config,
        check_dir("state dir", state.state_dir, settings.state_dir, True),
        check_dir("data dir", state.data_dir, settings.data_dir, False),
    ]
    checks.extend(check_browser(settings))
    checks.extend(check_notify(settings, send_test=send_test))
    checks.extend(check_heartbeats(settings, send_test=send_test))
    checks.append(check_database(settings))
    checks.extend(check_timescale(settings))
    return checks


# --- command ---------------------------------------------------------------------------------


def doctor(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a JSON list of {name, ok, detail, required}.")
    ] = False,
    send_test: Annotated[
        bool,
        typer.Option(
            "--send-test",
            help="Send a test message to each notification channel and ping each heartbeat URL.",
        ),
    ] = False,
) -> None:
    """Check this machine's set-up: config, state dir, browser, notifications, database.

    Exit code 1 when a required check fails: config, state dir, and the database when
    ``db_url`` is set.

    Example: boxoffice doctor --json --send-test
    """
    from boxoffice.core.logging import get_logger

    app_ctx = get_ctx(ctx)
    checks = run_checks(app_ctx.settings, config_file=app_ctx.config_file, send_test=send_test)
    failed_required = [c.name for c in checks if c.required and not c.ok]
    get_logger(__name__).debug(
        "doctor finished",
        checks=len(checks),
        failed=[c.name for c in checks if not c.ok],
        failed_required=failed_required,
    )
    if as_json:
        typer.echo(json.dumps([{**asdict(c), "status": c.status} for c in checks], indent=2))
    else:
        _print_table(app_ctx.console, checks)
    if failed_required:
        raise typer.Exit(1)


def _print_table(console: Any, checks: list[Check]) -> None:
    table = Table(title="boxoffice doctor", show_lines=False)
    table.add_column("check")
    table.add_column("ok")
    table.add_column("required")
    table.add_column("detail", overflow="fold")
    for c in checks:
        if not c.configured:
            mark = "[dim]–[/dim]"
        elif c.ok:
            mark = "[green]✓[/green]"
        else:
            mark = "[red]✗[/red]" if c.required else "[yellow]✗[/]"
        table.add_row(escape(c.name), mark, "yes" if c.required else "no", escape(c.detail))
    console.print(table)
