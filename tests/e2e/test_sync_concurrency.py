"""`sync push` under concurrency and slow retries, as real processes against the sandbox.

- Two identical pushes started together: one delivers, the other says who holds the run (pid,
  host, since) and exits 14; with ``--wait`` it starts once the first is done. The receiver
  never sees a duplicate.
- A ticket the receiver keeps failing does not hold the others back; when its next retry is
  beyond ``--max-wait`` the run ends (exit 3) saying when, and the same command resumes it.
- ``sync status`` works on a ledger the user may read but not write, and names the target at
  80 columns.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.errors import BusyError
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "concurrency-secret"
EVENT = "6900000000000000000000bb"
TICKETS = 400
SMALL_EVENT = "6900000000000000000000cc"
SMALL = 16
SEED = 9


@pytest.fixture
def sandbox() -> Iterator[tuple[dict[str, str], Any]]:
    apps = {
        "vivenu": vivenu.create_app(seed=SEED),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
    }
    apps["vivenu"].state.vivenu.events[EVENT] = TICKETS
    apps["vivenu"].state.vivenu.events[SMALL_EVENT] = SMALL
    with SandboxServer(apps) as urls:
        yield urls, apps["webhook"].state.receiver


def matching_tickets(event: str = EVENT, count: int = TICKETS) -> list[str]:
    rows = [vivenu.make_ticket(SEED, event, i) for i in range(count)]
    return [
        r["_id"]
        for r in rows
        if r["status"] in ("VALID", "DETAILSREQUIRED") and "charity" in r["ticketName"].lower()
    ]


def make_env(urls: dict[str, str], state: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": urls["vivenu"],
        "PROD_EVENT": EVENT,
        "VIVENU_SECRET": SECRET,
        "BOXOFFICE_STATE_DIR": str(state),
        "BOXOFFICE_SYNC_TARGETS": json.dumps({"prod": urls["webhook"] + "/ticket-created"}),
        "BOXOFFICE_SYNC_INTERVAL": "0.01",
        **extra,
    }


def push_command(*args: str, event: str = EVENT) -> list[str]:
    return [sys.executable, "-m", "boxoffice.cli", "sync", "push", "PROD", event, *args]


def start(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def stats(urls: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(urls["webhook"] + "/_sandbox/stats").json()
    return data


def test_two_identical_pushes_at_once_deliver_once(
    sandbox: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    urls, _ = sandbox
    # ~6 s of deliveries: the second process, however slowly it starts on a busy machine,
    # meets the first still holding the run (at 0.01 s the first could be done before it)
    env = make_env(urls, tmp_path / "state", BOXOFFICE_SYNC_INTERVAL="0.03")
    want = matching_tickets()
    first = start(push_command("--json"), env, tmp_path)
    second = start(push_command("--json"), env, tmp_path)
    outs = {p.pid: p.communicate(timeout=120) for p in (first, second)}
    codes = sorted(p.returncode for p in (first, second))
    assert codes == [0, BusyError.exit_code], outs
    winner, loser = (first, second) if first.returncode == 0 else (second, first)
    err = outs[loser.pid][1].strip().splitlines()
    assert len(err) == 1, err  # one line: who holds it and what to do
    assert f"held by pid {winner.pid} on {socket.gethostname()} since 20" in err[0]
    assert "--wait" in err[0]
    receiver = stats(urls)
    assert receiver["duplicates"] == 0
    assert receiver["accepted"] == len(want)
    assert json.loads(outs[winner.pid][0])["delivered"] == len(want)


def test_wait_starts_when_the_other_run_is_done_and_sends_nothing_twice(
    sandbox: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    urls, receiver = sandbox
    env = make_env(urls, tmp_path / "state", BOXOFFICE_SYNC_INTERVAL="0.05")
    want = matching_tickets()
    first = start(push_command("--json", "--limit", "100"), env, tmp_path)  # about 5 s
    deadline = time.monotonic() + 60
    while receiver.accepted < 5 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first run holds the lock now
    fast = {**env, "BOXOFFICE_SYNC_INTERVAL": "0"}
    waiting = start(push_command("--json", "--wait"), fast, tmp_path)
    out_first, err_first = first.communicate(timeout=120)
    out_wait, err_wait = waiting.communicate(timeout=120)
    assert first.returncode == 0, err_first
    assert waiting.returncode == 0, err_wait
    assert f"(pid {first.pid} on {socket.gethostname()}" in err_wait
    assert "waiting for it to finish" in err_wait
    assert json.loads(out_first)["delivered"] == 100
    late = json.loads(out_wait)
    assert late["skipped_already_delivered"] == 100  # it started after the first had finished
    assert late["delivered"] == len(want) - 100
    receiver_stats = stats(urls)
    assert receiver_stats["duplicates"] == 0
    assert receiver_stats["accepted"] == len(want)


def test_a_failing_ticket_waits_alone_then_the_same_command_resumes_it(
    sandbox: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    urls, _ = sandbox
    env = make_env(
        urls,
        tmp_path / "state",
        BOXOFFICE_SYNC_INTERVAL="0",
        BOXOFFICE_SYNC_RETRY_SCHEDULE="[0.3, 2.0]",
    )
    want = matching_tickets(SMALL_EVENT, SMALL)
    assert len(want) >= 3
    stuck = want[1]
    httpx.post(
        urls["webhook"] + "/_sandbox/fail", json={"ticket": stuck, "status": 503, "count": 2}
    )
    command = push_command("--max-wait", "1", "--json", event=SMALL_EVENT)
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 3, run.stderr
    summary = json.loads(run.stdout)
    assert summary["delivered"] == len(want) - 1  # the others were not held behind it
    assert summary["waiting"] == 1
    assert summary["dead"] == 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith(f"1 ticket(s) wait for a retry at {summary['next_retry_at']}")
    assert "boxoffice sync push PROD" in last
    assert "--max-wait 1" in last
    receiver = stats(urls)
    assert receiver["accepted"] == len(want) - 1
    assert receiver["failed_on_purpose"] == 2  # first attempt, then the retry after 0.3 s

    status = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "sync", "status", "PROD", SMALL_EVENT],
        cwd=tmp_path,
        env={**env, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    assert f"1 pending, next retry at {summary['next_retry_at']}" in status.stdout

    time.sleep(2.2)  # past the ticket's retry time
    again = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
    resumed = json.loads(again.stdout)
    assert resumed["delivered"] == 1
    assert resumed["skipped_already_delivered"] == len(want) - 1
    assert resumed["waiting"] == 0
    receiver = stats(urls)
    assert receiver["accepted"] == len(want)
    assert receiver["duplicates"] == 0


def read_only_command(command: list[str], folder: Path) -> list[str]:
    """``command`` run so that ``folder`` cannot be written: by file modes for a normal user;
    for root (who ignores them) inside a private mount namespace where ``folder`` is a
    read-only bind mount."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o555 if path.is_dir() else 0o444)
    if os.geteuid() != 0:
        return command
    unshare = shutil.which("unshare")
    assert unshare, "util-linux's unshare is needed to make a read-only folder for root"
    script = 'mount --bind "$0" "$0" && mount -o remount,ro,bind "$0" && exec "$@"'
    return [unshare, "-m", "sh", "-c", script, str(folder), *command]


def test_status_reads_a_read_only_ledger_and_names_the_target_at_80_columns(
    sandbox: tuple[dict[str, str], Any], tmp_path: Path
) -> None:
    urls, _ = sandbox
    state = tmp_path / "state"
    env = make_env(urls, state, BOXOFFICE_SYNC_INTERVAL="0")
    done = subprocess.run(
        push_command("--limit", "3"), cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    # a copy of the state dir the child may read but not write
    shared = Path(tempfile.mkdtemp(prefix="boxoffice-ro-"))
    try:
        shutil.copytree(state, shared / "state")
        ledger = shared / "state" / "sync" / "ledger.sqlite3"
        for leftover in ("-wal", "-shm"):
            Path(str(ledger) + leftover).unlink(missing_ok=True)
        before = ledger.read_bytes()
        command = [sys.executable, "-m", "boxoffice.cli", "sync", "status", "PROD"]
        status = subprocess.run(
            read_only_command(command, shared / "state"),
            cwd=shared,
            env={**env, "BOXOFFICE_STATE_DIR": str(shared / "state"), "COLUMNS": "80"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        assert ledger.read_bytes() == before
        lines = status.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80
        cells = [line.split("│") for line in lines if line.count("│") >= 7]
        target_column = [cell[2].strip() for cell in cells]
        assert target_column[0] == "prod"  # the target's name is shown, not cut
        assert "".join(target_column[1:]) == urls["webhook"] + "/ticket-created"  # whole URL
        row = cells[0]
        assert [c.strip() for c in row[3:6]] == ["0", "3", "0"]
    finally:
        for path in [shared, *shared.rglob("*")]:
            path.chmod(0o700)
        shutil.rmtree(shared)
