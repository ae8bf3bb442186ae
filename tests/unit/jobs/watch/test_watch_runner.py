"""Several watches on one event loop sharing notifications; the success path after a cart add."""

from __future__ import annotations

import json
import os
import ssl
import stat
from pathlib import Path

import httpx
import pytest

from boxoffice.core import notify, pacing
from boxoffice.core.http import CookieJar, HttpOptions
from boxoffice.jobs.watch.report import ListReporter
from boxoffice.jobs.watch.runner import RunOptions, run_watches
from boxoffice.jobs.watch.spec import WatchSpec
from boxoffice.jobs.watch.success import HandoffOptions, cookie_export_path
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer


class Recorder:
    """A notification channel that records what it was sent."""

    def __init__(self, name: str = "recorder", ok: bool = True) -> None:
        self.name = name
        self.ok = ok
        self.sent: list[notify.Notification] = []

    async def send(self, n: notify.Notification) -> notify.ChannelResult:
        self.sent.append(n)
        return notify.ChannelResult(self.name, self.ok, "delivered" if self.ok else "HTTP 500")


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def read_json(path: Path) -> dict[str, object]:
    return dict(json.loads(path.read_text()))


@pytest.fixture
def two_markets() -> tuple[object, object]:
    one, two = create_app(seed=1, event="org/one"), create_app(seed=2, event="org/two")
    one.state.market.add_listing("Standard", "95", after_polls=2)
    two.state.market.add_listing("VIP", "250", after_polls=4)
    return one, two


async def test_two_watches_run_concurrently_and_share_the_channels(
    tmp_path: Path, two_markets: tuple[object, object]
) -> None:
    one, two = two_markets
    recorder = Recorder()
    reporter = ListReporter()
    server = SandboxServer({"one": one, "two": two}, tls=True)
    with server as urls, pacing.instant():
        specs = [
            WatchSpec("one", urls["one"], "org/one", interval=15, max_polls=20),
            WatchSpec("two", urls["two"], "org/two", interval=30, max_polls=20),
        ]
        options = RunOptions(
            http=HttpOptions(verify=str(server.ca_file)),
            save_dir=tmp_path / "live",
            handoff=HandoffOptions(mode="none"),
            notifier=notify.Notifier([recorder]),
        )
        reports = await run_watches(specs, options, reporter)
    assert [r.ok for r in reports] == [True, True]
    assert [r.outcome.polls for r in reports] == [3, 5]
    assert sorted(n.data["watch"] for n in recorder.sent) == ["one", "two"]
    watch_names = [line.watch for line in reporter.lines]
    first_two = watch_names.index("two")
    assert "one" in watch_names[first_two:]  # interleaved: one event loop, both running
    for report in reports:
        delivery = report.delivery
        assert delivery is not None
        assert delivery.notified
        assert delivery.handoff == "skipped (headless)"
        assert delivery.cookie_file is not None
        assert mode(delivery.cookie_file) == 0o600


async def test_cookie_export_holds_host_prefixed_cookies_for_the_handoff(
    tmp_path: Path,
) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    recorder = Recorder()
    server = SandboxServer({"m": app}, tls=True)
    with server as urls, pacing.instant():
        options = RunOptions(
            http=HttpOptions(verify=str(server.ca_file)),
            save_dir=tmp_path / "live",
            handoff=HandoffOptions(mode="none"),
            notifier=notify.Notifier([recorder]),
        )
        (report,) = await run_watches(
            [WatchSpec("m", urls["m"], "demo/99x1", max_polls=5)], options, ListReporter()
        )
        assert report.delivery is not None
        path = report.delivery.cookie_file
        assert path is not None
        assert path.parent == tmp_path / "live"
        assert path.name.startswith("cookies_")
        jar = CookieJar.load(path)
        names = {record.name for record in jar.items()}
        assert {"__Host-pretix_session", "__Host-pretix_csrftoken", "__QXSESSION"} <= names
        # the saved session really is the one holding the ticket
        async with httpx.AsyncClient(
            cookies=jar.httpx_cookies, verify=ssl.create_default_context(cafile=server.ca_file)
        ) as http:
            page = await http.get(report.outcome.checkout_url or "")
        assert "Step 1 of 4" in page.text
        assert "Standard" in page.text
    (message,) = recorder.sent
    assert report.outcome.checkout_url in message.body
    assert str(path) in message.body
    assert message.url == report.outcome.checkout_url
    assert message.data["cookie_file"] == str(path)
    session = jar.get("__Host-pretix_session")
    assert session
    assert session not in message.body


async def test_a_failing_channel_is_reported_and_does_not_undo_the_cart(
    tmp_path: Path,
) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    reporter = ListReporter()
    with SandboxServer({"m": app}) as urls, pacing.instant():
        options = RunOptions(
            save_dir=tmp_path / "live",
            handoff=HandoffOptions(mode="none"),
            notifier=notify.Notifier([Recorder("good"), Recorder("broken", ok=False)]),
        )
        (report,) = await run_watches(
            [WatchSpec("m", urls["m"], "demo/99x1", max_polls=5)], options, reporter
        )
    assert report.ok
    assert report.delivery is not None
    assert not report.delivery.notified
    assert any("broken failed: HTTP 500" in t for t in reporter.texts("error"))
    assert any("notified via good" in t for t in reporter.texts("info"))


async def test_browser_handoff_failure_prints_manual_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app()
    app.state.market.add_listing("Standard", "95")
    reporter = ListReporter()
    with SandboxServer({"m": app}) as urls, pacing.instant():
        options = RunOptions(
            save_dir=tmp_path / "live",
            handoff=HandoffOptions(mode="open", executable=tmp_path / "no-such-browser"),
        )
        (report,) = await run_watches(
            [WatchSpec("m", urls["m"], "demo/99x1", max_polls=5)], options, reporter
        )
    assert report.ok
    assert report.delivery is not None
    assert report.delivery.handoff == "failed"
    errors = "\n".join(reporter.texts("error"))
    assert "browser handoff failed" in errors
    assert "document.cookie" in errors or "__Host-" in errors or "pretix_session" in errors


def test_cookie_export_names_do_not_collide(tmp_path: Path) -> None:
    first = cookie_export_path(tmp_path)
    first.write_text("x")
    second = cookie_export_path(tmp_path)
    assert first != second
    assert second.name.startswith(first.stem)
