"""Real pretix: the watch's notifications reach a local webhook — marketplace opened, then
the cart add with the reservation deadline read from pretix's own checkout page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pretix_peer import PretixPeer
from test_real_pretix_watch import EVENT_LINE, _run_watch
from tests.monitoring import LocalMonitor

pytestmark = pytest.mark.pretix


def test_watch_notifies_marketplace_opened_and_the_cart_deadline(
    pretix: PretixPeer,
    cli_dir: Path,
    local_monitor: LocalMonitor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOXOFFICE_NOTIFY_ON", '["success", "failure", "info"]')
    pretix.set_marketplace(False)

    def open_marketplace() -> dict[str, Any]:
        pretix.set_marketplace(True)
        return pretix.add_listing("Standard", "45.00")

    before = datetime.now(UTC)
    run = _run_watch(
        pretix, cli_dir, "--headless", "--poll-inactive-marketplace", "0.5",
        "--notify", local_monitor.webhook, "--heartbeat", local_monitor.heartbeat("real"),
        wait_for=EVENT_LINE, then=open_marketplace,
    )  # fmt: skip
    assert run.code == 0, run.diag()
    local_monitor.wait_for(2)
    assert local_monitor.monitor.events() == ["watch.marketplace_opened", "watch.carted"]
    (carted,) = local_monitor.bodies("watch.carted")
    fields = carted["data"]["fields"]  # type: ignore[index]
    deadline = datetime.fromisoformat(fields["reservation_deadline"])
    # pretix reserves a cart for the event's reservation time (30 minutes by default)
    assert before < deadline < datetime.now(UTC) + timedelta(hours=2)
    assert carted["url"] == run.watch["checkout_url"]
    assert local_monitor.monitor.ping_kinds("real")[0] == "start"
    assert local_monitor.monitor.ping_kinds("real")[-1] == "success"
