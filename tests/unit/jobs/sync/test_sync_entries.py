"""The sync job's entries, called as the CLI calls them (settings and the environment in) but
without the CLI, against the Vivenu and webhook sandboxes: what reaches the receiver, what the
ledger says, what lands on disk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.jobs.sync import pulling, pushing
from boxoffice.jobs.sync.push import PushConfig
from boxoffice.jobs.sync.regions import Region
from boxoffice.jobs.sync.runner import PushRequest
from boxoffice.jobs.sync.status import ledger_status
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import Settings
from boxoffice.settings.sync import SyncSettings

SECRET = "unit-hmac-secret"
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
def env(sandbox: dict[str, str]) -> dict[str, str]:
    httpx.post(sandbox["webhook"] + "/_sandbox/reset")
    httpx.post(sandbox["vivenu"] + "/_sandbox/reset")
    return {
        "PROD_API": "sandbox-key",
        "PROD_BASE_URL": sandbox["vivenu"],
        "PROD_EVENT": EVENT,
        "VIVENU_SECRET": SECRET,
    }


@pytest.fixture
def settings(sandbox: dict[str, str], tmp_path: Path) -> Settings:
    return Settings(
        state_dir=tmp_path / "state",
        sync=SyncSettings(
            targets={"prod": sandbox["webhook"] + "/ticket-created"},
            interval=0,
            out_dir=tmp_path / "out",
            progress_dir=tmp_path,
        ),
    )


def accepted(sandbox: dict[str, str]) -> int:
    stats: dict[str, Any] = httpx.get(sandbox["webhook"] + "/_sandbox/stats").json()
    return int(stats["accepted"])


class Told(pushing.PushReporter):
    def __init__(self) -> None:
        self.started: list[PushConfig] = []
        self.stopped = 0

    def starting(self, cfg: PushConfig) -> None:
        self.started.append(cfg)

    def stop(self) -> None:
        self.stopped += 1


def test_push_delivers_every_match_once_and_the_ledger_says_so(
    settings: Settings, env: dict[str, str], sandbox: dict[str, str]
) -> None:
    told = Told()
    request = PushRequest(region="prod", event=EVENT, target="prod", limit=5)
    run = pushing.push(settings, env, request, told)
    assert (run.result.delivered, run.result.dead) == (5, 0)
    assert accepted(sandbox) == 5
    assert [cfg.event for cfg in told.started] == [EVENT]
    assert told.stopped == 1

    again = pushing.push(settings, env, request, Told())
    assert again.result.plan.already_delivered == 5
    assert accepted(sandbox) == 10  # five more: the limit counts this run's sends

    status = ledger_status(settings, "prod", EVENT)
    assert status.region == "PROD"
    [line] = status.lines
    assert (line.delivered, line.dead) == (10, 0)
    assert status.target_names == {sandbox["webhook"] + "/ticket-created": "prod"}
    assert status.as_json()["runs"][0]["delivered"] == 10


def test_a_dry_run_sends_nothing_and_needs_no_secret(
    settings: Settings, env: dict[str, str], sandbox: dict[str, str]
) -> None:
    no_secret = {k: v for k, v in env.items() if k != "VIVENU_SECRET"}
    run = pushing.push(
        settings, no_secret, PushRequest(region="PROD", target="prod", dry_run=True), Told()
    )
    assert run.result.dry_run
    assert run.result.plan.to_send > 0
    assert accepted(sandbox) == 0
    assert ledger_status(settings, "PROD").lines == []


def test_status_without_a_ledger_is_empty_and_creates_nothing(settings: Settings) -> None:
    status = ledger_status(settings, "prod")
    assert (status.lines, status.dead) == ([], [])
    assert status.as_json() == {"region": "PROD", "runs": [], "dead_letters": []}
    assert settings.state_dir is not None
    assert not settings.state_dir.exists()


class PullTold:
    def __init__(self) -> None:
        self.starting_at: list[tuple[str, str]] = []
        self.pages: list[tuple[int, int]] = []

    def starting(self, region: Region, event: str) -> None:
        self.starting_at.append((region.name, event))

    def page(self, pulled: int, total: int) -> None:
        self.pages.append((pulled, total))

    def retrying(self, reason: str, wait: float) -> None:
        raise AssertionError(f"no retry expected: {reason}")


def test_pull_writes_the_event_tickets(
    settings: Settings, env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    told = PullTold()
    result = pulling.pull(settings, "prod", None, told, individual=False)
    assert told.starting_at == [("PROD", EVENT)]
    assert told.pages[-1] == (1000, 1000)
    assert result.pulled == 1000
    saved = json.loads((settings.sync.out_dir / "purchased_tickets" / EVENT / "all_tickets.json")
                       .read_text())  # fmt: skip
    assert len(saved) == 1000
    single = settings.sync.out_dir / "purchased_tickets" / EVENT / "individual"
    assert not single.exists() or not any(single.iterdir())  # no per-ticket files
