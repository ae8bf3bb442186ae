"""Fixtures for the real-LibreBooking tests: one server per session (see librebooking_peer.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from librebooking_peer import (
    LibreBookingPeer,
    LibreBookingPeerError,
    SourceMissing,
    find_source,
    start,
)

_PEER: list[LibreBookingPeer] = []


@pytest.fixture(scope="session")
def librebooking_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibreBookingPeer]:
    """Real LibreBooking 2.8.6.2 on 127.0.0.1 (PHP built-in server, private MariaDB).

    Skipped only when the release source is not there (with where to get it); a failing
    bring-up fails the tests with the step and its log tail, never hangs.
    """
    try:
        find_source()
    except SourceMissing as exc:
        pytest.skip(str(exc))
    run_dir = tmp_path_factory.mktemp("librebooking")
    try:
        peer = start(run_dir)
    except LibreBookingPeerError as exc:
        pytest.fail(str(exc), pytrace=False)
    _PEER.append(peer)
    try:
        yield peer
    finally:
        _PEER.remove(peer)
        peer.stop()


@pytest.fixture
def librebooking(librebooking_server: LibreBookingPeer) -> Iterator[LibreBookingPeer]:
    """The session's server with the API on, no reservations, no notice limits."""
    peer = librebooking_server
    peer.set_api(True)
    peer.clear_reservations()
    peer.sql("UPDATE resources SET max_notice_time=NULL")
    yield peer
    peer.set_api(True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failing LibreBooking test, attach the PHP server's log tail to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and _PEER and "librebooking" in item.keywords:
        report.sections.append(("LibreBooking php log (tail)", _PEER[0].log_tail(60)))
