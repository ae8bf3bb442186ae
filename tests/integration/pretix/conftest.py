"""Fixtures for the real-pretix tests: one HTTPS pretix per session (see pretix_peer.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pretix_peer import PretixPeer, PretixPeerError, start

_PEER: list[PretixPeer] = []


@pytest.fixture(scope="session")
def pretix_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PretixPeer]:
    """Real pretix over HTTPS on 127.0.0.1 (installed into .pretix/ on first use, cached).

    A failing bring-up fails the tests with the step and the server's log tail; it never
    skips and never hangs (every step has a timeout).
    """
    run_dir = tmp_path_factory.mktemp("pretix")
    try:
        peer = start(run_dir)
    except PretixPeerError as exc:
        pytest.fail(str(exc), pytrace=False)
    _PEER.append(peer)
    try:
        yield peer
    finally:
        _PEER.remove(peer)
        peer.stop()


@pytest.fixture
def pretix(pretix_server: PretixPeer) -> PretixPeer:
    """The session's pretix with a clean marketplace: active, no listings on offer."""
    pretix_server.set_marketplace(True)
    for listing in pretix_server.listings():
        if listing["state"] == "available":
            pretix_server.remove_listing(int(listing["id"]))
    return pretix_server


@pytest.fixture
def cli_dir(tmp_path: Path) -> Path:
    """Where a CLI run keeps its output files and saved responses."""
    path = tmp_path / "cli"
    path.mkdir()
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failing pretix test, attach the server log tail to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _PEER and "pretix" in item.keywords:
        report.sections.append(("pretix server log (tail)", _PEER[0].log_tail(60)))
