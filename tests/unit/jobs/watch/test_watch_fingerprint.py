"""The archive's page fingerprint runs when a poll reads something new, not on every poll."""

from __future__ import annotations

from pathlib import Path

import pytest
from watch_harness import Sleeps, run_watch

from boxoffice.jobs.watch import archive
from boxoffice.sandbox.pretix_marketplace import create_app


@pytest.fixture
def fingerprints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = archive.page_fingerprint

    def counted(html: str) -> str:
        calls.append(html)
        return real(html)

    monkeypatch.setattr(archive, "page_fingerprint", counted)
    return calls


async def test_an_unchanged_marketplace_is_fingerprinted_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fingerprints: list[str]
) -> None:
    Sleeps(monkeypatch)
    app = create_app()
    app.state.market.add_listing("VIP", "300")  # above --max-price: watched, never bought
    outcome, _, _ = await run_watch(app, tmp_path, max_polls=12, max_price=100)
    assert outcome.polls == 12
    assert len(fingerprints) == 1
    assert len([p for p in outcome.archived if "marketplace" in p.name]) == 1


async def test_a_new_listing_makes_the_page_new_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fingerprints: list[str]
) -> None:
    Sleeps(monkeypatch)
    app = create_app()
    market = app.state.market
    market.add_listing("VIP", "300")
    market.add_listing("VIP", "310", after_polls=5)
    outcome, _, _ = await run_watch(app, tmp_path, max_polls=10, max_price=100)
    assert outcome.polls == 10
    assert len(fingerprints) == 2  # one page with one listing, one with two
    assert len([p for p in outcome.archived if "marketplace" in p.name]) == 2
