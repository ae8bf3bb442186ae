"""core.http figures: cost of the boxoffice client (metrics hooks + deadline) over bare httpx,
HTTP/1.1 vs HTTP/2 on one kept-alive TLS connection, and the cost of archiving a page.

Run: ``python -m bench http`` (or ``python bench/bench_http.py``). Prints figures only.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bench._results import record
from boxoffice.core.http import HttpOptions, ResponseArchive, create_client
from boxoffice.sandbox.server import SandboxServer

PAGE = (
    "<html><body>"
    + '<div class="panel panel-default"><h2 class="text-primary">€ 49.00</h2>'
    + '<input type="hidden" name="csrfmiddlewaretoken" value="tok123456789"></div>' * 400
    + "</body></html>"
)
ROUNDS = 300


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers={"set-cookie": "__Host-s=abcdef123456; Path=/; Secure"})


APP = Starlette(routes=[Route("/", page)])


async def one(client: httpx.AsyncClient, url: str) -> float:
    start = time.perf_counter()
    response = await client.get(url)
    response.raise_for_status()
    return (time.perf_counter() - start) * 1000


async def interleaved(
    bare: httpx.AsyncClient, ours: httpx.AsyncClient, url: str
) -> tuple[list[float], list[float]]:
    """Alternate the two clients request by request, so server-side drift hits both alike."""
    await bare.get(url)  # warm both connections
    await ours.get(url)
    bare_ms, ours_ms = [], []
    for _ in range(ROUNDS):
        bare_ms.append(await one(bare, url))
        ours_ms.append(await one(ours, url))
    return bare_ms, ours_ms


async def main() -> None:
    server = SandboxServer({"shop": APP}, tls=True)
    urls = server.start()
    assert server.ca_file is not None
    ca = str(server.ca_file)
    url = urls["shop"] + "/"
    try:
        rows = []
        for http2 in (False, True):
            async with (
                httpx.AsyncClient(http2=http2, verify=HttpOptions(verify=ca).ssl_context()) as bare,
                create_client(options=HttpOptions(verify=ca, http2=http2)) as ours,
            ):
                bare_ms, ours_ms = await interleaved(bare, ours, url)
                last = ours.metrics.last
            assert last is not None
            rows.append((bare_ms, ours_ms, last))
        print("(the test server runs in this process: absolute figures are pessimistic)")
        print(
            f"{ROUNDS} sequential GETs of a {len(PAGE) // 1024} KiB page over TLS, one connection"
        )
        print(f"{'protocol':<10}{'bare httpx ms':>16}{'boxoffice ms':>16}{'overhead':>10}")
        for bare_ms, ours_ms, last in rows:
            b, o = statistics.median(bare_ms), statistics.median(ours_ms)
            print(f"{last.http_version:<10}{b:>16.3f}{o:>16.3f}{o / b:>9.2f}x")
            record(
                "core",
                f"GET of a {len(PAGE) // 1024} KiB page over TLS, {last.http_version} "
                f"(median of {ROUNDS})",
                o,
                "ms",
                baseline="bare httpx",
                ratio=o / b,
            )
            print(
                f"  last request metrics: ttfb {last.ttfb_ms:.2f} ms, ttlb {last.ttlb_ms:.2f} ms,"
                f" {last.bytes_received} bytes"
            )

        async with create_client(options=HttpOptions(verify=ca)) as client:
            response = await client.get(url)
        with tempfile.TemporaryDirectory() as tmp:
            archive = ResponseArchive(Path(tmp), secrets=["some-secret-value"])
            start = time.perf_counter()
            for i in range(50):
                archive.save(response, f"page-{i}")
            per = (time.perf_counter() - start) * 1000 / 50
        print(f"ResponseArchive.save of that page (redacted, 2 files, fsync): {per:.2f} ms")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
