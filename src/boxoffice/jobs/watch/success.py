"""After the cart add: cookie export (0600), notifications and the browser handoff.

The race is won before any of this runs. Notifications and the handoff run concurrently; a
failing channel or browser is reported, never silent, and never undoes the cart add.

The session must reach the user whatever fails: the cookies go to the save dir; if that cannot
be written, to ``<state dir>/watch/`` (0600); if that fails too, the cookie values themselves
are printed and put into every notification, next to the checkout link.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from boxoffice.core import notify
from boxoffice.core.http import CookieJar
from boxoffice.errors import BoxofficeError, map_exception
from boxoffice.jobs.watch.report import Reporter
from boxoffice.jobs.watch.watcher import WatchOutcome

HandoffMode = Literal["open", "headless", "none"]


@dataclass
class HandoffOptions:
    """How to hand the session over: open a browser, a headless one (demo/tests), or none."""

    mode: HandoffMode = "open"
    executable: Path | None = None
    cdp_url: str | None = None
    ignore_https_errors: bool = False


@dataclass
class Delivery:
    """What happened after the cart add."""

    cookie_file: Path | None = None
    notifications: list[notify.ChannelResult] = field(default_factory=list)
    handoff: str = "skipped"
    handoff_detail: str = ""
    page_title: str | None = None
    cookie_fallback: bool = False
    """The cookies went to the state dir because the save dir could not be written."""
    cookies_inline: str | None = None
    """``name=value; …`` when no cookie file could be written at all (shown and sent)."""

    @property
    def notified(self) -> bool:
        """True when at least one channel delivered and none failed."""
        return bool(self.notifications) and all(r.ok for r in self.notifications)


def cookie_export_path(directory: Path, now: datetime | None = None) -> Path:
    """``<dir>/cookies_YYYYMMDD_HHMMSS.txt``, with a suffix if that second is taken."""
    stamp = (now or datetime.now()).strftime("%Y%m%d_%H%M%S")
    path = directory / f"cookies_{stamp}.txt"
    n = 1
    while path.exists():
        n += 1
        path = directory / f"cookies_{stamp}_{n}.txt"
    return path


def export_cookies(jar: CookieJar, directory: Path) -> Path:
    """Save the session's cookies (CookieJar JSON, mode 0600) for ``watch handoff``."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return jar.save(cookie_export_path(directory))
    except OSError as exc:
        raise map_exception(exc, context=f"cannot save cookies in {directory}") from exc


def fallback_dir(state_dir: Path) -> Path:
    """Where the cookies go when the save dir cannot be written: ``<state dir>/watch``."""
    return state_dir / "watch"


def inline_cookies(jar: CookieJar) -> str:
    """``name=value; …`` of every cookie (the last resort when no file can be written)."""
    return "; ".join(f"{c.name}={c.value}" for c in jar.items())


def build_notification(
    outcome: WatchOutcome, cookie_file: Path | None, cookies_inline: str | None = None
) -> notify.Notification:
    """The message the phone gets: what, how much, the checkout link, the cookie file — or,
    when none could be written, where the cookie values are. A message never carries the
    values themselves: on a push service or a shared topic they would hand the cart to whoever
    reads it."""
    listing = outcome.listing
    what = f"{listing.ticket_type} at {listing.display_price()}" if listing else "a ticket"
    lines = [
        f"{what} is in your cart ({outcome.spec.name}).",
        f"Checkout: {outcome.checkout_url}",
    ]
    if cookie_file is not None:
        lines.append(f"Session cookies: {cookie_file}")
        lines.append(f"Reopen: boxoffice watch handoff --cookies {cookie_file} --url …")
    elif cookies_inline:
        names = ", ".join(part.split("=", 1)[0].strip() for part in cookies_inline.split(";"))
        lines.append(
            f"No cookie file could be saved; the session cookies ({names}) are printed on the "
            "terminal running the watch"
        )
    data: dict[str, Any] = {
        "watch": outcome.spec.name,
        "event": outcome.spec.event,
        "checkout_url": outcome.checkout_url,
        "cookie_file": str(cookie_file) if cookie_file else None,
        "ticket_type": listing.ticket_type if listing else None,
        "price": listing.price if listing else None,
        "currency": listing.currency if listing else None,
    }
    return notify.Notification(
        title="boxoffice: ticket in your cart — check out now",
        body="\n".join(lines),
        url=outcome.checkout_url,
        data=data,
    )


async def _handoff(
    jar: CookieJar,
    url: str,
    options: HandoffOptions,
    delivery: Delivery,
    reporter: Reporter,
    name: str,
) -> None:
    if options.mode == "none":
        delivery.handoff = "skipped (headless)"
        return
    from boxoffice.core import browser  # Playwright loads only when a browser is wanted

    try:
        result = await browser.handoff(
            jar.items(),
            url,
            executable=options.executable,
            cdp_url=options.cdp_url,
            headless=options.mode == "headless",
            keep_open=options.mode == "open",
            ignore_https_errors=options.ignore_https_errors,
        )
    except BoxofficeError as exc:
        delivery.handoff = "failed"
        delivery.handoff_detail = exc.one_line()
        reporter.event(name, "error", f"browser handoff failed: {exc.one_line()}")
        reporter.event(name, "info", browser.manual_instructions(jar.items(), url))
        return
    delivery.handoff = result.method if result.ok else "failed"
    delivery.handoff_detail = result.detail
    delivery.page_title = result.title
    if result.ok:
        reporter.event(
            name, "success", f"browser ({result.method}) opened {result.url}: {result.title or ''}"
        )
    else:
        reporter.event(name, "error", f"browser handoff failed: {result.detail}")


async def deliver(
    outcome: WatchOutcome,
    *,
    notifier: notify.Notifier | None,
    handoff: HandoffOptions,
    save_dir: Path,
    reporter: Reporter,
    state_dir: Path | None = None,
) -> Delivery:
    """Export cookies, then notify and hand off concurrently; report every failure."""
    delivery = Delivery()
    name = outcome.spec.name
    jar = outcome.cookies or CookieJar()
    _save_session(jar, save_dir, state_dir, delivery, reporter, name)
    url = outcome.checkout_url or outcome.spec.event_url
    message = build_notification(outcome, delivery.cookie_file, delivery.cookies_inline)

    async def send() -> None:
        if notifier is None:
            return
        try:
            delivery.notifications = await notifier.send_all(message)
        except Exception as exc:
            reporter.event(name, "error", f"notifications failed: {map_exception(exc).one_line()}")
            return
        for result in delivery.notifications:
            if result.ok:
                reporter.event(name, "info", f"notified via {result.channel}")
            else:
                reporter.event(
                    name, "error", f"notification via {result.channel} failed: {result.detail}"
                )

    await asyncio.gather(send(), _handoff(jar, url, handoff, delivery, reporter, name))
    return delivery


def _save_session(
    jar: CookieJar,
    save_dir: Path,
    state_dir: Path | None,
    delivery: Delivery,
    reporter: Reporter,
    name: str,
) -> None:
    """Cookie file in the save dir, else in the state dir, else the values on the terminal."""
    try:
        delivery.cookie_file = export_cookies(jar, save_dir)
        reporter.event(name, "info", f"session cookies saved to {delivery.cookie_file} (0600)")
        return
    except BoxofficeError as exc:
        reporter.event(name, "error", f"cookie export failed: {exc.one_line()}")
    if state_dir is not None:
        try:
            delivery.cookie_file = export_cookies(jar, fallback_dir(state_dir))
            delivery.cookie_fallback = True
            reporter.event(
                name,
                "warning",
                f"session cookies saved to {delivery.cookie_file} (0600) instead",
            )
            return
        except BoxofficeError as exc:
            reporter.event(name, "error", f"cookie export failed: {exc.one_line()}")
    delivery.cookies_inline = inline_cookies(jar)
    reporter.event(
        name,
        "warning",
        f"no cookie file could be written; the session cookies: {delivery.cookies_inline}",
    )
