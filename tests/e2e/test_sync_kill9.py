"""Reliability: `sync push` killed with SIGKILL at random moments, rerun until done.

Every filtered ticket reaches the receiver; a redelivery only ever carries the same envelope id,
at most one per kill (the delivery in flight); nothing becomes a dead letter.
The 20-kill version is ``bench/bench_sync_kill9.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.platforms.vivenu.envelope import envelope_id
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "kill9-secret"
EVENT = "6900000000000000000000aa"
TICKETS = 300
KILLS = 5


@pytest.fixture
def sandbox() -> Iterator[tuple[dict[str, str], Any]]:
    """(urls, the receiver's in-process state — read without HTTP to keep the loop light)."""
    apps = {
        "vivenu": vivenu.create_app(seed=9),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
    }
    apps["vivenu"].state.vivenu.events[EVENT] = TICKETS
    with SandboxServer(apps) as urls:
        yield urls, apps["webhook"].state.receiver


def expected_envelope_ids(target: str) -> set[str]:
    rows = [vivenu.make_ticket(9, EVENT, i) for i in range(TICKETS)]
    return {
        envelope_id(target, r["_id"])
        for r in rows
        if r["status"] in ("VALID", "DETAILSREQUIRED") and "charity" in r["ticketName"].lower()
    }


def test_kill9_at_random_moments_loses_nothing_and_duplicates_at_most_one_per_kill(
    sandbox: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    urls, receiver = sandbox
    target = urls["webhook"] + "/ticket-created"
    env = {
        **os.environ,
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": urls["vivenu"],
        "VIVENU_SECRET": SECRET,
        "BOXOFFICE_STATE_DIR": str(tmp_path / "state"),
        "BOXOFFICE_SYNC_INTERVAL": "0.004",
    }
    command = [
        sys.executable, "-m", "boxoffice.cli", "sync", "push", "PROD", EVENT,
        "--target", target, "--json",
    ]  # fmt: skip
    want = expected_envelope_ids(target)
    rng = random.Random(20261122)
    kills = 0
    while kills < KILLS:
        before = receiver.accepted
        proc = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        # kill after a random number of further acceptances (plus a random sub-delivery delay)
        goal = before + rng.randint(1, max(1, (len(want) - before) // (KILLS - kills + 1)))
        deadline = time.monotonic() + 60
        while receiver.accepted < goal and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.001)
        time.sleep(rng.uniform(0, 0.004))
        if proc.poll() is not None:
            break  # finished before we could kill it: nothing left to interrupt
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1
    final = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert final.returncode == 0, final.stderr[-2000:]
    summary: dict[str, Any] = json.loads(final.stdout)
    stats = httpx.get(urls["webhook"] + "/_sandbox/stats").json()

    assert kills == KILLS
    assert set(stats["accepted_ids"]) == want  # every filtered ticket, nothing else
    assert stats["accepted"] == len(want)
    assert stats["invalid_signature"] == 0
    assert set(stats["duplicate_ids"]) <= want  # a redelivery carries the same id
    assert stats["duplicates"] <= kills  # at most the one in flight per kill
    assert summary["dead"] == 0
    assert summary["delivered"] + summary["skipped_already_delivered"] == len(want)
