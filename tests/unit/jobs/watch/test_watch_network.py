"""The watch over real sockets: Retry-After timing seen by the server, HTTP/2 reconnects, TLS."""

from __future__ import annotations

import socket
from pathlib import Path

from watch_harness import run_watch

from boxoffice.core import pacing
from boxoffice.core.http import HttpOptions
from boxoffice.errors import NetworkError
from boxoffice.jobs.watch.watcher import Watcher
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer

MARKET = "/demo/99x1/secondhand/"


def polls_of(app: object) -> list[tuple[float, int, int | None, str]]:
    records = app.state.market.records()  # type: ignore[attr-defined]
    return [(r.t, r.status, r.client_port, r.http_version) for r in records if r.path == MARKET]


async def test_no_request_arrives_before_a_409_retry_after_expired(tmp_path: Path) -> None:
    app = create_app()
    app.state.market.inject(409, retry_after="0.3", count=2)
    with SandboxServer({"m": app}) as urls:
        await run_watch(None, tmp_path, base=urls["m"], interval=0.05, max_polls=3)
    polls = polls_of(app)
    assert [status for _, status, _, _ in polls] == [409, 409, 200]
    assert polls[1][0] - polls[0][0] >= 0.3
    assert polls[2][0] - polls[1][0] >= 0.3


async def test_no_request_arrives_before_a_429_retry_after_expired(tmp_path: Path) -> None:
    app = create_app()
    app.state.market.inject(429, retry_after="0.4")

    def small_backoff(watcher: Watcher) -> None:
        watcher.rate_backoff = pacing.Backoff(0.05, 2.0, 1.0)

    with SandboxServer({"m": app}) as urls:
        await run_watch(
            None, tmp_path, base=urls["m"], interval=0.05, max_polls=2, configure=small_backoff
        )
    polls = polls_of(app)
    assert [status for _, status, _, _ in polls] == [429, 200]
    assert polls[1][0] - polls[0][0] >= 0.4


async def test_one_connection_is_reused_across_polls(tmp_path: Path) -> None:
    app = create_app()
    server = SandboxServer({"m": app}, tls=True)
    with server as urls, pacing.instant():
        options = HttpOptions(verify=str(server.ca_file))
        await run_watch(None, tmp_path, base=urls["m"], options=options, max_polls=7)
    polls = polls_of(app)
    assert len(polls) == 7
    assert {version for *_, version in polls} == {"2"}
    assert len({port for _, _, port, _ in polls}) == 1


async def test_polling_continues_across_http2_goaway(tmp_path: Path) -> None:
    app = create_app()
    server = SandboxServer({"m": app}, tls=True, keep_alive_max_requests=3)
    with server as urls, pacing.instant():
        options = HttpOptions(verify=str(server.ca_file))
        outcome, reporter, _ = await run_watch(
            None, tmp_path, base=urls["m"], options=options, max_polls=15
        )
    assert outcome.error is None
    assert outcome.polls == 15
    assert all(line.status == 200 for line in reporter.lines)
    polls = polls_of(app)
    assert all(status == 200 for _, status, _, _ in polls)
    assert {version for *_, version in polls} == {"2"}
    assert len({port for _, _, port, _ in polls}) >= 4  # the server closed connections
    assert not reporter.texts("error")
    assert not reporter.texts("warning")


async def test_untrusted_certificate_is_a_tls_error(tmp_path: Path) -> None:
    app = create_app()
    with SandboxServer({"m": app}, tls=True) as urls, pacing.instant():
        outcome, _, _ = await run_watch(None, tmp_path, base=urls["m"])
    assert isinstance(outcome.error, NetworkError)
    assert "TLS" in outcome.error.message


async def test_unreachable_server_is_a_network_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pacing.instant():
        outcome, _, _ = await run_watch(None, tmp_path, base=f"http://127.0.0.1:{port}")
    assert isinstance(outcome.error, NetworkError)
    assert "cannot connect" in outcome.error.message
