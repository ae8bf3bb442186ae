"""The watch job's entry: the runtime `watch run` builds from settings and flags, reusable
without the CLI (a prepared run against the sandbox marketplace carts like the command)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from boxoffice.core import pacing
from boxoffice.core.config import load_settings
from boxoffice.errors import ConfigurationError
from boxoffice.jobs.watch import entry
from boxoffice.jobs.watch.report import ListReporter
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import Settings


def settings_with(tmp_path: Path, **watch: Any) -> Settings:
    cli = {"watch": {"headless": True, "save_responses": tmp_path / "saved", **watch}}
    return load_settings(Settings, cli=cli, env_file=None)


def console() -> Console:
    return Console(file=io.StringIO(), width=200)


def text(out: Console) -> str:
    file = out.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def prepare(
    settings: Settings, url: str, event: str, *, max_polls: int = 1, err: Console | None = None
) -> entry.WatchRun:
    """What `watch run --url URL --event EVENT --headless` prepares (no channel flags)."""
    return entry.prepare(
        settings,
        url=url,
        event=event,
        dry_run=False,
        max_polls=max_polls,
        channels=entry.Channels(),
        heartbeat=None,
        browser_headless=False,
        err=err or console(),
        out=console(),
    )


def test_an_http_notify_url_is_a_webhook_and_anything_else_apprise(tmp_path: Path) -> None:
    channels = entry.Channels(notify=["https://hooks.example.org/x", "json://127.0.0.1:9/x"])
    notifier = entry.notifier_for(settings_with(tmp_path), channels)
    assert notifier is not None
    assert sorted(type(c).__name__ for c in notifier.channels) == [
        "AppriseChannel",
        "WebhookChannel",
    ]
    assert entry.notifier_for(settings_with(tmp_path), entry.Channels()) is None


def test_a_missing_ca_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="does not exist"):
        entry.http_options(settings_with(tmp_path, ca_file=tmp_path / "nope.pem"))


def test_an_unwritable_save_dir_is_refused_before_anything_is_polled(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings = settings_with(tmp_path, save_responses=blocker / "saved")
    with pytest.raises(ConfigurationError, match="cannot write to the save dir") as refused:
        prepare(settings, "http://127.0.0.1:9", "org/ev")
    assert "nothing was polled" in (refused.value.hint or "")


def test_prepare_warns_about_a_fast_interval_and_a_run_without_channels(tmp_path: Path) -> None:
    err = console()
    prepared = prepare(settings_with(tmp_path, interval=3), "http://127.0.0.1:9", "org/ev", err=err)
    assert [s.interval for s in prepared.specs] == [3]
    assert prepared.options.handoff.mode == "none"  # --headless: no browser at all
    shown = text(err)
    assert "warning: interval 3 s is below 5 s" in shown
    assert "note: no notification channel" in shown


def test_a_prepared_run_carts_the_listing_like_the_command(tmp_path: Path) -> None:
    app = create_app(seed=3)
    market = app.state.market
    market.add_listing("Ticket – Standard", "95.00", after_polls=2)
    with SandboxServer({"market": app}) as urls, pacing.instant():
        settings = settings_with(tmp_path, interval=0.01, jitter=0, i_know_what_i_am_doing=True)
        prepared = prepare(settings, urls["market"], market.event, max_polls=10)
        reports = asyncio.run(entry.watch(prepared, ListReporter()))
    [report] = reports
    assert report.ok
    assert report.outcome.checkout_url is not None
    assert "/checkout/" in report.outcome.checkout_url
    assert report.delivery is not None
    assert report.delivery.cookie_file is not None
    assert report.delivery.cookie_file.parent == tmp_path / "saved"
