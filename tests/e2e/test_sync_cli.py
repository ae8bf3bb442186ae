"""`boxoffice sync …` end to end against the sandbox (vivenu + webhook receiver on loopback).

Commands run in-process through the real entry point (``boxoffice.cli.main.run``) for speed;
the interrupt test runs a real subprocess and sends it SIGINT.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.cli import main as cli_main
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "e2e-hmac-secret"
EVENT = vivenu.SEED_EVENT


def expected_count(statuses: tuple[str, ...] = ("VALID", "DETAILSREQUIRED")) -> int:
    rows = [vivenu.make_ticket(0, EVENT, i) for i in range(1000)]
    return sum(r["status"] in statuses and "charity" in r["ticketName"].lower() for r in rows)


RECEIVERS: dict[str, Any] = {}


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, str]]:
    apps = {
        "vivenu": vivenu.create_app(seed=0),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
    }
    with SandboxServer(apps) as urls:
        RECEIVERS[urls["webhook"]] = apps["webhook"].state.receiver
        yield urls


@pytest.fixture
def env(sandbox: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    httpx.post(sandbox["webhook"] + "/_sandbox/reset")
    httpx.post(sandbox["vivenu"] + "/_sandbox/reset")
    values = {
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": sandbox["vivenu"],
        "PROD_EVENT": EVENT,
        "VIVENU_SECRET": SECRET,
        "BOXOFFICE_SYNC_TARGETS": json.dumps(
            {
                "test": sandbox["webhook"] + "/test-created",
                "prod": sandbox["webhook"] + "/ticket-created",
            }
        ),
        "BOXOFFICE_SYNC_INTERVAL": "0",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return values


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `boxoffice ARGS` through the real entry point; (exit code, stdout, stderr)."""
    saved = sys.argv
    sys.argv = ["boxoffice", *args]
    code = 0
    try:
        cli_main.run()
    except SystemExit as exc:
        code = int(exc.code or 0)
    finally:
        sys.argv = saved
    out, err = capsys.readouterr()
    return code, out, err


def stats(sandbox: dict[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = httpx.get(sandbox["webhook"] + "/_sandbox/stats").json()
    return data


def test_seed_workflow_pull_test_push_status(
    env: dict[str, str], sandbox: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    want = expected_count()
    code, out, _ = cli(capsys, "sync", "pull", "PROD", EVENT)
    assert code == 0
    assert "Found 1000 total tickets" in out
    assert (
        len(json.loads((tmp_path / "purchased_tickets" / EVENT / "all_tickets.json").read_text()))
        == 1000
    )

    code, out, _ = cli(capsys, "sync", "push", "PROD", "--test")
    assert code == 0, out
    assert "Tickets to send: 1" in out
    assert stats(sandbox)["accepted"] == 1

    code, out, _ = cli(capsys, "sync", "push", "PROD", EVENT, "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["total"] == 1000
    assert summary["filtered"] == want
    assert summary["delivered"] == want
    assert summary["skipped_already_delivered"] == 0  # the --test delivery went to the test target
    assert summary["dead"] == 0
    assert {
        "total",
        "filtered",
        "delivered",
        "skipped_already_delivered",
        "dead",
        "duration_s",
    } <= set(summary)
    receiver = stats(sandbox)
    assert receiver["accepted"] == want + 1
    assert receiver["duplicates"] == 0
    assert receiver["invalid_signature"] == 0

    code, out, _ = cli(capsys, "sync", "push", "PROD", EVENT, "--json")
    assert json.loads(out)["skipped_already_delivered"] == want
    assert json.loads(out)["delivered"] == 0

    code, out, _ = cli(capsys, "sync", "status", "PROD", EVENT, "--json")
    assert code == 0
    runs = {run["target"]: run for run in json.loads(out)["runs"]}
    assert runs[sandbox["webhook"] + "/ticket-created"]["delivered"] == want
    assert runs[sandbox["webhook"] + "/test-created"]["delivered"] == 1
    progress = json.loads((tmp_path / "historical_sync_progress_PROD.json").read_text())
    assert progress["tickets_sent"] == want + 1
    methods = {
        e["method"] for e in httpx.get(sandbox["vivenu"] + "/_sandbox/log").json()["requests"]
    }
    assert methods == {"GET"}


def test_dry_run_sends_nothing(
    env: dict[str, str], sandbox: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = cli(capsys, "sync", "push", "PROD", "--dry-run", "--limit", "3")
    assert code == 0
    assert "Dry run: would send 3 ticket(s)" in out
    assert stats(sandbox)["received"] == 0


def test_bad_key_and_unknown_region_are_one_line(
    env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = cli(capsys, "sync", "push", "ITALY")
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("error: unknown region ITALY")
    assert "configured regions: PROD" in err
    monkeypatch.setenv("PROD_API", "not-the-key")
    code, _, err = cli(capsys, "sync", "pull", "PROD")
    assert code == 4
    assert "PROD_API" in err.strip().splitlines()[-1]
    assert "not-the-key" not in err


def test_wrong_secret_dead_letters_with_hint(
    env: dict[str, str],
    sandbox: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIVENU_SECRET", "not-the-secret")
    code, _, err = cli(capsys, "sync", "push", "PROD", "--limit", "5")
    assert code == 4
    assert "VIVENU_SECRET" in err
    code, out, _ = cli(capsys, "sync", "status", "PROD")
    assert "VIVENU_SECRET" in out
    assert "--retry-dead" in out
    monkeypatch.setenv("VIVENU_SECRET", SECRET)
    code, out, _ = cli(capsys, "sync", "push", "PROD", "--limit", "5", "--retry-dead", "--json")
    assert code == 0
    assert json.loads(out)["delivered"] == 5
    assert stats(sandbox)["accepted"] == 5


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_exits_130_with_resume_line_then_resumes(
    signum: signal.Signals,
    env: dict[str, str],
    sandbox: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proc_env = {**os.environ, **env, "BOXOFFICE_SYNC_INTERVAL": "0.1"}
    command = [
        sys.executable,
        "-m",
        "boxoffice.cli",
        "sync",
        "push",
        "PROD",
        "--status",
        "DETAILSREQUIRED",
    ]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=proc_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    receiver = RECEIVERS[sandbox["webhook"]]  # read in-process: no HTTP polling
    deadline = time.monotonic() + 60
    while receiver.accepted < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "resume with the same command: boxoffice sync push PROD --status DETAILSREQUIRED" in err
    want = expected_count(("DETAILSREQUIRED",))
    first = stats(sandbox)["accepted"]
    assert 5 <= first < want
    # the same command again (in-process, unpaced) finishes the job
    code, out, err = cli(capsys, "sync", "push", "PROD", "--status", "DETAILSREQUIRED", "--json")
    assert code == 0, err
    summary = json.loads(out)
    receiver = stats(sandbox)
    assert receiver["accepted"] == want
    assert receiver["duplicates"] <= 1  # at most the one in flight at the interrupt
    assert summary["delivered"] + summary["skipped_already_delivered"] == want
    assert summary["skipped_already_delivered"] >= first - 1


def test_permanent_rejection_is_a_dead_letter_and_exit_1(
    env: dict[str, str], sandbox: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    httpx.post(sandbox["webhook"] + "/_sandbox/fail", json={"status": 422, "count": 1})
    code, out, err = cli(capsys, "sync", "push", "PROD", "--limit", "3", "--json")
    assert code == 1
    assert json.loads(out)["dead"] == 1
    assert json.loads(out)["delivered"] == 2
    assert "1 ticket(s) became dead letters" in err
    assert "--retry-dead" in err
    code, out, _ = cli(capsys, "sync", "status", "PROD", "--json")
    (dead,) = json.loads(out)["dead_letters"]
    assert dead["last_status"] == 422
