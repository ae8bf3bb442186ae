"""`sync push` tells the user: finished counts, dead letters, blocked — and pings a monitor."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.monitoring import LocalMonitor

from boxoffice.cli import main as cli_main
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "e2e-notify-secret"
EVENT = vivenu.SEED_EVENT


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, str]]:
    apps = {
        "vivenu": vivenu.create_app(seed=0),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
    }
    with SandboxServer(apps) as urls:
        yield urls


@pytest.fixture
def env(sandbox: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    httpx.post(sandbox["webhook"] + "/_sandbox/reset")
    for key, value in {
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": sandbox["vivenu"],
        "PROD_EVENT": EVENT,
        "VIVENU_SECRET": SECRET,
        "BOXOFFICE_SYNC_TARGETS": json.dumps({"prod": sandbox["webhook"] + "/ticket-created"}),
        "BOXOFFICE_SYNC_INTERVAL": "0",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
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


def test_a_sync_with_a_dead_letter_notifies_count_and_first_reason(
    env: None,
    sandbox: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    local_monitor: LocalMonitor,
) -> None:
    httpx.post(sandbox["webhook"] + "/_sandbox/fail", json={"status": 422, "count": 1})
    code, _, _ = cli(
        capsys, "sync", "push", "PROD", "--limit", "3", "--json",
        "--notify", local_monitor.webhook, "--heartbeat", local_monitor.heartbeat("sync"),
    )  # fmt: skip
    assert code == 1
    (dead,) = local_monitor.bodies("sync.dead_letters")
    fields = dead["data"]["fields"]  # type: ignore[index]
    assert fields["dead"] == 1
    assert fields["delivered"] == 2
    assert str(fields["first_reason"]).startswith("HTTP 422")
    assert dead["data"]["kind"] == "failure"  # type: ignore[index]
    assert SECRET not in json.dumps(dead)
    kinds = local_monitor.monitor.ping_kinds("sync")
    assert kinds[0] == "start"
    assert kinds[-1] == "success"  # the run itself finished: the dead letter is the notice


def test_a_clean_sync_notifies_finished_with_counts(
    env: None, capsys: pytest.CaptureFixture[str], local_monitor: LocalMonitor
) -> None:
    code, _, _ = cli(
        capsys, "sync", "push", "PROD", "--limit", "4", "--notify", local_monitor.webhook
    )
    assert code == 0
    assert local_monitor.monitor.events() == ["sync.finished"]
    (done,) = local_monitor.bodies("sync.finished")
    assert done["data"]["fields"]["delivered"] == 4  # type: ignore[index]


def test_a_blocked_sync_notifies_and_pings_fail(
    env: None,
    capsys: pytest.CaptureFixture[str],
    local_monitor: LocalMonitor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("VIVENU_SECRET", "not-the-secret")
    code, _, _ = cli(
        capsys, "sync", "push", "PROD", "--limit", "5",
        "--notify", local_monitor.webhook, "--heartbeat", local_monitor.heartbeat("s2"),
    )  # fmt: skip
    assert code != 0
    assert local_monitor.monitor.events() == ["sync.blocked"]
    (blocked,) = local_monitor.bodies("sync.blocked")
    assert "VIVENU_SECRET" in str(blocked["body"])  # what to check, named
    assert local_monitor.monitor.ping_kinds("s2") == ["start", "fail"]
    assert "not-the-secret" not in json.dumps(local_monitor.monitor.received())
