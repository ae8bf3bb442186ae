"""The loop of one watch (DESIGN §3): discover, poll with jitter, parse, cart-add first.

Everything after a successful cart add (cookie export, notifications, browser handoff) is
done by the caller with the returned :class:`WatchOutcome` — the race is over by then.
All waits go through :func:`boxoffice.core.pacing.sleep`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from boxoffice.core import pacing
from boxoffice.core.http import CookieJar
from boxoffice.core.logging import shorten
from boxoffice.core.memory import release_free_memory
from boxoffice.errors import BoxofficeError, NetworkError, NotFoundError, ProtocolError
from boxoffice.jobs.watch.archive import PageArchiver
from boxoffice.jobs.watch.report import Reporter, RequestLine
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.platforms.pretix.client import Fetched, PretixClient
from boxoffice.platforms.pretix.models import CartOutcome, Listing, MarketplacePage, Throttle

MAX_NETWORK_FAILURES = 10
OutcomeStatus = Literal["carted", "stopped", "error"]


@dataclass
class WatchOutcome:
    """How a watch ended; for ``carted``: the listing, checkout URL and the session's cookies."""

    spec: WatchSpec
    status: OutcomeStatus
    requests: int = 0
    polls: int = 0
    listing: Listing | None = None
    checkout_url: str | None = None
    reaction_ms: float | None = None
    cookies: CookieJar | None = None
    error: BoxofficeError | None = None
    detections: list[Listing] = field(default_factory=list)
    taken: int = 0
    archived: list[Path] = field(default_factory=list)
    cart: CartOutcome | None = None


def session_label(jar: CookieJar | None) -> str:
    """The session id as logs show it (pretix's own first, then a front session cookie)."""
    if jar is None:
        return ""
    records = jar.items()
    for preferred in ("pretix_session",):
        for record in records:
            if record.name.endswith(preferred):
                return shorten(record.value)
    for record in records:
        if "session" in record.name.lower():
            return shorten(record.value)
    return ""


def throttle_label(throttle: Throttle) -> str:
    """The result column of a poll the server did not answer normally."""
    if throttle.reason == "server_error":
        return f"server error (HTTP {throttle.status})"
    if throttle.reason == "locked":
        return f"throttled (HTTP {throttle.status}, server busy)"
    return f"throttled (HTTP {throttle.status}, rate limited)"


class Watcher:
    """Runs one :class:`WatchSpec` against one pretix instance over one HTTP client."""

    def __init__(
        self,
        spec: WatchSpec,
        http: httpx.AsyncClient,
        reporter: Reporter,
        archiver: PageArchiver,
        *,
        cookies: CookieJar | None = None,
        rng: random.Random | None = None,
        max_unknown_pages: int = 20,
    ) -> None:
        self.spec = spec
        self.client = PretixClient(http, base_url=spec.url, event=spec.event)
        self.reporter = reporter
        self.archiver = archiver
        self.cookies = cookies if cookies is not None else getattr(http, "cookie_jar", None)
        self.rng = rng or random.Random()
        self.max_unknown_pages = max_unknown_pages
        self.rate_backoff = pacing.Backoff(30.0, 2.0, 300.0)
        self.error_backoff = pacing.Backoff(max(5.0, spec.interval), 2.0, 300.0)
        self.requests = 0
        self.polls = 0
        self.attempts = 0  # page fetches counted against --max-polls (see _budget_left)
        self.unknown_streak = 0
        self.network_failures = 0
        self.marketplace_url: str | None = None
        self.outcome = WatchOutcome(spec, "stopped")
        self._seen_detections: set[str] = set()
        self._verdicts: set[tuple[object, ...]] = set()  # see _consider
        self._held: list[Callable[[], None]] | None = None
        #: ``notice(name, data)``: ``marketplace_opened`` {url} after waiting for it,
        #: ``filtered`` {listings} when listings were seen but none matched (never in a race)
        self.notice: Callable[[str, dict[str, Any]], None] | None = None
        self._waited_for_marketplace = False

    # ------------------------------------------------------------------ reporting

    def _emit(self, action: Callable[[], None]) -> None:
        """Report now, or after the cart add when the race is on (see :meth:`_hold`)."""
        if self._held is not None:
            self._held.append(action)
        else:
            action()

    def _hold(self) -> None:
        """Defer every report: nothing but the cart add runs until :meth:`_flush`."""
        if self._held is None:
            self._held = []

    def _flush(self) -> None:
        held, self._held = self._held, None
        for action in held or ():
            action()

    def _line(self, method: str, fetched: Fetched | None, url: str, result: str) -> None:
        self.requests += 1
        self.outcome.requests = self.requests
        number = self.requests

        def report() -> None:
            path = urlsplit(url).path or "/"
            if fetched is None:
                line = RequestLine(
                    self.spec.name, number, method, path, None, "", None, None, None,
                    session_label(self.cookies), result,
                )  # fmt: skip
            else:
                line = RequestLine(
                    self.spec.name,
                    number,
                    method,
                    path,
                    fetched.hop.status,
                    fetched.response.http_version,
                    fetched.ttfb_ms,
                    fetched.ttlb_ms,
                    fetched.size,
                    session_label(self.cookies),
                    result + (" (reconnected)" if fetched.reconnected else ""),
                )
            self.reporter.request(line)

        self._emit(report)

    def _say(self, level: Literal["info", "warning", "error", "success"], text: str) -> None:
        self._emit(lambda: self.reporter.event(self.spec.name, level, text))

    def _budget_left(self) -> bool:
        """Whether ``--max-polls`` allows another page fetch: every marketplace poll counts
        (failed ones too), and every visit of the event page but the watch's first one
        (rechecks while waiting for the marketplace, retries after a 429); the cart POSTs do
        not. So ``--once`` polls the marketplace once when the first visit finds it."""
        return self.spec.max_polls is None or self.attempts < self.spec.max_polls

    # ------------------------------------------------------------------ waits

    async def _wait(self, seconds: float, state: str) -> None:
        self._flush()
        self.reporter.status(self.spec.name, state, next_in=seconds)
        await pacing.sleep(seconds)

    async def _throttled(self, throttle: Throttle) -> None:
        """Honour the server: 429 → 30, 60, 120 … 300 s; 409 → exactly Retry-After (no wait
        when ``--max-polls`` allows no further request)."""
        if not self._budget_left():
            return
        if throttle.reason == "locked" and throttle.retry_after is not None:
            delay = throttle.retry_after
            why = f"HTTP 409 (server busy): waiting exactly Retry-After {delay:g} s"
        elif throttle.reason in ("rate_limited", "locked"):
            delay = max(self.rate_backoff.next(), throttle.retry_after or 0.0)
            why = f"HTTP {throttle.status} (rate limited): backing off {delay:g} s"
        else:
            delay = max(self.error_backoff.next(), throttle.retry_after or 0.0)
            why = f"HTTP {throttle.status} (server error): backing off {delay:g} s"
        self._say("warning", why)
        await self._wait(delay, f"backoff {delay:g} s")

    async def _network_trouble(self, exc: BoxofficeError) -> None:
        self.network_failures += 1
        if self.network_failures >= MAX_NETWORK_FAILURES:
            raise exc
        if not self._budget_left():  # no retry may follow: nothing to wait for
            return
        delay = self.error_backoff.next()
        self._say("warning", f"{exc.one_line()}; retrying in {delay:g} s")
        await self._wait(delay, f"network error, retry in {delay:g} s")

    # ------------------------------------------------------------------ discovery

    async def discover(self, *, free_first: bool = False) -> str | None:
        """The marketplace URL from the event page; waits for it with poll_inactive.

        Every visit of the event page counts against ``--max-polls`` except, with
        ``free_first``, the first one of the watch. Returns None only when ``--max-polls``
        ran out (never waiting for a visit that may not follow).
        """
        free = free_first
        while True:
            if not free:
                if not self._budget_left():
                    return None
                self.attempts += 1
            free = False
            disc = await self.client.discover()
            hop = disc.fetched.hop
            if disc.throttle is not None:
                self._line("GET", disc.fetched, self.client.event_url, "throttled")
                await self._throttled(disc.throttle)
                continue
            if hop.status == 404:
                self._line("GET", disc.fetched, self.client.event_url, "event not found")
                raise NotFoundError(
                    f"event {self.spec.event!r} not found at {self.client.event_url} (HTTP 404)",
                    hint="check --url and --event (an event slug like 99x1 or organizer/99x1)",
                )
            if hop.status != 200:
                self._line("GET", disc.fetched, self.client.event_url, f"HTTP {hop.status}")
                path = self.archiver.save(disc.fetched.response, "event_page")
                raise ProtocolError(
                    f"the event page {self.client.event_url} answered HTTP {hop.status}",
                    archived=path,
                )
            if disc.marketplace_url is not None:
                self._line("GET", disc.fetched, self.client.event_url, "marketplace link found")
                self.rate_backoff.reset()
                self.error_backoff.reset()
                if self._waited_for_marketplace and self.notice is not None:
                    self.notice("marketplace_opened", {"url": disc.marketplace_url})
                self._waited_for_marketplace = False
                return disc.marketplace_url
            self._line("GET", disc.fetched, self.client.event_url, "no marketplace link")
            if self.spec.poll_inactive is None:
                event_copy = self.archiver.consider(disc.fetched.response, "event_page")
                saved = f" (page saved to {event_copy})" if event_copy else ""
                raise NotFoundError(
                    f"no secondhand marketplace link on the event page {self.client.event_url}"
                    + saved,
                    hint="the marketplace may not be open yet: --poll-inactive-marketplace 60 "
                    "waits for it, checking the event page every 60 s",
                )
            if not self._budget_left():
                return None
            self._say(
                "info",
                f"no marketplace yet; checking the event page again in "
                f"{self.spec.poll_inactive:g} s",
            )
            self._waited_for_marketplace = True
            await self._wait(self.spec.poll_inactive, "waiting for the marketplace")

    async def _marketplace_inactive(self, why: str) -> str | None:
        if self.spec.poll_inactive is None:
            raise NotFoundError(
                f"the marketplace {self.marketplace_url} is not active ({why})",
                hint="--poll-inactive-marketplace 60 waits for it to come back",
            )
        if not self._budget_left():
            return None
        self._say(
            "warning",
            f"marketplace inactive ({why}); checking again every {self.spec.poll_inactive:g} s",
        )
        self._waited_for_marketplace = True
        await self._wait(self.spec.poll_inactive, "marketplace inactive")
        return await self.discover()

    # ------------------------------------------------------------------ buying

    async def _buy(self, candidates: list[Listing], page_url: str, seen_at: float) -> bool:
        """Try the matching listings cheapest first; True once one is in the cart."""
        for listing in sorted(candidates, key=lambda x: (x.amount is None, x.amount or 0)):
            try:
                outcome = await self.client.add_to_cart(listing, page_url=page_url)
            except NetworkError as exc:
                self._line("POST", None, listing.buy_url, f"network error: {exc.message}")
                return False
            reaction = (time.perf_counter() - seen_at) * 1000
            for response in self.client.last_chain:
                self.requests += 1
                self._report_chain_hop(
                    response, outcome if response is self.client.last_chain[-1] else None
                )
            if outcome.ok:
                self.outcome.status = "carted"
                self.outcome.listing = listing
                self.outcome.checkout_url = outcome.checkout_url
                self.outcome.reaction_ms = reaction
                self.outcome.cookies = self.cookies
                self.outcome.cart = outcome
                return True
            if outcome.result == "taken":
                self.outcome.taken += 1
                self._say(
                    "warning",
                    f"listing {listing.listing_id} ({listing.ticket_type}) was taken: "
                    f"{outcome.message}; trying the next one",
                )
                continue
            if outcome.throttle is not None:
                await self._throttled(outcome.throttle)
                return False
            self._say("error", f"cart add refused ({outcome.result}): {outcome.message}")
            if self.client.last_chain:
                path = self.archiver.save(self.client.last_chain[-1], "cart_add_failed")
                self._say("info", f"the answer was saved to {path}")
            return False
        return False

    def _report_chain_hop(self, response: httpx.Response, outcome: CartOutcome | None) -> None:
        metrics = response.extensions.get("metrics")
        result = "redirect" if response.is_redirect else "page"
        if outcome is not None:
            result = {
                "checkout": "IN CART — checkout reached",
                "taken": "taken by someone else",
            }.get(outcome.result, outcome.result)
        location = response.headers.get("location")
        if location and outcome is None:
            result = f"redirect to {urlsplit(location).path}"
        number = self.requests
        self._emit(
            lambda: self.reporter.request(
                RequestLine(
                    self.spec.name,
                    number,
                    response.request.method,
                    response.request.url.path,
                    response.status_code,
                    response.http_version,
                    getattr(metrics, "ttfb_ms", None),
                    getattr(metrics, "ttlb_ms", None),
                    len(response.content),
                    session_label(self.cookies),
                    result,
                )
            )
        )
        self.outcome.requests = self.requests

    # ------------------------------------------------------------------ the loop

    async def run(self) -> WatchOutcome:
        """Watch until a ticket is in the cart, ``--max-polls`` is used up, or an error."""
        try:
            await self._run()
        except BoxofficeError as exc:
            self.outcome.status = "error"
            self.outcome.error = exc
        finally:
            self._flush()
        self.outcome.polls = self.polls
        self.outcome.archived = list(self.archiver.saved)
        return self.outcome

    async def _run(self) -> None:
        self.marketplace_url = await self.discover(free_first=True)
        if self.marketplace_url is None:
            return
        self._say(
            "info",
            f"watching {self.marketplace_url} every {self.spec.interval:g} s "
            f"±{self.spec.jitter:.0%} for {self.spec.describe_filters()}"
            + (" (dry run: never buys)" if self.spec.dry_run else ""),
        )
        while self._budget_left():
            self.attempts += 1
            page_url = self.client.poll_url(self.marketplace_url)
            try:
                poll = await self.client.poll(self.marketplace_url)
            except NetworkError as exc:
                self._line("GET", None, page_url, "network error")
                await self._network_trouble(exc)
                continue
            seen_at = time.perf_counter()
            self.polls += 1
            if self.polls == 2:  # started: the first poll's work is done, none is racing
                release_free_memory()
            self.network_failures = 0
            page = poll.page
            if poll.throttle is not None:
                self._line("GET", poll.fetched, page_url, throttle_label(poll.throttle))
                await self._throttled(poll.throttle)
                continue
            if poll.gone or page is None:
                self._line("GET", poll.fetched, page_url, "marketplace gone")
                url = await self._marketplace_inactive(f"HTTP {poll.fetched.hop.status}")
                if url is None:
                    return
                self.marketplace_url = url
                continue
            self.rate_backoff.reset()
            self.error_backoff.reset()
            if page.state == "listings":
                candidates = [item for item in page.listings if self.spec.matches(item)]
                racing = bool(candidates) and not self.spec.dry_run
                if racing:
                    self._hold()  # cart add first, everything else after
                self._line(
                    "GET",
                    poll.fetched,
                    page_url,
                    f"{len(page.listings)} listing(s), {len(candidates)} matching",
                )
                if racing:
                    try:
                        bought = await self._buy(candidates, page_url, seen_at)
                    finally:
                        self._flush()
                    if bought:  # archiving is best effort now: nothing may undo the cart add
                        self.archiver.consider_quietly(poll.fetched.response, "marketplace")
                        for index, response in enumerate(self.client.last_chain):
                            self.archiver.save_quietly(response, f"cart_add_{index + 1}")
                        for failure in self.archiver.failures:
                            self._say("error", failure)
                        return
                elif candidates:
                    self._report_detections(candidates)
                elif page.listings and self.notice is not None:
                    self.notice("filtered", {"listings": list(page.listings)})
                self._consider(poll.fetched, "marketplace", page)
                self.unknown_streak = 0
            elif page.state == "empty":
                self._line("GET", poll.fetched, page_url, "no tickets")
                self.unknown_streak = 0
                self._consider(poll.fetched, "marketplace", page)
            elif page.state == "inactive":
                self._line("GET", poll.fetched, page_url, "marketplace inactive")
                self.archiver.consider(poll.fetched.response, "marketplace_inactive")
                url = await self._marketplace_inactive(page.detail or "page says inactive")
                if url is None:
                    return
                self.marketplace_url = url
                continue
            else:
                self.unknown_streak += 1
                self._line("GET", poll.fetched, page_url, f"UNRECOGNISED PAGE ({page.detail})")
                path = self.archiver.consider(poll.fetched.response, "marketplace_unknown")
                shown = path or self.archiver.last_path
                if path is not None:
                    self._say(
                        "warning",
                        f"the marketplace page is not what it used to be; saved to {path} "
                        f"(check it with: boxoffice watch parse {path})",
                    )
                if self.unknown_streak >= self.max_unknown_pages:
                    raise ProtocolError(
                        f"{self.unknown_streak} unrecognised marketplace pages in a row",
                        archived=shown,
                    )
            if not self._budget_left():
                break
            self.client.prepare_buy(page_url)  # the next cart POST's parts, while idle
            delay = pacing.jitter(
                self.spec.interval,
                self.spec.jitter_strategy,
                fraction=self.spec.jitter,
                rng=self.rng,
            )
            await self._wait(delay, "polling")

    def _consider(self, fetched: Fetched, label: str, page: MarketplacePage) -> None:
        """Offer a page the parser understood to the archive — only when what it read from
        it is new (state, parser, listings without their per-response tokens): a page read
        like an earlier one is not fingerprinted again, poll after poll."""
        verdict = (
            label,
            page.state,
            page.parser,
            page.detail,
            tuple((x.ticket_type, x.price, x.currency, x.buy_url) for x in page.listings),
        )
        if verdict in self._verdicts:
            return
        if len(self._verdicts) < 4096:
            self._verdicts.add(verdict)
        self.archiver.consider(fetched.response, label)

    def _report_detections(self, candidates: list[Listing]) -> None:
        for item in candidates:
            if item.buy_url in self._seen_detections:
                continue
            self._seen_detections.add(item.buy_url)
            self.outcome.detections.append(item)
            self._say(
                "success",
                f"DRY RUN: would buy {item.ticket_type} at {item.display_price()} ({item.buy_url})",
            )
