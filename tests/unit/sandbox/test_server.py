"""SandboxServer: serves ASGI apps on loopback, TLS with its own CA, fixed ports, clean stop."""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from boxoffice.errors import NetworkError
from boxoffice.sandbox.server import SandboxServer


def _app(name: str) -> Starlette:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "app": name,
                "http_version": request.scope.get("http_version"),
                "port": request.url.port,
            }
        )

    return Starlette(routes=[Route("/", hello)])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_serves_each_app_on_its_own_loopback_port() -> None:
    server = SandboxServer({"a": _app("a"), "b": _app("b")})
    with server as urls:
        assert set(urls) == {"a", "b"}
        assert urls["a"] != urls["b"]
        for name, url in urls.items():
            assert url.startswith("http://127.0.0.1:")
            response = httpx.get(url + "/")
            assert response.status_code == 200
            assert response.json()["app"] == name
            assert "date" in response.headers
            assert "server" not in response.headers
    ports = [httpx.URL(u).port for u in urls.values()]
    for port in ports:
        assert port is not None
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
        assert _port_is_free(port)


def test_fixed_ports_are_honoured() -> None:
    port = _free_port()
    with SandboxServer({"a": _app("a")}, ports={"a": port}) as urls:
        assert urls["a"] == f"http://127.0.0.1:{port}"
        assert httpx.get(urls["a"] + "/").json()["port"] == port


def test_a_taken_port_is_a_clear_error_and_nothing_is_left_running() -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        taken = blocker.getsockname()[1]
        free = _free_port()
        server = SandboxServer(
            {"ok": _app("ok"), "busy": _app("busy")}, ports={"ok": free, "busy": taken}
        )
        with pytest.raises(NetworkError) as info:
            server.start()
        line = info.value.one_line()
        assert f"127.0.0.1:{taken}" in line
        assert "busy" in line
        assert "another port" in line
    assert _port_is_free(free)  # the socket opened for "ok" was released


def test_the_same_fixed_port_can_be_reused_after_stop() -> None:
    port = _free_port()
    for _ in range(2):
        with SandboxServer({"a": _app("a")}, ports={"a": port}) as urls:
            assert httpx.get(urls["a"] + "/").status_code == 200


def test_tls_with_its_own_ca_and_http2() -> None:
    server = SandboxServer({"a": _app("a")}, tls=True)
    with server as urls:
        assert urls["a"].startswith("https://127.0.0.1:")
        assert server.ca_file is not None
        assert server.ca_file.is_file()
        trusted = ssl.create_default_context(cafile=str(server.ca_file))
        with httpx.Client(verify=trusted, http2=True) as client:
            response = client.get(urls["a"] + "/")
        assert response.status_code == 200
        assert response.http_version == "HTTP/2"
        assert response.json()["http_version"] == "2"
        with pytest.raises(httpx.ConnectError):  # not trusted without the CA
            httpx.get(urls["a"] + "/")
        ca_file = server.ca_file
    assert not ca_file.exists()  # throw-away CA removed on stop


def test_keep_alive_max_requests_closes_the_connection() -> None:
    with SandboxServer({"a": _app("a")}, keep_alive_max_requests=2) as urls:
        with httpx.Client() as client:
            statuses = [client.get(urls["a"] + "/") for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 200]  # client reconnects
        assert statuses[1].headers.get("connection") == "close"


def test_date_header_can_be_left_out() -> None:
    with SandboxServer({"a": _app("a")}, include_date_header=False) as urls:
        assert "date" not in httpx.get(urls["a"] + "/").headers


def test_stop_without_start_and_twice_is_harmless() -> None:
    server = SandboxServer({"a": _app("a")})
    server.stop()
    server.start()
    server.stop()
    server.stop()


class _FastApp(Starlette):
    http1_fast = True


def test_http1_fast_apps_are_served_by_uvicorn_unless_tls_or_connection_limits() -> None:
    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"http_version": request.scope.get("http_version")})

    fast = _FastApp(routes=[Route("/", hello)])
    server = SandboxServer({"fast": fast, "plain": _app("plain")})
    assert server._fast("fast")
    assert not server._fast("plain")
    assert not SandboxServer({"fast": fast}, tls=True)._fast("fast")
    assert not SandboxServer({"fast": fast}, keep_alive_max_requests=3)._fast("fast")
    with server as urls:
        # the listening sockets say IPPROTO_TCP, so asyncio sets TCP_NODELAY on each accepted
        # connection (without it a two-part response waits 40 ms for a delayed ACK)
        assert all(s.proto == socket.IPPROTO_TCP for s in server._sockets)
        with httpx.Client() as client:
            for _ in range(3):  # keep-alive: several requests on one connection
                assert client.get(urls["fast"]).json() == {"http_version": "1.1"}
            assert client.get(urls["plain"]).json()["app"] == "plain"
    with socket.socket() as probe:
        port = int(urls["fast"].rsplit(":", 1)[1])
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # stopped: nothing listens
