"""`sync push` end to end in-process: vivenu simulator → filter → ledger → fake receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sync_testkit import HOOK, FakeReceiver, make_config

from boxoffice.errors import AuthenticationError, ConfigurationError
from boxoffice.jobs.sync.filtering import TicketFilter
from boxoffice.jobs.sync.ledger import Ledger, epoch_iso
from boxoffice.jobs.sync.push import PushObserver, PushResult, run_push
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu as sim

pytestmark = pytest.mark.usefixtures("instant_waits")


def expected_ids() -> list[str]:
    """Tickets of the seed event that pass VALID/DETAILSREQUIRED + CHARITY (seed 0)."""
    rows = [sim.make_ticket(0, sim.SEED_EVENT, i) for i in range(1000)]
    return [
        r["_id"]
        for r in rows
        if r["status"] in ("VALID", "DETAILSREQUIRED") and "charity" in r["ticketName"].lower()
    ]


@pytest.fixture
def vivenu_app() -> Any:
    return sim.create_app(seed=0)


@pytest.fixture
async def vivenu_http(vivenu_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=vivenu_app)) as client:
        yield client


@pytest.fixture
def receiver() -> FakeReceiver:
    return FakeReceiver()


@pytest.fixture
async def hook_http(receiver: FakeReceiver) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        yield client


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    led = Ledger(tmp_path / "ledger.sqlite3")
    yield led  # type: ignore[misc]
    led.close()


class Recorder(PushObserver):
    def __init__(self) -> None:
        self.finals: list[tuple[str, str, int]] = []
        self.waits: list[tuple[str, float]] = []

    def settled(self, ticket_id: str, outcome: Any, attempts: int, final: str) -> None:
        self.finals.append((ticket_id, final, attempts))

    def waiting(self, reason: str, seconds: float) -> None:
        self.waits.append((reason, seconds))


async def push(
    vivenu_http: httpx.AsyncClient,
    hook_http: httpx.AsyncClient,
    ledger: Ledger,
    tmp_path: Path,
    observer: PushObserver | None = None,
    sleeper: Any = None,
    clock: Any = None,
    wall: Any = None,
    **overrides: Any,
) -> PushResult:
    cfg = make_config(**overrides)
    tickets = TicketsClient(vivenu_http, cfg.region.base_url, cfg.region.api_key)
    kwargs: dict[str, Any] = {}
    if clock is not None:
        kwargs["clock"] = clock
    if wall is not None:
        kwargs["wall"] = wall
    return await run_push(
        cfg,
        tickets=tickets,
        webhook=hook_http,
        ledger=ledger,
        spool_dir=tmp_path / "spool",
        observer=observer,
        sleeper=sleeper,
        **kwargs,
    )


async def test_every_filtered_ticket_delivered_once_signed(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    want = expected_ids()
    result = await push(vivenu_http, hook_http, ledger, tmp_path, concurrency=4)
    assert result.plan.total == 1000
    assert result.plan.filtered == len(want)
    assert result.plan.rejected_status + result.plan.rejected_name + len(want) == 1000
    assert result.delivered == len(want)
    assert result.dead == 0
    assert receiver.duplicates == []
    delivered_tickets = sorted(json.loads(b)["data"]["ticket"]["_id"] for b in receiver.bodies)
    assert delivered_tickets == sorted(want)
    envelope = json.loads(receiver.bodies[0])
    assert envelope["type"] == "ticket.created"
    assert receiver.headers[0]["webhook-id"] == envelope["id"]
    assert result.as_json().keys() >= {
        "total",
        "filtered",
        "delivered",
        "skipped_already_delivered",
        "dead",
        "duration_s",
    }


async def test_second_run_skips_delivered(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    first = await push(vivenu_http, hook_http, ledger, tmp_path, limit=10)
    assert first.delivered == 10
    second = await push(vivenu_http, hook_http, ledger, tmp_path)
    assert second.plan.already_delivered == 10
    assert second.delivered == len(expected_ids()) - 10
    third = await push(vivenu_http, hook_http, ledger, tmp_path)
    assert third.delivered == 0
    assert third.plan.to_send == 0
    assert third.as_json()["skipped_already_delivered"] == len(expected_ids())
    assert receiver.duplicates == []


async def test_crash_after_2xx_redelivers_once_with_same_id(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    await push(vivenu_http, hook_http, ledger, tmp_path, limit=5)
    receiver.crash_after_accepting()
    with pytest.raises(asyncio.CancelledError):
        await push(vivenu_http, hook_http, ledger, tmp_path)
    result = await push(vivenu_http, hook_http, ledger, tmp_path)
    assert len(receiver.duplicates) == 1  # the one in flight, once
    assert receiver.duplicates[0] == receiver.accepted[5]
    assert sorted(receiver.counts) == sorted(receiver.accepted)
    assert len(receiver.accepted) == len(expected_ids())
    assert result.plan.already_delivered == 5


async def test_429_retry_after_pauses_everyone_and_each_ticket_retries_on_its_own(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    receiver.fail(httpx.Response(429, headers={"Retry-After": "12"}))
    receiver.fail(httpx.Response(503))
    slept: list[float] = []

    async def sleeper(seconds: float) -> None:
        slept.append(seconds)

    rec = Recorder()
    result = await push(
        vivenu_http, hook_http, ledger, tmp_path, observer=rec, sleeper=sleeper, limit=3
    )
    assert result.delivered == 3
    assert result.retries == 2
    assert [w for _, w in rec.waits] == [12.0, 5.0]  # Retry-After, then the 2nd's own schedule[0]
    assert slept[0] == pytest.approx(12.0, abs=0.1)  # the 429 pause holds every ticket
    one, two, three = (f[0] for f in rec.finals[:3])
    assert [f[1:] for f in rec.finals] == [
        ("retry", 1),
        ("retry", 1),
        ("delivered", 1),  # the third ticket did not wait behind the first two
        ("delivered", 2),
        ("delivered", 2),
    ]
    assert [f[0] for f in rec.finals[3:]] == [one, two]
    assert three not in (one, two)
    assert result.waiting == 0


async def test_a_failing_ticket_does_not_hold_the_others(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    want = expected_ids()
    receiver.fail_ticket(want[0], httpx.Response(500), count=2)
    now = [0.0]

    async def sleeper(seconds: float) -> None:
        now[0] += seconds

    result = await push(
        vivenu_http, hook_http, ledger, tmp_path, sleeper=sleeper, clock=lambda: now[0]
    )
    assert result.delivered == len(want)
    assert result.waiting == 0
    order = [tid for tid, status in receiver.log if status == 200]
    assert order[:-1] == want[1:]  # everyone else first, at full speed
    assert order[-1] == want[0]  # the failing one after its own retries (5 s, then 300 s)
    assert now[0] == pytest.approx(305.0)  # its waits only, not multiplied by the others
    assert [s for t, s in receiver.log if t == want[0]] == [500, 500, 200]


async def test_retry_beyond_max_wait_ends_the_run_and_the_same_command_resumes_it(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    want = expected_ids()
    receiver.fail_ticket(want[1], httpx.Response(503), count=2)
    wall = [1_800_000_000.0]

    async def sleeper(seconds: float) -> None:
        wall[0] += seconds

    def run(**extra: Any) -> Any:
        return push(
            vivenu_http,
            hook_http,
            ledger,
            tmp_path,
            sleeper=sleeper,
            wall=lambda: wall[0],
            clock=lambda: wall[0],  # one fake time: no real seconds leak into the waits
            max_wait=60.0,
            **extra,
        )

    first = await run()
    assert first.delivered == len(want) - 1  # the others were not held back
    assert first.waiting == 1  # 5 s was waited for; the next retry (300 s) is beyond 60 s
    key = make_config().key
    retry_at = ledger.retry_times(key)
    assert retry_at == {want[1]: pytest.approx(1_800_000_000.0 + 5.0 + 300.0, abs=0.5)}
    assert first.next_retry_at == first.last_retry_at == epoch_iso(retry_at[want[1]])
    assert first.as_json()["waiting"] == 1
    assert ledger.counts(key) == {"pending": 1, "delivered": len(want) - 1, "dead": 0}
    received = receiver.received

    again = await run()  # too early: nothing is sent, the ticket still waits
    assert receiver.received == received
    assert again.waiting == 1
    assert again.delivered == 0

    wall[0] += 400.0
    resumed = await run()
    assert resumed.delivered == 1
    assert resumed.waiting == 0
    assert ledger.counts(key) == {"pending": 0, "delivered": len(want), "dead": 0}
    assert ledger.retry_times(key) == {}
    assert receiver.duplicates == []
    (row,) = [r for r in ledger.rows(key) if r.ticket_id == want[1]]
    assert row.attempts == 3


async def test_permanent_4xx_is_a_dead_letter_with_excerpt(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    receiver.fail(httpx.Response(422, text="ticketTypeId not found in KV store"))
    result = await push(vivenu_http, hook_http, ledger, tmp_path, limit=2)
    assert result.delivered == 1
    assert result.dead == 1
    cfg = make_config()
    (dead,) = ledger.rows(cfg.key, status="dead")
    assert dead.last_status == 422
    assert "ticketTypeId not found in KV store" in (dead.last_error or "")
    assert dead.attempts == 1
    again = await push(vivenu_http, hook_http, ledger, tmp_path, limit=0)
    assert again.plan.dead_skipped == 1
    requeued = await push(vivenu_http, hook_http, ledger, tmp_path, retry_dead=True, limit=1)
    assert requeued.plan.requeued == 1
    assert ledger.counts(cfg.key)["dead"] == 0


async def test_attempts_exhausted_is_dead(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    receiver.fail(httpx.Response(500, text="boom"), count=4)
    result = await push(vivenu_http, hook_http, ledger, tmp_path, limit=1, max_wait=3600.0)
    assert result.dead == 1
    (dead,) = ledger.rows(make_config().key, status="dead")
    assert dead.attempts == 4
    assert "HTTP 500" in (dead.last_error or "")


async def test_wrong_secret_dead_letters_with_hint_and_stops(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    with pytest.raises(AuthenticationError) as info:
        await push(vivenu_http, hook_http, ledger, tmp_path, secret="wrong-secret")
    assert "VIVENU_SECRET" in info.value.one_line()
    counts = ledger.counts(make_config().key)
    assert counts["dead"] == 3  # abort_after_auth_failures
    assert counts["delivered"] == 0
    assert counts["pending"] == len(expected_ids()) - 3
    rows = ledger.rows(make_config().key, status="dead")
    assert all("VIVENU_SECRET" in (r.last_error or "") for r in rows)
    assert receiver.accepted == []


async def test_dry_run_sends_nothing(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    result = await push(vivenu_http, hook_http, ledger, tmp_path, dry_run=True, secret=None)
    assert receiver.received == 0
    assert result.plan.to_send == len(expected_ids())
    assert len(result.plan.preview) == 5
    assert result.delivered == 0


async def test_missing_secret_is_a_config_error(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, tmp_path: Path
) -> None:
    with pytest.raises(ConfigurationError) as info:
        await push(vivenu_http, hook_http, ledger, tmp_path, secret=None)
    assert "VIVENU_SECRET" in info.value.one_line()


async def test_filter_options_change_what_is_sent(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    result = await push(
        vivenu_http,
        hook_http,
        ledger,
        tmp_path,
        ticket_filter=TicketFilter(["RESERVED"], ""),
        dry_run=True,
        secret=None,
    )
    rows = [sim.make_ticket(0, sim.SEED_EVENT, i) for i in range(1000)]
    assert result.plan.filtered == sum(r["status"] == "RESERVED" for r in rows)
    assert result.plan.rejected_name == 0


async def test_only_get_reaches_vivenu(
    vivenu_app: Any, vivenu_http: Any, hook_http: Any, ledger: Ledger, tmp_path: Path
) -> None:
    await push(vivenu_http, hook_http, ledger, tmp_path, limit=20)
    methods = {entry["method"] for entry in vivenu_app.state.vivenu.log}
    assert methods == {"GET"}


async def test_progress_file_has_no_personal_data(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    receiver.fail(httpx.Response(400, text="bad"))
    await push(vivenu_http, hook_http, ledger, tmp_path, progress_dir=tmp_path, limit=30)
    progress = json.loads((tmp_path / "historical_sync_progress_PROD.json").read_text())
    assert progress["tickets_sent"] == 29
    assert len(progress["errors"]) == 1
    assert progress["events_processed"] == []
    text = json.dumps(progress)
    for i in range(1000):
        ticket = sim.make_ticket(0, sim.SEED_EVENT, i)
        assert ticket["email"] not in text
        assert ticket["lastname"] not in text or len(ticket["lastname"]) < 3
    await push(vivenu_http, hook_http, ledger, tmp_path, progress_dir=tmp_path, retry_dead=True)
    progress = json.loads((tmp_path / "historical_sync_progress_PROD.json").read_text())
    assert progress["events_processed"] == [sim.SEED_EVENT]
    assert progress["errors"] == []


async def test_interval_paces_deliveries(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, tmp_path: Path
) -> None:
    now = [0.0]
    slept: list[float] = []

    async def sleeper(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    result = await push(
        vivenu_http,
        hook_http,
        ledger,
        tmp_path,
        interval=1.8,
        limit=11,
        sleeper=sleeper,
        clock=lambda: now[0],
    )
    assert result.delivered == 11
    assert len(slept) == 10
    assert sum(slept) == pytest.approx(18.0)
    assert HOOK.startswith("http")


async def test_dry_run_and_limited_runs_only_record_what_they_attempt(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    key = make_config().key
    await push(vivenu_http, hook_http, ledger, tmp_path, dry_run=True, secret=None)
    assert ledger.counts(key) == {"pending": 0, "delivered": 0, "dead": 0}
    await push(vivenu_http, hook_http, ledger, tmp_path, limit=1)  # what --test does
    assert ledger.counts(key) == {"pending": 0, "delivered": 1, "dead": 0}
    plan = (await push(vivenu_http, hook_http, ledger, tmp_path, dry_run=True, secret=None)).plan
    assert plan.already_delivered == 1
    assert plan.to_send == len(expected_ids()) - 1


async def test_counts_follow_the_current_filter_not_old_ledger_rows(
    vivenu_http: Any, hook_http: Any, ledger: Ledger, receiver: FakeReceiver, tmp_path: Path
) -> None:
    wide = TicketFilter(["VALID", "DETAILSREQUIRED"], "")
    receiver.fail(httpx.Response(500), count=1)
    await push(vivenu_http, hook_http, ledger, tmp_path, ticket_filter=wide, limit=5)
    rec = Recorder()
    result = await push(vivenu_http, hook_http, ledger, tmp_path, observer=rec)
    want = expected_ids()
    assert result.plan.pending + result.plan.already_delivered == len(want)
    assert result.delivered == result.plan.to_send
    assert len([f for f in rec.finals if f[1] == "delivered"]) == result.plan.to_send
