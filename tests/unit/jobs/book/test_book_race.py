"""The race against the simulators (fire-now mode, in-process): order, surplus, dry run, relogin."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from tests.unit.platforms.booked.booked_testkit import (
    BASE,
    CREDS,
    SLOT,
    ZURICH,
    client_for,
    close_window,
    make_app,
    occupy,
)

from boxoffice.core.clock import ClockEstimate
from boxoffice.jobs.book.race import RacePlan, RaceReport, run_race
from boxoffice.jobs.book.session import SessionCache

DIALECTS = ["booked3", "librebooking"]


def plan(**kw: Any) -> RacePlan:
    base: dict[str, Any] = {
        "slot": SLOT,
        "resources": list(range(231, 241)),
        "prefer": [238, 239],
        "timezone": ZURICH,
        "concurrency": 8,
    }
    base.update(kw)
    return RacePlan(**base)


async def race(app: Any, dialect: str, tmp: Path, p: RacePlan, **kw: Any) -> RaceReport:
    client = client_for(app, dialect)
    cache = SessionCache(tmp, dialect, BASE, CREDS.username)
    try:
        return await run_race(client, p, CREDS, cache, **kw)
    finally:
        await client.aclose()


def creates(app: Any) -> list[Any]:
    return [
        e
        for e in app.world.log
        if "action=create" in e.path or (e.method == "POST" and "Reservations" in e.path)
    ]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_preferred_resource_wins(dialect: str, tmp_path: Path) -> None:
    app = make_app(dialect)
    app.world.php_mode = True  # one session's requests one at a time: first sent, first served
    report = await race(app, dialect, tmp_path, plan())
    assert report.won is not None
    assert report.won.resource == 238
    assert [r.resource_id for r in app.world.reservations] == [238]
    doc = report.to_json()
    assert list(doc) == ["won", "resource", "attempts", "cancelled"]
    assert doc["won"] == report.won.reference
    assert doc["resource"] == 238
    assert doc["cancelled"] == []
    assert all(list(a) == ["resource", "outcome", "message", "latency_ms"] for a in doc["attempts"])
    assert [a["resource"] for a in doc["attempts"]][:3] == [238, 239, 231]
    others = {a["outcome"] for a in doc["attempts"][1:]}
    assert others <= {"one_at_a_time", "skipped"}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_taken_resources_are_not_attempted(dialect: str, tmp_path: Path) -> None:
    app = make_app(dialect)
    occupy(app, 238)
    occupy(app, 231)
    close_window(app)  # every attempt fails: all candidates get sent
    report = await race(app, dialect, tmp_path, plan())
    assert report.taken == [231, 238]
    assert report.candidates == [239, 232, 233, 234, 235, 236, 237, 240]
    assert len(creates(app)) == len(report.candidates)
    assert {a.outcome for a in report.attempts} == {"window_not_open"}
    assert report.won is None
    assert report.to_json()["won"] is None


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_surplus_wins_are_cancelled_keeping_the_most_preferred(
    dialect: str, tmp_path: Path
) -> None:
    app = make_app(dialect)
    app.world.no_lock = True  # no locking: several concurrent attempts can all succeed
    report = await race(app, dialect, tmp_path, plan())
    booked = [a for a in report.attempts if a.outcome == "booked"]
    assert len(booked) >= 2
    assert report.won is not None
    assert report.won.resource == 238
    assert {c.reference for c in report.cancelled} == {a.reference for a in booked[1:]}
    assert all(c.ok for c in report.cancelled)
    assert [r.resource_id for r in app.world.reservations] == [238]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_dry_run_sends_no_create(dialect: str, tmp_path: Path) -> None:
    app = make_app(dialect)
    report = await race(app, dialect, tmp_path, plan(dry_run=True))
    assert creates(app) == []
    assert {a.outcome for a in report.attempts} == {"dry_run"}
    assert len(report.attempts) == 10
    assert app.world.reservations == []


async def test_concurrency_is_bounded(tmp_path: Path) -> None:
    app = make_app("librebooking")
    close_window(app)
    app.world.latency = 0.02
    await race(app, "librebooking", tmp_path, plan(concurrency=3))
    assert app.world.peak_in_flight == 3


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_session_expiring_mid_run_relogs_once_and_retries(
    dialect: str, tmp_path: Path
) -> None:
    app = make_app(dialect)

    def say(line: str) -> None:
        if "candidate" in line:  # after availability, just before the burst
            app.world.expire_sessions()

    report = await race(app, dialect, tmp_path, plan(), say=say)
    assert report.relogins == 1
    assert report.won is not None
    assert report.won.resource == 238
    assert "session_expired" not in {a.outcome for a in report.attempts}


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_holding_a_reservation_already_means_no_race(dialect: str, tmp_path: Path) -> None:
    app = make_app(dialect)
    occupy(app, 235, user_id="42")
    report = await race(app, dialect, tmp_path, plan())
    assert creates(app) == []
    assert report.to_json()["resource"] == 235


async def test_nothing_free_means_no_attempt(tmp_path: Path) -> None:
    app = make_app("booked3")
    for resource in range(231, 241):
        occupy(app, resource)
    report = await race(app, "booked3", tmp_path, plan())
    assert report.candidates == []
    assert report.attempts == []
    assert creates(app) == []


@pytest.mark.parametrize("dialect", DIALECTS)
def test_attempts_reach_a_real_server_in_preference_order(dialect: str, tmp_path: Path) -> None:
    """Over real TCP, 8 lanes at once: the server still sees the attempts best first."""
    import asyncio

    from boxoffice.platforms.booked import make_client
    from boxoffice.sandbox.server import SandboxServer

    app = make_app(dialect)
    close_window(app)  # all refused, so all are sent
    app.world.php_mode = True  # processed strictly in arrival order
    app.world.latency = 0.01
    with SandboxServer({dialect: app}) as urls:
        base = urls[dialect] + "/Web"

        async def main() -> RaceReport:
            client = make_client(dialect, base, timezone=ZURICH)
            cache = SessionCache(tmp_path, dialect, base, CREDS.username)
            try:
                return await run_race(client, plan(prefer=[237, 240, 232]), CREDS, cache)
            finally:
                await client.aclose()

        report = asyncio.run(main())
    assert report.candidates == [237, 240, 232, 231, 233, 234, 235, 236, 238, 239]
    assert app.world.attempt_order == report.candidates


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_a_429_stops_the_burst(dialect: str, tmp_path: Path) -> None:
    app = make_app(dialect)
    close_window(app)  # everything refused, so only the 429 can stop the sending
    app.world.rate_limit_after = 2
    report = await race(app, dialect, tmp_path, plan(concurrency=1))
    outcomes = [a.outcome for a in report.attempts]
    assert outcomes[:3] == ["window_not_open", "window_not_open", "error"]
    assert "429" in report.attempts[2].message
    assert set(outcomes[3:]) == {"skipped"}
    assert len(creates(app)) == 3


class FakeTime:
    """A local clock that only moves when waited on (and by a microsecond per reading)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def clock(self) -> float:
        self.now += 1e-6
        return self.now

    async def sleep(self, delay: float) -> None:
        self.now += max(delay, 0.0)


SKEW = 2.5  # the server's clock runs this far ahead of ours
COARSE = ClockEstimate(offset=SKEW + 0.3, uncertainty=0.5, samples=1, rtt=0.02)
FINE = ClockEstimate(offset=SKEW, uncertainty=0.002, samples=20, rtt=0.01)


def estimator_on(
    fake: FakeTime,
    calls: list[tuple[float, float, float]],
    overrun: float = 0.0,
    fine: ClockEstimate = FINE,
) -> Callable[[float], Awaitable[ClockEstimate]]:
    """An estimator that spends its whole budget (plus ``overrun``) on the fake clock."""

    async def estimate(max_duration: float) -> ClockEstimate:
        start = fake.now
        if max_duration == 0:
            fake.now += COARSE.rtt
            return COARSE
        fake.now += max_duration + overrun
        calls.append((start, max_duration, fake.now))
        return fine

    return estimate


async def fake_race(
    tmp: Path, ahead: float, *, overrun: float = 0.0, fine: ClockEstimate = FINE
) -> tuple[RaceReport, RacePlan, list[tuple[float, float, float]], list[str]]:
    """A race whose T0 is ``ahead`` s away on the server's clock, all on a fake clock."""
    fake = FakeTime(1_900_000_000.0)
    t0 = fake.now + SKEW + ahead
    p = plan(at=datetime.fromtimestamp(t0, UTC), warm_ahead=2.0, warm_margin=0.3)
    calls: list[tuple[float, float, float]] = []
    said: list[str] = []
    app = make_app("booked3")
    report = await race(
        app,
        "booked3",
        tmp,
        p,
        say=said.append,
        clock=fake.clock,
        sleep=fake.sleep,
        estimator=estimator_on(fake, calls, overrun, fine),
    )
    return report, p, calls, said


@pytest.mark.parametrize("ahead", [8.0, 3.0, 1.2, 0.5, 0.1])
async def test_clock_estimate_ends_before_the_fire_instant_minus_the_warm_up_margin(
    ahead: float, tmp_path: Path
) -> None:
    report, p, calls, said = await fake_race(tmp_path, ahead)
    assert report.planned_at is not None
    assert report.fired_at is not None
    for _start, _budget, end in calls:
        assert end <= report.planned_at - p.warm_margin
    assert not any("T0 has passed" in line for line in said)
    assert any("connection(s) warm" in line for line in said)
    assert report.won is not None
    # fired at (not before) the planned instant; the attempts left at that instant
    assert report.planned_at <= report.fired_at < report.planned_at + 0.01
    assert report.fired_at <= min(a.sent_at or 0 for a in report.attempts if a.sent_at)


async def test_plenty_of_time_gives_the_fine_estimate(tmp_path: Path) -> None:
    report, p, calls, _ = await fake_race(tmp_path, 8.0)
    assert len(calls) == 1
    assert report.offset_used == pytest.approx(SKEW, abs=0.002)
    assert report.planned_at == pytest.approx(
        (p.at.timestamp() if p.at else 0) - SKEW + p.margin, abs=0.002
    )


async def test_too_little_time_skips_the_fine_estimate_and_is_never_early(
    tmp_path: Path,
) -> None:
    report, p, calls, said = await fake_race(tmp_path, 0.5)
    assert calls == []
    assert any("no fine clock estimate" in line for line in said)
    low = COARSE.offset - COARSE.uncertainty
    assert report.offset_used == pytest.approx(low)
    t0 = p.at.timestamp() if p.at else 0.0
    assert report.fired_at is not None
    assert report.fired_at + SKEW >= t0  # on the server's clock: not before T0


async def test_a_late_fire_is_reported_as_it_happened(tmp_path: Path) -> None:
    """An estimate overrunning its budget by 5 s: "T0 has passed" and the real fire time."""
    report, _, calls, said = await fake_race(tmp_path, 3.0, overrun=5.0)
    assert len(calls) == 1
    assert any("T0 has passed already" in line for line in said)
    assert not any("connection(s) warm" in line for line in said)
    assert report.planned_at is not None
    assert report.fired_at is not None
    assert report.fired_at >= calls[0][2] > report.planned_at + 3
    assert report.fire_lateness_ms == pytest.approx(
        (report.fired_at - report.planned_at) * 1000, abs=1
    )


HALF_DONE = ClockEstimate(offset=SKEW - 0.01, uncertainty=0.045, samples=12, rtt=0.01)


async def test_a_coarse_estimate_cut_short_fires_late_never_early(tmp_path: Path) -> None:
    report, _, calls, said = await fake_race(tmp_path, 3.0, fine=HALF_DONE)
    assert len(calls) == 1
    low = HALF_DONE.offset - HALF_DONE.uncertainty
    assert report.offset_used == pytest.approx(low)
    assert any("never early" in line for line in said)


async def test_an_unhurried_estimate_is_used_as_measured(tmp_path: Path) -> None:
    report, _, _, _ = await fake_race(tmp_path, 8.0, fine=HALF_DONE)
    assert report.offset_used == pytest.approx(HALF_DONE.offset)


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_first_alone_then_waves_never_hold_more_than_one_surplus(
    dialect: str, tmp_path: Path
) -> None:
    """Lock-free server, preferred taken at T0: the burst goes out 1, then 2 at a time, and
    stops at the first wave that won — at most one surplus booking existed, and it was
    released."""
    app = make_app(dialect)
    app.world.no_lock = True
    app.world.one_at_a_time = False
    original = app.world.try_create

    async def taken_at_t0(user_id: str, resource_id: int, *a: Any) -> Any:
        if resource_id == 238:  # someone else was faster on the preferred one
            return None, ["There are conflicting reservations on the following dates"]
        return await original(user_id, resource_id, *a)

    app.world.try_create = taken_at_t0  # type: ignore[method-assign]
    report = await race(app, dialect, tmp_path, plan(first_alone=True, wave=2, recheck_delay=0.0))
    sent = [a for a in report.attempts if a.sent_at is not None]
    assert [a.resource for a in sent] == [238, 239, 231]  # 238 alone, then the wave 239+231
    booked = [a for a in report.attempts if a.outcome == "booked"]
    assert len(booked) - 1 <= 1
    assert report.won is not None
    assert report.won.resource == 239
    assert [c.resource for c in report.cancelled if c.ok] == [a.resource for a in booked[1:]]


@pytest.mark.parametrize("dialect", DIALECTS)
async def test_preferred_alone_is_the_only_request_when_it_wins(
    dialect: str, tmp_path: Path
) -> None:
    app = make_app(dialect)
    report = await race(app, dialect, tmp_path, plan(first_alone=True, wave=2))
    assert len(creates(app)) == 1
    assert report.won is not None
    assert report.won.resource == 238


async def test_pending_approval_is_not_a_win(tmp_path: Path) -> None:
    """A resource needing approval stores the booking as pending: reported as pending, and
    released in favour of a plain win when there is one."""
    app = make_app("librebooking")
    app.world.approval_resources = [238]
    app.world.one_at_a_time = False
    only = await race(app, "librebooking", tmp_path, plan(resources=[238], prefer=[]))
    assert only.won is None
    assert only.won_reference is None
    assert only.pending is not None
    assert only.pending.resource == 238
    assert only.attempts[0].outcome == "pending"
    app.world.reservations.clear()
    both = await race(
        app, "librebooking", tmp_path, plan(resources=[238, 239], prefer=[], concurrency=2)
    )
    assert both.won is not None
    assert both.won.resource == 239
    assert both.pending is None
    assert [c.resource for c in both.cancelled] == [238]


async def test_a_win_another_user_also_holds_is_contested_and_released(tmp_path: Path) -> None:
    """The server gave resource 238 to someone else too: 238 is contested; the uncontested
    win on 231 is kept, 238 released, and both facts are reported."""
    app = make_app("librebooking")
    app.world.no_lock = True
    app.world.one_at_a_time = False
    original = app.world.try_create

    async def double_book(user_id: str, resource_id: int, start: Any, end: Any, *a: Any) -> Any:
        result = await original(user_id, resource_id, start, end, *a)
        if resource_id == 238 and result[0] is not None:  # another user's attempt, same instant
            app.world.add_reservation(238, start, end, "7")
        return result

    app.world.try_create = double_book  # type: ignore[method-assign]
    report = await race(
        app, "librebooking", tmp_path, plan(resources=[238, 231], prefer=[], concurrency=2)
    )
    assert report.won is not None
    assert report.won.resource == 231
    ref238 = next(a.reference for a in report.attempts if a.resource == 238)
    assert report.contested == {ref238: ["7"]}
    assert [c.reference for c in report.cancelled if c.ok] == [ref238]
    assert report.to_json()["contested"] == {ref238: ["7"]}
