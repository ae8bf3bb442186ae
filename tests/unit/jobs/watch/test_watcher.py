"""The watch loop against the simulator: race, filters, politeness, inactivity, bad input."""

from __future__ import annotations

import os
import stat
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from watch_harness import EVENT, Sleeps, run_watch

from boxoffice.errors import NotFoundError, ProtocolError
from boxoffice.jobs.watch.spec import compile_type
from boxoffice.sandbox.pretix_marketplace import create_app


def headers_of(body: Path) -> str:
    return Path(f"{body}.headers.txt").read_text()


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Sleeps:
    return Sleeps(monkeypatch)


async def test_listing_that_appears_is_carted_with_the_session(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    market = app.state.market
    listing = market.add_listing("Ticket – Standard", "95", after_polls=3)
    outcome, reporter, _ = await run_watch(app, tmp_path)
    assert outcome.status == "carted"
    assert outcome.polls == 4
    assert outcome.listing is not None
    assert outcome.listing.listing_id == listing.listing_id
    assert outcome.checkout_url == f"http://market.test/{EVENT}/checkout/questions/"
    assert market.listings[listing.listing_id].taken
    assert outcome.cookies is not None
    assert outcome.cookies.get("pretix_session") in market.carts
    # jittered waits between the polls: 15 s ± 20 %
    assert len(sleeps.waits) == 3
    assert all(12.0 <= w <= 18.0 for w in sleeps.waits)
    assert len(set(sleeps.waits)) > 1
    results = [line.result for line in reporter.lines]
    assert results[0] == "marketplace link found"
    assert results[-1] == "IN CART — checkout reached"
    cart_files = [p for p in outcome.archived if "cart_add_" in p.name]
    assert len(cart_files) == 3  # POST, /checkout/start, /checkout/questions/
    session = outcome.cookies.get("pretix_session") or ""
    for path in cart_files:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert session not in headers_of(path)


async def test_taken_listing_moves_on_to_the_next_at_once(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    market = app.state.market
    market.add_listing("Cheap", "50", contested=True)
    second = market.add_listing("Dearer", "60")
    outcome, reporter, _ = await run_watch(app, tmp_path)
    assert outcome.status == "carted"
    assert outcome.taken == 1
    assert outcome.listing is not None
    assert outcome.listing.listing_id == second.listing_id
    assert sleeps.waits == []  # no wait between the taken one and the next
    assert any("was taken" in t for t in reporter.texts("warning"))


async def test_filters_decide_what_is_bought(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    market = app.state.market
    market.add_listing("VIP Lounge", "300")
    market.add_listing("Standard", "150")
    wanted = market.add_listing("Standard", "90")
    outcome, _, _ = await run_watch(
        app, tmp_path, max_price=Decimal("100"), type_pattern=compile_type("standard")
    )
    assert outcome.listing is not None
    assert outcome.listing.listing_id == wanted.listing_id


async def test_nothing_matching_means_no_post(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.add_listing("VIP", "300")
    outcome, _, _ = await run_watch(app, tmp_path, max_price=Decimal("100"), max_polls=4)
    assert outcome.status == "stopped"
    assert app.state.market.buys == 0


async def test_dry_run_reports_and_never_posts(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    outcome, reporter, _ = await run_watch(app, tmp_path, dry_run=True, max_polls=4)
    assert outcome.status == "stopped"
    assert [x.price for x in outcome.detections] == ["95.00"]
    assert app.state.market.buys == 0
    assert sum("DRY RUN" in t for t in reporter.texts("success")) == 1


async def test_429_backs_off_30_60_120_then_resets_after_success(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    market = app.state.market
    market.inject(429, count=3)
    outcome, _, watcher = await run_watch(app, tmp_path, max_polls=7)
    assert sleeps.waits[:3] == [30.0, 60.0, 120.0]
    assert watcher.rate_backoff.failures == 0
    assert outcome.status == "stopped"


async def test_429_backoff_caps_at_300(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.inject(429, count=6)
    await run_watch(app, tmp_path, max_polls=7)
    assert sleeps.waits[:6] == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0]


async def test_429_with_a_longer_retry_after_waits_that_long(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.inject(429, retry_after="90")
    await run_watch(app, tmp_path, max_polls=3)
    assert sleeps.waits[0] == 90.0


async def test_409_waits_exactly_retry_after(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.inject(409, retry_after="7.5", count=2)
    await run_watch(app, tmp_path, max_polls=4)
    assert sleeps.waits[:2] == [7.5, 7.5]


async def test_409_on_the_cart_add_is_honoured_and_the_watch_carries_on(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    market = app.state.market
    market.add_listing("Standard", "95")
    market.inject(409, retry_after="4", target="buy")
    outcome, _, _ = await run_watch(app, tmp_path)
    assert sleeps.waits[0] == 4.0
    assert outcome.status == "carted"


async def test_server_errors_back_off_from_the_interval(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.inject(503, count=2)
    await run_watch(app, tmp_path, max_polls=4)
    assert sleeps.waits[:2] == [15.0, 30.0]


async def test_no_marketplace_link_is_one_clear_error(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.configure(event_link=False)
    outcome, _, _ = await run_watch(app, tmp_path)
    assert outcome.status == "error"
    assert isinstance(outcome.error, NotFoundError)
    assert "no secondhand marketplace link" in outcome.error.message
    assert outcome.error.hint is not None
    assert "--poll-inactive-marketplace" in outcome.error.hint


async def test_wrong_event_is_one_clear_error(tmp_path: Path, sleeps: Sleeps) -> None:
    outcome, _, _ = await run_watch(create_app(), tmp_path, event="demo/nope")
    assert isinstance(outcome.error, NotFoundError)
    assert "'demo/nope' not found" in outcome.error.message


async def test_waits_for_the_marketplace_link_with_poll_inactive(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    market = app.state.market
    market.configure(event_link=False)
    market.add_listing("Standard", "95")

    def reopen(seconds: float) -> None:
        if len(sleeps.waits) == 2:
            market.configure(event_link=True)

    sleeps.hook = reopen
    outcome, _, _ = await run_watch(app, tmp_path, poll_inactive=60.0)
    assert sleeps.waits[:2] == [60.0, 60.0]
    assert market.event_polls == 3
    assert outcome.status == "carted"


async def test_marketplace_turning_inactive_is_waited_out(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    market = app.state.market

    def flip(seconds: float) -> None:
        if len(sleeps.waits) == 1:
            market.configure(active=False)
        elif len(sleeps.waits) == 3:
            market.configure(active=True)
            market.add_listing("Standard", "95")

    sleeps.hook = flip
    outcome, reporter, _ = await run_watch(app, tmp_path, poll_inactive=45.0)
    assert outcome.status == "carted"
    assert 45.0 in sleeps.waits
    assert any("marketplace inactive" in t for t in reporter.texts("warning"))


async def test_inactive_marketplace_without_waiting_is_an_error(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.configure(active=False, event_link=True)
    # the event page still links it but the page says inactive
    app.state.market.event_link = True
    outcome, _, _ = await run_watch(app, tmp_path)
    assert isinstance(outcome.error, NotFoundError)


async def test_changed_page_is_archived_and_reported_then_gives_up(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.configure(markup="broken")
    outcome, reporter, _ = await run_watch(app, tmp_path)
    assert isinstance(outcome.error, ProtocolError)
    assert outcome.error.archived is not None
    path = outcome.error.archived
    assert path.is_file()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert "We are updating this page" in path.read_text()
    assert any(str(path) in t for t in reporter.texts("warning"))
    assert outcome.polls == 3  # max_unknown_pages in the harness


async def test_changed_markup_still_buys_via_the_dom_fallback(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.configure(markup="changed")
    app.state.market.add_listing("Standard", "95")
    outcome, _, _ = await run_watch(app, tmp_path)
    assert outcome.status == "carted"
    assert outcome.archived  # the new layout was saved for a look


async def test_archives_redact_csrf_tokens_and_cookies(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    outcome, _, watcher = await run_watch(app, tmp_path, max_polls=2)
    assert outcome.archived
    text = outcome.archived[0].read_text()
    headers = headers_of(outcome.archived[0])
    assert watcher.cookies is not None
    for value in watcher.cookies.values():
        assert value not in text
        assert value not in headers


async def test_session_ids_are_shortened_in_request_lines(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    outcome, reporter, _ = await run_watch(app, tmp_path)
    assert outcome.cookies is not None
    session = outcome.cookies.get("pretix_session")
    assert session
    rendered = "\n".join(line.render() for line in reporter.lines)
    assert session not in rendered
    assert f"session {session[:6]}…" in rendered


async def test_max_polls_counts_event_page_rechecks_and_never_waits_in_vain(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    """The watch's first visit of the event page is free; each recheck while waiting for the
    marketplace is a poll; no wait is planned for a recheck that may not follow."""
    app = create_app()
    app.state.market.configure(event_link=False)
    outcome, reporter, _ = await run_watch(app, tmp_path, poll_inactive=60.0, max_polls=2)
    assert outcome.status == "stopped"
    assert app.state.market.event_polls == 3
    assert app.state.market.polls == 0
    assert sleeps.waits == [60.0, 60.0]
    assert len([t for t in reporter.texts("info") if "no marketplace yet" in t]) == 2


async def test_once_stops_when_the_marketplace_is_gone_instead_of_waiting(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.inject(404, target="poll")
    outcome, reporter, _ = await run_watch(app, tmp_path, poll_inactive=45.0, max_polls=1)
    assert outcome.status == "stopped"
    assert outcome.polls == 1
    assert app.state.market.event_polls == 1  # no free rediscovery after the budget is spent
    assert sleeps.waits == []
    assert not [t for t in reporter.texts("warning") if "marketplace inactive" in t]


async def test_a_throttled_first_visit_is_retried_as_a_poll(tmp_path: Path, sleeps: Sleeps) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    app.state.market.inject(429, target="event")
    outcome, _, _ = await run_watch(app, tmp_path, max_polls=2)
    assert outcome.status == "carted"  # 429 on the event page, its retry, one marketplace poll
    assert app.state.market.event_polls == 2
    assert outcome.polls == 1
    assert len(sleeps.waits) == 1  # the 429 backoff, before the retry


class MarketUnreachable(httpx.AsyncBaseTransport):
    """The simulator, except that every marketplace poll fails to connect."""

    def __init__(self, app: object) -> None:
        self.inner = httpx.ASGITransport(app=app)  # type: ignore[arg-type]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/secondhand/"):
            raise httpx.ConnectError("connection refused", request=request)
        return await self.inner.handle_async_request(request)


async def test_no_backoff_wait_after_the_last_allowed_poll_failed(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    outcome, reporter, watcher = await run_watch(
        app, tmp_path, transport=MarketUnreachable(app), max_polls=3
    )
    assert outcome.status == "stopped"
    assert watcher.attempts == 3
    assert len(sleeps.waits) == 2  # backoffs between the three attempts, none after the last
    assert len([t for t in reporter.texts("warning") if "retrying" in t]) == 2


async def test_no_backoff_wait_after_the_last_allowed_poll_was_throttled(
    tmp_path: Path, sleeps: Sleeps
) -> None:
    app = create_app()
    app.state.market.inject(429, count=5)
    outcome, _, _ = await run_watch(app, tmp_path, max_polls=2)
    assert outcome.status == "stopped"
    assert app.state.market.polls == 2
    assert sleeps.waits == [30.0]  # the 429 backoff before the second poll only
