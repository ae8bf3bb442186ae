"""`boxoffice book …` as a user runs it, against a real LibreBooking 2.8.6.2.

Every date is derived from today (the schedule's zone); the slot is 10:00–11:00, inside the
default layout's bookable hours (08:00–18:00).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from librebooking_peer import LibreBookingPeer

pytestmark = pytest.mark.librebooking

REPO = Path(__file__).resolve().parents[3]


def day(offset: int, peer: LibreBookingPeer) -> date:
    return datetime.now(ZoneInfo(peer.timezone)).date() + timedelta(days=offset)


def slot(offset: int, peer: LibreBookingPeer) -> list[str]:
    return ["--date", day(offset, peer).isoformat(), "--start", "10:00", "--end", "11:00"]


def slot_end(offset: int, peer: LibreBookingPeer) -> float:
    d = day(offset, peer)
    return datetime(d.year, d.month, d.day, 11, tzinfo=ZoneInfo(peer.timezone)).timestamp()


def env_for(
    peer: LibreBookingPeer, user: str, password: str | None = None, **extra: str
) -> dict[str, str]:
    return {
        "BOXOFFICE_BOOK_URL": peer.base_url,
        "BOXOFFICE_BOOK_DIALECT": "librebooking",
        "BOXOFFICE_BOOK_USERNAME": user,
        "BOXOFFICE_BOOK_PASSWORD": password if password is not None else peer.users[user],
        "BOXOFFICE_BOOK_TIMEZONE": peer.timezone,
        **extra,
    }


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def book(peer: LibreBookingPeer, user: str, *args: str, **env: str) -> Result:
    """``boxoffice book ARGS`` in a process of its own, as a user runs it."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_BOOK_")}
    proc = subprocess.run(
        [sys.executable, "-m", "boxoffice", "book", *args],
        env={**base, **env_for(peer, user, **env)},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def last_json(result: Result) -> Any:
    return json.loads(result.stdout.strip().splitlines()[-1])


def rooms(peer: LibreBookingPeer) -> str:
    ids = peer.room_ids
    return f"{ids[0]}-{ids[-1]}"


def test_refresh_availability_run_list_cancel(librebooking: LibreBookingPeer) -> None:
    peer = librebooking
    ids = peer.room_ids
    preferred = [ids[9], ids[10]]
    refreshed = book(peer, "alice", "refresh")
    assert refreshed.exit_code == 0, refreshed.output
    assert "logged in as alice" in refreshed.stdout
    cache = next((Path(os.environ["BOXOFFICE_STATE_DIR"]) / "book").glob("session-*.json"))
    assert peer.users["alice"] not in cache.read_text()

    won = book(
        peer, "alice", "run", *slot(3, peer), "--resources", rooms(peer),
        "--prefer", ",".join(map(str, preferred)), "--json",
    )  # fmt: skip
    assert won.exit_code == 0, won.output
    doc = last_json(won)
    assert doc["resource"] == preferred[0]
    assert peer.users["alice"] not in won.output
    active = peer.active_reservations()
    assert [(r["resource"], r["reference"]) for r in active] == [(preferred[0], doc["won"])]

    free = book(peer, "alice", "availability", *slot(3, peer), "--resources", rooms(peer))
    assert free.exit_code == 0, free.output
    # the server answers in UTC; the user reads the schedule's zone
    assert "10:00 CE" in free.stdout
    assert "UTC" not in free.stdout
    whole = book(peer, "alice", "availability", "--date", day(3, peer).isoformat())
    assert "(whole day, CE" in whole.stdout
    assert "00:00–00:00" not in whole.stdout

    listed = book(peer, "alice", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [r["reference"] for r in rows] == [doc["won"]]
    assert rows[0]["start"].startswith(f"{day(3, peer).isoformat()}T10:00:00+01:00") or rows[0][
        "start"
    ].startswith(f"{day(3, peer).isoformat()}T10:00:00+02:00")

    cancelled = book(peer, "alice", "cancel", doc["won"])
    assert cancelled.exit_code == 0, cancelled.output
    assert peer.active_reservations() == []
    again = book(peer, "alice", "cancel", doc["won"])
    assert again.exit_code == 9, again.output
    assert "not cancelled" in again.output
    assert "cancelled " + doc["won"] not in again.stdout


def test_cancel_of_someone_elses_reservation_shows_the_servers_reason(
    librebooking: LibreBookingPeer,
) -> None:
    peer = librebooking
    won = book(peer, "bob", "run", *slot(4, peer), "--resources", str(peer.room_ids[0]), "--json")
    assert won.exit_code == 0, won.output
    theirs = last_json(won)["won"]
    refused = book(peer, "alice", "cancel", theirs)
    assert refused.exit_code == 12, refused.output
    assert "You are not allowed to change this reservation." in refused.output
    assert "There were errors processing your request" not in refused.output
    german = book(peer, "alice", "cancel", theirs, BOXOFFICE_BOOK_LANGUAGE="de_de")
    assert "Sie dürffen diese Reservierung nicht verändern." in german.output
    assert len(peer.active_reservations()) == 1


def test_wrong_password_is_one_line_and_the_word_password_is_not_masked(
    librebooking: LibreBookingPeer,
) -> None:
    peer = librebooking
    wrong = book(peer, "alice", "refresh", password="not-" + peer.users["alice"])
    assert wrong.exit_code == 4
    assert "username or password refused" in wrong.output
    # a wrong user name with the password literally "password": the message stays readable
    literal = book(peer, "nobody", "refresh", password="password")
    assert literal.exit_code == 4
    assert "username or password refused" in literal.output
    assert "***" not in literal.output
    assert len(literal.output.strip().splitlines()) == 1


def test_api_switched_off_is_one_line_and_cancel_does_not_claim_success(
    librebooking: LibreBookingPeer,
) -> None:
    peer = librebooking
    won = book(peer, "alice", "run", *slot(5, peer), "--resources", str(peer.room_ids[0]), "--json")
    reference = last_json(won)["won"]
    peer.set_api(False)
    for args in (["list"], ["cancel", reference], ["availability", *slot(5, peer)]):
        cached = book(peer, "alice", *args)  # a cached session
        assert cached.exit_code == 2, (args, cached.output)
        assert "the server's API is disabled" in cached.output
        assert "api.enabled" in cached.output
        assert "cancelled" not in cached.stdout
    fresh = book(peer, "bob", "refresh")  # a fresh login
    assert fresh.exit_code == 2
    assert "the server's API is disabled — ask the admin to set api.enabled" in fresh.output
    assert "not JSON" not in fresh.output
    assert [r["reference"] for r in peer.active_reservations()] == [reference]


def test_approval_needed_is_pending_not_won(librebooking: LibreBookingPeer) -> None:
    peer = librebooking
    approval = peer.resources["Approval Room"]
    held = book(peer, "alice", "run", *slot(6, peer), "--resources", str(approval))
    assert held.exit_code == 13, held.output
    assert "pending" in held.stdout
    assert "won:" not in held.stdout
    assert "★ kept" in held.stdout
    again = book(peer, "alice", "run", *slot(6, peer), "--resources", str(approval))
    assert again.exit_code == 13, again.output  # held already, still pending: not "booked"
    assert "awaiting an admin's approval" in " ".join(again.stdout.split())
    listed = book(peer, "alice", "list")
    assert "(pending)" in listed.stdout
    as_json = book(peer, "alice", "list", "--json")
    assert json.loads(as_json.stdout)[0]["pending"] is True


def _open_window_at(peer: LibreBookingPeer, resources: list[int], offset: int, t0: float) -> None:
    """Maximum notice such that a reservation ending at the slot's end is allowed from T0 on
    (LibreBooking checks the end against now + max notice)."""
    for rid in resources:
        peer.set_max_notice(rid, int(slot_end(offset, peer) - t0))


def test_booking_window_opens_at_t0_and_the_preferred_wins_then(
    librebooking: LibreBookingPeer,
) -> None:
    """Nothing is won before T0 (a probe just before is refused by the server's window rule);
    the run with --at T0 wins the preferred resource at T0, its attempts sent at or after T0."""
    peer = librebooking
    three = peer.room_ids[:3]
    t0 = math.ceil(time.time()) + 7
    _open_window_at(peer, three, 7, t0)
    early = book(peer, "alice", "run", *slot(7, peer), "--resources", str(three[0]), "--now",
                 "--json", BOXOFFICE_BOOK_LANGUAGE="de_de")  # fmt: skip
    assert early.exit_code == 3, early.output
    attempt = last_json(early)["attempts"][0]
    assert attempt["outcome"] == "window_not_open"
    assert "zu weit in der Zukunft" in attempt["message"]
    at = datetime.fromtimestamp(t0, ZoneInfo(peer.timezone)).isoformat()
    raced = book(
        peer, "alice", "run", *slot(7, peer), "--resources", ",".join(map(str, three)),
        "--prefer", str(three[1]), "--at", at, "--lead", "5", "--json",
    )  # fmt: skip
    assert raced.exit_code == 0, raced.output
    doc = last_json(raced)
    assert doc["resource"] == three[1]
    assert doc["attempts"][0]["outcome"] == "booked"
    created = peer.sql(
        "SELECT UNIX_TIMESTAMP(CONVERT_TZ(date_created, '+00:00', @@session.time_zone))"
        " FROM reservation_series WHERE status_id <> 2"
    )
    assert len(created) == 1
    assert float(created[0][0]) >= t0 - 1  # stored at T0 (second resolution)
    assert time.time() >= t0


def test_two_users_racing_for_the_same_slot_report_a_contested_win(
    librebooking: LibreBookingPeer, tmp_path: Path
) -> None:
    """alice and bob, same --at, same preferred resource, two processes. The server does not
    lock, so both may get it: every resource both hold must be reported as contested by both,
    and nobody keeps more than one reservation."""
    peer = librebooking
    ids = peer.room_ids[:8]
    t0 = math.ceil(time.time()) + 6
    at = datetime.fromtimestamp(t0, ZoneInfo(peer.timezone)).isoformat()
    procs = {}
    for user in ("alice", "bob"):
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BOXOFFICE_BOOK_")},
            **env_for(peer, user),
            "BOXOFFICE_STATE_DIR": str(tmp_path / user),
        }
        procs[user] = subprocess.Popen(
            [sys.executable, "-m", "boxoffice", "book", "run", *slot(8, peer),
             "--resources", f"{ids[0]}-{ids[-1]}", "--prefer", str(ids[4]),
             "--at", at, "--lead", "4", "--json"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    docs = {}
    for user, proc in procs.items():
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, f"{user}: {err[-2000:]}"
        assert peer.users[user] not in out + err
        docs[user] = json.loads(out.strip().splitlines()[-1])
    active = peer.active_reservations()
    owners: dict[int, set[str]] = {}
    for r in active:
        owners.setdefault(r["resource"], set()).add(r["owner"])
    by_user: dict[str, int] = {}
    for r in active:
        by_user[r["owner"]] = by_user.get(r["owner"], 0) + 1
    assert all(n == 1 for n in by_user.values()), active
    assert {docs[u]["won"] for u in docs} == {r["reference"] for r in active}
    for resource, holders in owners.items():
        if len(holders) > 1:  # a double booking: both must have said so
            for user, doc in docs.items():
                if doc["resource"] == resource:
                    assert doc["won"] in doc.get("contested", {}), (user, doc)
