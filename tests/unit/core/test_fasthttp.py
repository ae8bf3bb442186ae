"""core.fasthttp: the aiohttp wire under the httpx client behaves like httpx's own transport
(cookies incl. ``__Host-``, redirects left to the caller, bodies, errors, keep-alive), and
the adaptive transport keeps HTTP/2 where the server negotiates it."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from test_http import APP as PEER_APP

from boxoffice.core.http import CookieJar, HttpOptions, create_client, request
from boxoffice.errors import NetworkError
from boxoffice.sandbox.server import SandboxServer


async def form(request: Request) -> Response:
    body = await request.body()
    return JSONResponse(
        {
            "method": request.method,
            "body": body.decode(),
            "headers": {k: v for k, v in request.headers.items() if k != "user-agent"},
            "user_agent": request.headers.get("user-agent"),
        }
    )


async def moved(request: Request) -> Response:
    response = RedirectResponse("/org/ev/checkout/start", status_code=302)
    response.headers.append("set-cookie", "pretix_session=after-post; Path=/; HttpOnly")
    return response


async def zipped(request: Request) -> Response:
    data = gzip.compress(json.dumps({"ok": "déjà"}).encode())
    return Response(data, headers={"content-encoding": "gzip", "content-type": "application/json"})


APP = Starlette(
    routes=[
        Route("/form", form, methods=["POST"]),
        Route("/moved", moved, methods=["POST"]),
        Route("/zipped", zipped),
        *PEER_APP.routes,
    ]
)


@pytest.fixture(scope="module")
def plain_server() -> Iterator[SandboxServer]:
    server = SandboxServer({"peer": APP})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def tls_server() -> Iterator[SandboxServer]:
    server = SandboxServer({"peer": APP}, tls=True)
    server.start()
    yield server
    server.stop()


def _tls(server: SandboxServer, **kw: bool) -> HttpOptions:
    assert server.ca_file is not None
    return HttpOptions(verify=str(server.ca_file), **kw)


async def test_a_post_reaches_the_server_as_with_httpx_own_transport(
    plain_server: SandboxServer,
) -> None:
    url = plain_server.urls["peer"] + "/form"
    seen = []
    for fast in (False, True):
        async with create_client(fast_http1=fast) as client:
            response = await client.post(
                url, data={"csrfmiddlewaretoken": "a+b/c="}, headers={"Referer": "http://x/"}
            )
            seen.append(response.json())
    assert seen[0] == seen[1]
    assert seen[1]["body"] == "csrfmiddlewaretoken=a%2Bb%2Fc%3D"
    assert seen[1]["headers"]["referer"] == "http://x/"
    assert seen[1]["headers"]["content-type"] == "application/x-www-form-urlencoded"


async def test_redirects_are_left_to_the_caller_and_their_cookies_kept(
    plain_server: SandboxServer,
) -> None:
    jar = CookieJar()
    async with create_client(cookies=jar, fast_http1=True) as client:
        response = await client.post(plain_server.urls["peer"] + "/moved", data={"a": "1"})
    assert response.status_code == 302
    assert response.headers["location"] == "/org/ev/checkout/start"
    assert jar.get("pretix_session") == "after-post"


async def test_compressed_bodies_are_decoded_once(plain_server: SandboxServer) -> None:
    async with create_client(fast_http1=True) as client:
        response = await client.get(plain_server.urls["peer"] + "/zipped")
    assert response.json() == {"ok": "déjà"}
    assert response.http_version == "HTTP/1.1"
    assert response.extensions["metrics"].status == 200


async def test_polls_reuse_one_connection(plain_server: SandboxServer) -> None:
    async with create_client(fast_http1=True) as client:
        ports = {(await client.get(plain_server.urls["peer"] + "/echo")).json()["client_port"]}
        for _ in range(4):
            ports.add((await client.get(plain_server.urls["peer"] + "/echo")).json()["client_port"])
    assert len(ports) == 1


async def test_https_host_cookies_round_trip_over_http1(tls_server: SandboxServer) -> None:
    base = tls_server.urls["peer"]
    jar = CookieJar()
    async with create_client(
        options=_tls(tls_server, http2=False), cookies=jar, fast_http1=True
    ) as client:
        await client.get(base + "/set")
        echoed = (await client.get(base + "/echo")).json()
    assert echoed["http_version"] == "1.1"
    assert set(echoed["cookies"]) == {
        "__Host-pretix_session",
        "__Host-pretix_csrftoken",
        "__QXSESSION",
    }
    host = {r.name: r for r in jar.items()}["__Host-pretix_session"]
    assert (host.domain, host.path, host.secure, host.host_only) == ("127.0.0.1", "/", True, True)


async def test_http2_is_kept_where_the_server_offers_it(tls_server: SandboxServer) -> None:
    async with create_client(options=_tls(tls_server), fast_http1=True) as client:
        versions = [
            (await client.get(tls_server.urls["peer"] + "/echo")).http_version for _ in "ab"
        ]
    assert versions == ["HTTP/2", "HTTP/2"]


async def test_an_untrusted_certificate_is_a_tls_error(tls_server: SandboxServer) -> None:
    async with create_client(options=HttpOptions(http2=False), fast_http1=True) as client:
        with pytest.raises(NetworkError, match="TLS"):
            await request(client, "GET", tls_server.urls["peer"] + "/echo")


async def test_a_refused_connection_is_a_network_error() -> None:
    async with create_client(fast_http1=True) as client:
        with pytest.raises(NetworkError, match="cannot connect"):
            await request(client, "GET", "http://127.0.0.1:9/")


async def test_a_server_ending_the_connection_is_retried_for_a_get() -> None:
    server = SandboxServer({"peer": APP}, keep_alive_max_requests=2)
    urls = server.start()
    try:
        async with create_client(fast_http1=True) as client:
            ports = set()
            for _ in range(7):
                response = await client.get(urls["peer"] + "/echo")
                assert response.status_code == 200
                ports.add(response.json()["client_port"])
        assert len(ports) >= 3
    finally:
        server.stop()


async def test_the_deadline_still_cuts_a_slow_answer(plain_server: SandboxServer) -> None:
    options = HttpOptions(total_timeout=0.2)
    async with create_client(options=options, fast_http1=True) as client:
        with pytest.raises(httpx.TimeoutException):
            await client.get(plain_server.urls["peer"] + "/slow")
        assert (await client.get(plain_server.urls["peer"] + "/echo")).status_code == 200


class Http1OnlyTlsServer(SandboxServer):
    """The TLS sandbox server offering only HTTP/1.1 in ALPN (like gunicorn behind pretix)."""

    def _configs(self):  # type: ignore[no-untyped-def]
        configs = super()._configs()
        for _, config in configs:
            config.alpn_protocols = ["http/1.1"]
        return configs


async def test_an_https_server_without_http2_moves_to_the_aiohttp_wire() -> None:
    server = Http1OnlyTlsServer({"peer": APP}, tls=True)
    urls = server.start()
    try:
        jar = CookieJar()
        async with create_client(options=_tls(server), cookies=jar, fast_http1=True) as client:
            await client.get(urls["peer"] + "/set")  # the first request: httpx's transport
            transport = client._transport
            answers = [(await client.get(urls["peer"] + "/echo")) for _ in range(4)]
        assert {a.http_version for a in answers} == {"HTTP/1.1"}
        assert len({a.json()["client_port"] for a in answers}) == 1  # one connection
        assert answers[0].json()["cookies"]["__Host-pretix_session"].startswith("sess-")
        assert transport._h2 is None  # the first connection was closed
    finally:
        server.stop()


async def test_a_raw_post_reaches_the_server_as_a_client_post_does(
    plain_server: SandboxServer,
) -> None:
    url = plain_server.urls["peer"] + "/form"
    body = b"csrfmiddlewaretoken=a%2Bb"
    jar = CookieJar()
    async with create_client(cookies=jar, fast_http1=True) as client:
        await client.get(plain_server.urls["peer"] + "/set")
        cookie = client.build_request("POST", url).headers["cookie"]
        headers = [*((k, v) for k, v in client.headers.items()), ("Cookie", cookie)]
        headers.append(("Content-Type", "application/x-www-form-urlencoded"))

        def make() -> httpx.Request:
            return client.build_request("POST", url, content=body, headers=dict(headers[-2:]))

        raw = await client.post_raw(url, headers, body, make)
        regular = await client.send(make())
        moved = await client.post_raw(plain_server.urls["peer"] + "/moved", headers, body, make)
    assert raw is not None
    assert moved is not None
    assert raw.json() == regular.json()
    assert raw.json()["body"] == "csrfmiddlewaretoken=a%2Bb"
    assert raw.json()["headers"]["cookie"] == cookie
    assert raw.request.method == "POST"
    assert raw.extensions["metrics"].ttfb_ms > 0
    assert moved.status_code == 302
    assert jar.get("pretix_session") == "after-post"  # the answer's cookie is in the jar


async def test_a_raw_post_is_declined_where_it_cannot_go_straight_out() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    async with create_client(transport=transport) as client:
        declined = await client.post_raw(
            "http://x.test/", [], b"", lambda: httpx.Request("POST", "http://x.test/")
        )
    assert declined is None


async def test_a_body_in_pieces_and_a_body_at_once_read_the_same() -> None:
    body = ("<p>listing</p>" * 2000).encode()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                )
                if b"/pieces" in head:  # headers and half the body, a pause, the rest
                    writer.write(body[: len(body) // 2])
                    await writer.drain()
                    await asyncio.sleep(0.05)
                    writer.write(body[len(body) // 2 :])
                else:
                    writer.write(body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    base = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with create_client(fast_http1=True) as client:
            whole = await client.get(base + "/whole")
            pieces = await client.get(base + "/pieces")
            again = await client.get(base + "/whole")  # after a streamed body, once more
    finally:
        server.close()
    assert whole.content == pieces.content == again.content == body
    assert whole.text == pieces.text
    for response in (whole, pieces):
        metrics = response.extensions["metrics"]
        assert metrics.bytes_received == len(body)
        assert metrics.complete
