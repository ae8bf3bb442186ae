"""core.http: client factory, deadline, metrics, cookie jar, response archive, error mapping."""

from __future__ import annotations

import asyncio
import json
import stat
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from boxoffice.core.http import (
    CookieJar,
    CookieRecord,
    HttpOptions,
    MetricsRecorder,
    RequestDeadlineExceeded,
    RequestMetrics,
    ResponseArchive,
    create_client,
    default_user_agent,
    request,
)
from boxoffice.errors import ConfigurationError, NetworkError, StorageError
from boxoffice.sandbox.server import SandboxServer
from boxoffice.settings import HttpSettings

# --------------------------------------------------------------------------------------------
# a small peer: sets pretix-like cookies, echoes what it received, remembers client ports

PEERS: list[tuple[str, int]] = []


async def set_cookies(request: Request) -> Response:
    secure = request.url.scheme == "https"
    prefix = "__Host-" if secure else ""
    response = HTMLResponse("<html><title>set</title></html>")
    attrs = "; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
    response.headers.append("set-cookie", f"{prefix}pretix_session=sess-{request.url.port}{attrs}")
    response.headers.append("set-cookie", f"{prefix}pretix_csrftoken=csrf-value-123{attrs}")
    response.headers.append("set-cookie", "__QXSESSION=front-session-42; Path=/")
    return response


async def bad_host_cookies(request: Request) -> Response:
    response = HTMLResponse("ok")
    # both break the __Host- rules a browser enforces: no Secure / a Domain attribute
    response.headers.append("set-cookie", "__Host-nosecure=1; Path=/")
    response.headers.append("set-cookie", "__Host-withdomain=1; Path=/; Secure; Domain=127.0.0.1")
    response.headers.append("set-cookie", "plain=1; Path=/")
    return response


async def echo(request: Request) -> Response:
    client = request.scope.get("client")
    if client:
        PEERS.append((client[0], client[1]))
    return JSONResponse(
        {
            "cookies": dict(request.cookies),
            "user_agent": request.headers.get("user-agent"),
            "http_version": request.scope.get("http_version"),
            "client_port": client[1] if client else None,
        }
    )


async def big(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(50):
            yield b"x" * 1000
            await asyncio.sleep(0.005)

    return StreamingResponse(chunks(), media_type="application/octet-stream")


async def slow(request: Request) -> Response:
    await asyncio.sleep(1)
    return HTMLResponse("too late")


APP = Starlette(
    routes=[
        Route("/slow", slow),
        Route("/set", set_cookies),
        Route("/bad", bad_host_cookies),
        Route("/echo", echo),
        Route("/big", big),
    ]
)


@pytest.fixture(scope="module")
def tls_server() -> Iterator[SandboxServer]:
    server = SandboxServer({"peer": APP}, tls=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def plain_server() -> Iterator[SandboxServer]:
    server = SandboxServer({"peer": APP})
    server.start()
    yield server
    server.stop()


def tls_options(server: SandboxServer, **kw: float | bool | str) -> HttpOptions:
    assert server.ca_file is not None
    return HttpOptions(verify=str(server.ca_file), **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# options


def test_defaults_match_the_design() -> None:
    opts = HttpOptions()
    assert (opts.connect_timeout, opts.total_timeout, opts.keepalive_expiry) == (5.0, 10.0, 60.0)
    assert opts.http2 is True
    assert opts.user_agent == default_user_agent()
    assert opts.user_agent.startswith("boxoffice/")


def test_options_from_settings_follow_the_settings() -> None:
    settings = HttpSettings(connect_timeout=2, total_timeout=7, keepalive_expiry=90, http2=False)
    opts = HttpOptions.from_settings(settings)
    assert (opts.connect_timeout, opts.total_timeout, opts.keepalive_expiry) == (2, 7, 90)
    assert opts.http2 is False
    assert opts.user_agent == default_user_agent()  # empty setting = ours
    custom = HttpOptions.from_settings(HttpSettings(user_agent="me/1"), verify=False)
    assert custom.user_agent == "me/1"
    assert custom.verify is False


async def test_client_carries_timeouts_and_user_agent() -> None:
    seen: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        seen.append(req)
        return httpx.Response(200, text="ok")

    opts = HttpOptions(connect_timeout=3, total_timeout=8, user_agent="ua/9")
    async with create_client(options=opts, transport=httpx.MockTransport(handler)) as client:
        assert client.timeout.connect == 3
        assert client.timeout.read == 8
        await client.get("https://example.test/")
    assert seen[0].headers["user-agent"] == "ua/9"


def test_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="CA bundle"):
        create_client(options=HttpOptions(verify=str(tmp_path / "nope.pem")))


# --------------------------------------------------------------------------------------------
# deadline and error mapping


async def test_total_deadline_cuts_a_body_that_trickles() -> None:
    """Each chunk comes quickly (no read timeout fires) but the whole exceeds the deadline."""

    class Trickle(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            for _ in range(100):
                await asyncio.sleep(0.02)
                yield b"."

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Trickle())

    opts = HttpOptions(total_timeout=0.2)
    async with create_client(options=opts, transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(RequestDeadlineExceeded) as info:
            await client.get("https://slow.test/page")
        assert isinstance(info.value, NetworkError)
        assert isinstance(info.value, httpx.TimeoutException)
        assert "0.2 s" in info.value.one_line()
        with pytest.raises(NetworkError):
            await request(client, "GET", "https://slow.test/page")


@pytest.mark.parametrize("http2", [False, True])
async def test_client_recovers_after_a_deadline_on_a_real_connection(
    tls_server: SandboxServer, http2: bool
) -> None:
    base = tls_server.urls["peer"]
    options = tls_options(tls_server, total_timeout=0.3, http2=http2)
    async with create_client(options=options) as client:
        with pytest.raises(RequestDeadlineExceeded):
            await client.get(base + "/slow")
        response = await client.get(base + "/echo")
    assert response.status_code == 200
    assert response.http_version == ("HTTP/2" if http2 else "HTTP/1.1")


async def test_per_request_deadline_extension() -> None:
    async def handler(req: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.3)
        return httpx.Response(200, text="late but fine")

    opts = HttpOptions(total_timeout=0.1)
    async with create_client(options=opts, transport=httpx.MockTransport(handler)) as client:
        response = await client.get("https://x.test/", extensions={"total_timeout": 5})
        assert response.text == "late but fine"


async def test_request_maps_refused_connection_to_network_error() -> None:
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with create_client() as client:
        with pytest.raises(NetworkError, match=rf"GET http://127.0.0.1:{port}/x: cannot connect"):
            await request(client, "GET", f"http://127.0.0.1:{port}/x?token=abc")


async def test_request_maps_bad_url_to_configuration_error() -> None:
    async with create_client() as client:
        with pytest.raises(ConfigurationError):
            await request(client, "GET", "ftp://example.test/")


async def test_request_leaves_status_codes_to_the_caller() -> None:
    transport = httpx.MockTransport(lambda req: httpx.Response(503, text="busy"))
    async with create_client(transport=transport) as client:
        response = await request(client, "GET", "https://x.test/")
    assert response.status_code == 503


# --------------------------------------------------------------------------------------------
# metrics


async def test_metrics_are_attached_and_recorded() -> None:
    body = b"<html>" + b"a" * 1234 + b"</html>"

    def handler(req: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body)

    recorder = MetricsRecorder()
    seen: list[RequestMetrics] = []
    recorder.on_metrics(seen.append)
    async with create_client(transport=httpx.MockTransport(handler), metrics=recorder) as client:
        first = await client.get("https://m.test/one")
        await client.post("https://m.test/two", data={"a": "b"})
    metrics = first.extensions["metrics"]
    assert isinstance(metrics, RequestMetrics)
    assert metrics.bytes_received == len(body)
    assert (metrics.method, metrics.url, metrics.status) == ("GET", "https://m.test/one", 200)
    assert 0 <= metrics.ttfb_ms <= metrics.ttlb_ms
    assert metrics.complete
    assert [m.method for m in recorder.all] == ["GET", "POST"]
    assert recorder.last is not None
    assert recorder.last.url == "https://m.test/two"
    assert seen == recorder.all


async def test_metrics_count_wire_bytes_and_one_entry_per_redirect_hop() -> None:
    import gzip

    payload = b"price 42 " * 2000
    packed = gzip.compress(payload)
    gzip_headers = {"content-encoding": "gzip"}

    class Chunks(httpx.AsyncByteStream):
        def __init__(self, chunks: list[bytes]) -> None:
            self.chunks = chunks

        async def __aiter__(self) -> AsyncIterator[bytes]:
            for chunk in self.chunks:
                yield chunk

    def handler(req: httpx.Request) -> httpx.Response:
        if req.url.path == "/start":
            return httpx.Response(302, headers={"location": "/end"})
        return httpx.Response(200, stream=Chunks([packed[:40], packed[40:]]), headers=gzip_headers)

    transport = httpx.MockTransport(handler)
    async with create_client(transport=transport, follow_redirects=True) as client:
        response = await client.get("https://r.test/start")
        assert response.content == payload
        hops = client.metrics.all
    assert [(m.status, m.url) for m in hops] == [
        (302, "https://r.test/start"),
        (200, "https://r.test/end"),
    ]
    assert response.extensions["metrics"].bytes_received == len(packed)


async def test_a_failing_metrics_callback_does_not_break_requests() -> None:
    recorder = MetricsRecorder()

    @recorder.on_metrics
    def broken(_: RequestMetrics) -> None:
        raise RuntimeError("observer bug")

    transport = httpx.MockTransport(lambda req: httpx.Response(200, text="fine"))
    async with create_client(transport=transport, metrics=recorder) as client:
        assert (await client.get("https://x.test/")).text == "fine"
    assert recorder.last is not None


async def test_stream_closed_early_records_incomplete_metrics(plain_server: SandboxServer) -> None:
    url = plain_server.urls["peer"] + "/big"
    async with create_client() as client, client.stream("GET", url) as response:
        async for _ in response.aiter_raw(1000):
            break
    metrics = client.metrics.last
    assert metrics is not None
    assert not metrics.complete
    assert 0 < metrics.bytes_received < 50_000


# --------------------------------------------------------------------------------------------
# real server: HTTP/2, keep-alive, reconnect, cookies over HTTPS


async def test_http2_over_tls_with_trusted_test_ca(tls_server: SandboxServer) -> None:
    url = tls_server.urls["peer"] + "/echo"
    async with create_client(options=tls_options(tls_server)) as client:
        response = await client.get(url)
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"
    assert response.extensions["metrics"].http_version == "HTTP/2"


async def test_untrusted_certificate_is_a_network_error(tls_server: SandboxServer) -> None:
    async with create_client() as client:
        with pytest.raises(NetworkError, match="TLS"):
            await request(client, "GET", tls_server.urls["peer"] + "/echo")


async def test_connection_is_kept_alive_and_expires(plain_server: SandboxServer) -> None:
    url = plain_server.urls["peer"] + "/echo"
    async with create_client(options=HttpOptions(keepalive_expiry=60)) as client:
        ports = [(await client.get(url)).json()["client_port"] for _ in range(3)]
    assert len(set(ports)) == 1
    async with create_client(options=HttpOptions(keepalive_expiry=0.05)) as client:
        first = (await client.get(url)).json()["client_port"]
        await asyncio.sleep(0.3)
        second = (await client.get(url)).json()["client_port"]
    assert first != second


@pytest.mark.parametrize("tls", [False, True])
async def test_reconnects_when_the_server_ends_the_connection(tls: bool) -> None:
    server = SandboxServer({"peer": APP}, tls=tls, keep_alive_max_requests=2)
    urls = server.start()
    try:
        opts = tls_options(server) if tls else HttpOptions()
        async with create_client(options=opts) as client:
            ports = []
            for _ in range(7):
                response = await client.get(urls["peer"] + "/echo")
                assert response.status_code == 200
                ports.append(response.json()["client_port"])
        assert len(set(ports)) >= 3  # several connections were used, none failed
    finally:
        server.stop()


async def test_https_cookies_round_trip_through_the_jar(
    tls_server: SandboxServer, tmp_path: Path
) -> None:
    base = tls_server.urls["peer"]
    port = int(base.rsplit(":", 1)[1])
    jar = CookieJar()
    async with create_client(options=tls_options(tls_server), cookies=jar) as client:
        await client.get(base + "/set")
    by_name = {r.name: r for r in jar.items()}
    assert set(by_name) == {"__Host-pretix_session", "__Host-pretix_csrftoken", "__QXSESSION"}
    host_cookie = by_name["__Host-pretix_session"]
    assert host_cookie.value == f"sess-{port}"
    assert (host_cookie.domain, host_cookie.path) == ("127.0.0.1", "/")
    assert host_cookie.secure
    assert host_cookie.http_only
    assert host_cookie.host_only
    assert host_cookie.same_site == "Lax"

    path = jar.save(tmp_path / "state" / "cookies.json")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not list(path.parent.glob(".*tmp"))  # atomic: no leftovers

    loaded = CookieJar.load(path)
    assert sorted(loaded.items(), key=lambda r: r.name) == sorted(jar.items(), key=lambda r: r.name)
    async with create_client(options=tls_options(tls_server), cookies=loaded) as client:
        echoed = (await client.get(base + "/echo")).json()["cookies"]
        # same server, other host name: host-only cookies must not follow
        other = (await client.get(base.replace("127.0.0.1", "localhost") + "/echo")).json()
    assert echoed == {
        "__Host-pretix_session": f"sess-{port}",
        "__Host-pretix_csrftoken": "csrf-value-123",
        "__QXSESSION": "front-session-42",
    }
    assert other["cookies"] == {}


async def test_secure_cookies_are_not_sent_over_plain_http(
    tls_server: SandboxServer, plain_server: SandboxServer
) -> None:
    jar = CookieJar()
    async with create_client(options=tls_options(tls_server), cookies=jar) as client:
        await client.get(tls_server.urls["peer"] + "/set")
        sent = (await client.get(plain_server.urls["peer"] + "/echo")).json()["cookies"]
    assert sent == {"__QXSESSION": "front-session-42"}


async def test_invalid_host_prefixed_cookies_are_refused(plain_server: SandboxServer) -> None:
    async with create_client() as client:
        await client.get(plain_server.urls["peer"] + "/bad")
        names = {r.name for r in client.cookie_jar.items()}
    assert names == {"plain"}


def test_host_cookie_records_are_forced_host_only() -> None:
    jar = CookieJar.from_records(
        [CookieRecord("__Host-s", "v", ".example.com", path="/x", host_only=False)]
    )
    (record,) = jar.items()
    assert (record.domain, record.path, record.secure, record.host_only) == (
        "example.com",
        "/",
        True,
        True,
    )
    assert [r.name for r in jar.for_url("https://example.com/a")] == ["__Host-s"]
    assert jar.for_url("https://shop.example.com/a") == []
    assert jar.for_url("http://example.com/a") == []


def test_domain_cookies_reach_subdomains_host_cookies_do_not() -> None:
    jar = CookieJar.from_records(
        [
            CookieRecord("wide", "1", ".example.com", host_only=False),
            CookieRecord("narrow", "2", "example.com"),
        ]
    )
    assert {r.name for r in jar.for_url("https://shop.example.com/")} == {"wide"}
    assert {r.name for r in jar.for_url("https://example.com/")} == {"wide", "narrow"}
    assert jar.get("narrow") == "2"
    assert "2" not in repr(jar)


def test_load_missing_file_is_empty_and_expired_cookies_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "jar.json"
    assert len(CookieJar.load(path)) == 0
    jar = CookieJar.from_records(
        [
            CookieRecord("old", "1", "example.com", expires=1_000_000),
            CookieRecord("fresh", "2", "example.com", expires=4_000_000_000),
            CookieRecord("session", "3", "example.com"),
        ]
    )
    jar.save(path)
    names = {r.name for r in CookieJar.load(path).items()}
    assert names == {"fresh", "session"}


def test_corrupt_jar_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "jar.json"
    path.write_text("{not json")
    with pytest.raises(StorageError, match="not readable") as info:
        CookieJar.load(path)
    assert "delete the file" in info.value.one_line()
    path.write_text(json.dumps({"version": 99, "cookies": []}))
    with pytest.raises(StorageError, match="format version"):
        CookieJar.load(path)


def test_save_without_a_path_is_a_storage_error() -> None:
    with pytest.raises(StorageError):
        CookieJar().save()


# --------------------------------------------------------------------------------------------
# archive

SECRETS = {
    "session": "SESSIONVALUE-9f8e7d",
    "host_session": "HOSTSESSION-a1b2c3",
    "csrf_cookie": "CSRFCOOKIE-556677",
    "csrf_form": "FORMTOKEN-xyzzy-001",
    "booked_csrf": "BOOKEDCSRF-424242",
    "json_csrf": "JSONCSRF-313131",
    "header_csrf": "HEADERCSRF-777",
    "bearer": "BEARER-topsecret-key",
    "password": "hunter2-Passw0rd!",
    "api_query": "QUERYKEY-8080",
}


def archived_response() -> httpx.Response:
    request = httpx.Request(
        "POST",
        f"https://shop.test/org/ev/secondhand/buy/7/?x_api_key={SECRETS['api_query']}&page=2",
        headers={
            "Cookie": f"__Host-pretix_session={SECRETS['host_session']}; "
            f"__Host-pretix_csrftoken={SECRETS['csrf_cookie']}",
            "Authorization": f"Bearer {SECRETS['bearer']}",
            "X-CSRFToken": SECRETS["header_csrf"],
            "Referer": "https://shop.test/org/ev/secondhand/",
        },
        content=b"ignored",
    )
    body = f"""<!doctype html><html><head><title>Step 1 of 4</title>
<meta name="csrf-token" content="{SECRETS["json_csrf"]}"></head><body>
<form method="post" action="/org/ev/secondhand/buy/8/">
<input type="hidden" name="csrfmiddlewaretoken" value="{SECRETS["csrf_form"]}">
<input value="{SECRETS["booked_csrf"]}" type="hidden" id="CSRF_TOKEN" name="CSRF_TOKEN"/>
</form>
<script>var cfg = {{"csrfToken": "{SECRETS["json_csrf"]}", "user": "alice"}};
fetch("/x?csrfmiddlewaretoken={SECRETS["csrf_form"]}");</script>
<p>Your password {SECRETS["password"]} was echoed by a careless page.</p>
<a href="/resume?s={SECRETS["session"]}">resume</a>
<h2 class="text-primary">€ 49.00</h2>
</body></html>"""
    return httpx.Response(
        200,
        headers=[
            ("Content-Type", "text/html; charset=utf-8"),
            ("Set-Cookie", f"__QXSESSION={SECRETS['session']}; Path=/; HttpOnly"),
            ("Set-Cookie", f"__Host-pretix_csrftoken={SECRETS['csrf_cookie']}; Path=/; Secure"),
            ("X-Csrf-Token", SECRETS["header_csrf"]),
        ],
        content=body.encode(),
        request=request,
    )


def test_archive_writes_no_secret_anywhere(tmp_path: Path) -> None:
    directory = tmp_path / "live-responses"
    archive = ResponseArchive(directory, secrets=[SECRETS["password"], SECRETS["api_query"]])
    body_path = archive.save(archived_response(), label="buy attempt/7")

    files = sorted(directory.iterdir())
    assert len(files) == 2
    assert body_path in files
    assert body_path.suffix == ".html"
    everything = b"".join(f.read_bytes() for f in files).decode()
    for name, value in SECRETS.items():
        assert value not in everything, f"{name} leaked"
        assert value.split("-")[-1] not in everything or len(value.split("-")[-1]) < 4
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600

    body = body_path.read_text()
    # the page is still useful for diagnosis
    assert "Step 1 of 4" in body
    assert "€ 49.00" in body
    assert '"user": "alice"' in body
    assert 'name="csrfmiddlewaretoken" value="***"' in body
    head = Path(str(body_path) + ".headers.txt").read_text()
    assert head.startswith("POST https://shop.test/org/ev/secondhand/buy/7/?")
    assert "page=2" in head
    assert "Cookie: __Host-pretix_session=***; __Host-pretix_csrftoken=***" in head
    assert "Set-Cookie: __QXSESSION=***; Path=/; HttpOnly" in head
    assert "Authorization: Bearer ***" in head
    assert "HTTP/1.1 200 OK" in head
    assert "Referer: https://shop.test/org/ev/secondhand/" in head


def test_archive_redacts_json_and_binary_bodies(tmp_path: Path) -> None:
    secret = "API-KEY-0123456789"
    request = httpx.Request("GET", "https://api.test/tickets", headers={"x-api-key": secret})
    json_response = httpx.Response(
        200,
        json={"rows": [{"name": "Ann"}], "CSRF_TOKEN": "JSONTOKEN-1234", "echo": secret},
        request=request,
    )
    binary_response = httpx.Response(
        200,
        content=b"\x00\x01" + secret.encode() + b"\xff",
        headers={"content-type": "application/octet-stream"},
        request=request,
    )
    archive = ResponseArchive(tmp_path, secrets=[secret])
    json_path = archive.save(json_response, "tickets")
    bin_path = archive.save(binary_response, "blob")
    assert json_path.suffix == ".json"
    assert bin_path.suffix == ".bin"
    for f in tmp_path.iterdir():
        data = f.read_bytes()
        assert secret.encode() not in data
        assert b"JSONTOKEN-1234" not in data
    assert json.loads(json_path.read_text())["rows"] == [{"name": "Ann"}]
    assert bin_path.read_bytes().startswith(b"\x00\x01***")


async def test_archive_of_a_real_exchange(tls_server: SandboxServer, tmp_path: Path) -> None:
    async with create_client(options=tls_options(tls_server)) as client:
        await client.get(tls_server.urls["peer"] + "/set")
        response = await client.get(tls_server.urls["peer"] + "/echo")
    check_archive_of_real_exchange(ResponseArchive(tmp_path).save(response, "echo"), tmp_path)


def check_archive_of_real_exchange(path: Path, directory: Path) -> None:
    everything = "".join(f.read_text() for f in directory.iterdir())
    for value in ("csrf-value-123", "front-session-42", "sess-"):
        assert value not in everything
    assert "HTTP/2 200" in everything
    assert path.suffix == ".json"
