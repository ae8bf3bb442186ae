"""The watch job's entry: from the merged settings and a command's flags to a running watch.

`boxoffice watch run` maps its flags onto the settings and calls :func:`prepare` then
:func:`watch`; everything a run needs besides the watches themselves — the notifier, the job
events, the heartbeat, the HTTP options, the browser check, the save dirs — is built here,
once, so the demo, the rehearsal and tests get the same runtime as a real run.

``err`` (warnings, notes) and ``out`` (notification results) are consoles: anything with a
rich-style ``print``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from boxoffice.core import notify, state
from boxoffice.core.heartbeat import Heartbeat, guarded
from boxoffice.core.http import CookieJar, HttpOptions
from boxoffice.errors import (
    BrowserError,
    ConfigurationError,
    StorageError,
    require_file,
)
from boxoffice.jobs.announce import announcer_for, heartbeat_for
from boxoffice.jobs.watch.report import Reporter
from boxoffice.jobs.watch.runner import (
    RunOptions,
    WatchReport,
    check_save_dirs,
    exit_error,
    run_watches,
)
from boxoffice.jobs.watch.spec import WatchSpec, check_interval, specs_from_settings
from boxoffice.jobs.watch.success import HandoffMode, HandoffOptions
from boxoffice.settings import Settings

__all__ = [
    "Channels",
    "WatchRun",
    "handoff_mode",
    "http_options",
    "notifier_for",
    "prepare",
    "reopen",
    "watch",
]


@dataclass(frozen=True)
class Channels:
    """Notification channels given on the command line, added to the configured ones:
    ``notify`` holds Apprise URLs and http(s) JSON webhooks (``--notify``)."""

    notify: Sequence[str] = ()
    imessage: Sequence[str] = ()
    webhook: Sequence[str] = ()


@dataclass
class WatchRun:
    """A prepared run: the watches, what they share, and the run's heartbeat."""

    specs: list[WatchSpec]
    options: RunOptions
    heartbeat: Heartbeat | None = None


def notifier_for(settings: Settings, channels: Channels) -> notify.Notifier | None:
    """The cart-add notifier: ``[notify]`` plus the flags' channels (None: no channel at all).
    An http(s) ``--notify`` URL is a JSON webhook, anything else an Apprise URL."""
    configured = settings.notify
    web = ("http://", "https://")
    webhook = [*channels.webhook, *(u for u in channels.notify if u.lower().startswith(web))]
    apprise = [u for u in channels.notify if not u.lower().startswith(web)]
    imessage = list(channels.imessage)
    if not (configured.apprise or configured.imessage or configured.webhook) and not (
        apprise or imessage or webhook
    ):
        return None
    return notify.Notifier.from_settings(
        configured, extra_apprise=apprise, extra_imessage=imessage, extra_webhook=webhook
    )


def http_options(settings: Settings) -> HttpOptions:
    """The watch's HTTP options; ``watch.ca_file`` (else ``SSL_CERT_FILE``) is trusted."""
    ca = settings.watch.ca_file or (
        Path(os.environ["SSL_CERT_FILE"]) if os.environ.get("SSL_CERT_FILE") else None
    )
    if ca is not None:
        hint = "give the PEM of the server's (self-signed) CA"
        require_file(ca, "CA file", hint=hint, missing=ConfigurationError)
    return HttpOptions.from_settings(settings.http, **({"verify": str(ca)} if ca else {}))


def handoff_mode(*, headless: bool, browser_headless: bool) -> HandoffMode:
    """No browser (``--headless``), a browser without a window, or a window."""
    return "none" if headless else "headless" if browser_headless else "open"


def prepare(
    settings: Settings,
    *,
    url: str | None,
    event: str | None,
    dry_run: bool,
    max_polls: int | None,
    channels: Channels,
    heartbeat: str | None,
    browser_headless: bool,
    err: Any,
    out: Any,
) -> WatchRun:
    """Everything before the first poll: the watches (interval floors checked and warned
    about on ``err``), notifier, job events, HTTP options, the browser check, the save dirs
    (unwritable: :class:`ConfigurationError` before anything was polled), the heartbeat."""
    ws = settings.watch
    specs = specs_from_settings(ws, url=url, event=event, dry_run=dry_run, max_polls=max_polls)
    for spec in specs:
        warning = check_interval(spec.interval, allow_fast=ws.i_know_what_i_am_doing)
        if warning:
            err.print(f"[{spec.name}] warning: {warning}", style="yellow", markup=False)
    notifier = notifier_for(settings, channels)
    if notifier is None and not dry_run:
        err.print(
            "note: no notification channel (--notify, --imessage, --webhook): you will only "
            "see the result here",
            markup=False,
        )
    mode = handoff_mode(headless=ws.headless, browser_headless=browser_headless)
    if mode != "none" and settings.browser.cdp_url is None:
        _check_browser(settings.browser.executable, err)
    http = http_options(settings)
    options = RunOptions(
        http=http,
        save_dir=ws.save_responses,
        handoff=HandoffOptions(
            mode=mode,
            executable=settings.browser.executable,
            cdp_url=settings.browser.cdp_url,
            ignore_https_errors=isinstance(http.verify, str),
        ),
        notifier=notifier,
        secrets=settings.secret_values(),
        max_archived_pages=ws.max_archived_pages,
        max_unknown_pages=ws.max_unknown_pages,
        state_dir=state.state_dir_path(settings.state_dir),
        report_errors=False,  # the CLI prints them: each once, the fatal one by the entry point
    )
    check_save_dirs(options)  # before the first poll, not after winning the race
    _events(options, settings, specs, one_off=bool(url or event), channels=channels, out=out)
    return WatchRun(specs, options, heartbeat=heartbeat_for(settings, "watch", heartbeat))


async def watch(run: WatchRun, reporter: Reporter) -> list[WatchReport]:
    """Run the prepared watches to their end (the heartbeat pings meanwhile; its /fail
    names the error a run without a cart add ended on)."""
    return await guarded(
        run.heartbeat, run_watches(run.specs, run.options, reporter), failure=_fatal
    )


def _events(
    options: RunOptions,
    settings: Settings,
    specs: list[WatchSpec],
    *,
    one_off: bool,
    channels: Channels,
    out: Any,
) -> None:
    """Job events for every watch (a ``[[watch.watches]]`` entry's own ``notify`` applies)."""
    flags: dict[str, Any] = {
        "extra": list(channels.notify),
        "extra_imessage": list(channels.imessage),
        "extra_webhook": list(channels.webhook),
        "err": out,
    }
    options.announcer = announcer_for(settings, "watch", **flags)
    if not one_off:
        for spec, entry in zip(specs, settings.watch.watches, strict=False):
            if entry.notify is not None:
                options.announcers[spec.name] = announcer_for(
                    settings, "watch", overrides=[entry.notify], **flags
                )


def _fatal(reports: list[WatchReport]) -> str | None:
    """The heartbeat's /fail reason: the error a run without a cart add ended on."""
    error = exit_error(reports)
    return error.one_line() if error is not None else None


def _check_browser(configured: Path | None, err: Any) -> None:
    """Say now, not after the race, when no browser can be found for the handoff."""
    from boxoffice.core import browser

    try:
        browser.find_browser(configured)
    except BrowserError as exc:
        err.print(
            f"warning: {exc.message} — after a cart add the manual steps will be printed "
            "instead (or use --browser PATH, --cdp URL, --headless)",
            style="yellow",
            markup=False,
        )


def reopen(
    settings: Settings,
    cookies: Path,
    url: str,
    *,
    headless: bool,
    ignore_https_errors: bool,
    instructions: Callable[[str], None],
) -> str:
    """Reopen a saved session in a browser (``settings.browser``: binary or CDP URL); returns
    the line to show. When the browser cannot do it, ``instructions`` gets the manual steps
    and a :class:`BrowserError` follows."""
    require_file(
        cookies,
        "cookie file",
        hint="use the path printed by `boxoffice watch run` (cookies_YYYYMMDD_HHMMSS.txt)",
    )
    from boxoffice.core import browser  # Playwright loads only when a browser is wanted

    records = load_saved_session(cookies).items()
    try:
        executable = settings.browser.executable
        if settings.browser.cdp_url is None:
            executable = browser.find_browser(executable)
        result = asyncio.run(
            browser.handoff(
                records,
                url,
                executable=executable,
                cdp_url=settings.browser.cdp_url,
                headless=headless,
                keep_open=not headless,
                ignore_https_errors=ignore_https_errors,
            )
        )
    except BrowserError:
        instructions(browser.manual_instructions(records, url))
        raise
    if not result.ok:
        instructions(browser.manual_instructions(records, url))
        raise BrowserError(f"browser handoff failed: {result.detail}")
    return f"opened {result.url} ({result.method}): {result.title or ''}"


def load_saved_session(path: Path) -> CookieJar:
    """The cookie file of a carted session. Unlike a session cache it must never be thrown
    away: when it cannot be read the advice is how to make it readable, not to delete it."""
    keep = "do not delete it: it holds the session of the ticket in your cart"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise StorageError(
            f"cannot read cookie file {path}: {exc.strerror or exc}",
            hint=f"make it readable for this user (as its owner: chmod 600 {path}), or run "
            f"as the user who saved it; {keep}",
        ) from exc
    try:
        return CookieJar.load(path)
    except StorageError as exc:
        raise StorageError(
            f"cookie file {path} is not a cookie file saved by `boxoffice watch run` "
            f"({len(raw)} bytes)",
            hint=f"give the cookies_YYYYMMDD_HHMMSS.txt path printed by `watch run`; {keep}",
        ) from exc
