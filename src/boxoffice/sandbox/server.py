"""Serve ASGI simulator apps on 127.0.0.1, each on its own port, from a background thread.

Used by ``boxoffice sandbox``, ``boxoffice demo``, the tests and the benchmarks::

    with SandboxServer({"webhook": app}) as urls:
        urls["webhook"]  # "http://127.0.0.1:40123"

TLS (``tls=True``) uses a throw-away CA from trustme; ``server.ca_file`` is the PEM to trust.
Hypercorn speaks HTTP/1.1 and HTTP/2 (h2 over TLS by ALPN); ``keep_alive_max_requests``
closes a connection after N requests (GOAWAY on HTTP/2) to test reconnects. An app that sets
``http1_fast = True`` (the webhook receiver, which load tests hit thousands of times a second)
is served by uvicorn with httptools' C parser instead, when neither TLS nor
``keep_alive_max_requests`` is asked for: about twice hypercorn's request rate here.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from boxoffice.errors import NetworkError

if TYPE_CHECKING:  # the servers are imported when one starts (CLI start-up stays quick)
    import uvicorn
    from hypercorn.config import Config

ASGIApp = Any


class SandboxServer:
    """Run several ASGI apps on loopback in one background event loop."""

    def __init__(
        self,
        apps: dict[str, ASGIApp],
        *,
        ports: dict[str, int] | None = None,
        tls: bool = False,
        keep_alive_max_requests: int | None = None,
        include_date_header: bool = True,
    ) -> None:
        self.apps = apps
        self.ports = ports or {}
        self.tls = tls
        self.keep_alive_max_requests = keep_alive_max_requests
        self.include_date_header = include_date_header
        self.urls: dict[str, str] = {}
        self.ca_file: Path | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._sockets: list[socket.socket] = []

    def _configs(self) -> list[tuple[str, Config]]:
        cert = key = None
        if self.tls:
            import trustme

            self._tmp = tempfile.TemporaryDirectory(prefix="boxoffice-tls-")
            ca = trustme.CA()
            leaf = ca.issue_cert("127.0.0.1", "localhost")
            base = Path(self._tmp.name)
            self.ca_file = base / "ca.pem"
            ca.cert_pem.write_to_path(str(self.ca_file))
            cert, key = base / "cert.pem", base / "key.pem"
            leaf.cert_chain_pems[0].write_to_path(str(cert))
            for extra in leaf.cert_chain_pems[1:]:
                extra.write_to_path(str(cert), append=True)
            leaf.private_key_pem.write_to_path(str(key))
        out = []
        scheme = "https" if self.tls else "http"
        for name in self.apps:
            # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets that say so, and
            # without it a response written in two parts waits 40 ms for a delayed ACK
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", self.ports.get(name, 0)))
            except OSError as exc:
                sock.close()
                self._release()
                raise NetworkError(
                    f"cannot listen on 127.0.0.1:{self.ports.get(name, 0)} for {name}: {exc}",
                    hint="choose another port or stop what uses it",
                ) from exc
            sock.listen(1024)
            sock.set_inheritable(True)
            self._sockets.append(sock)
            port = sock.getsockname()[1]
            from hypercorn.config import Config

            cfg = Config()
            cfg.bind = [f"fd://{sock.fileno()}"]
            cfg.accesslog = None
            cfg.errorlog = None
            cfg.loglevel = "WARNING"
            # apps that stamp their own (skewed) Date header set sets_date_header = True
            own_date = bool(getattr(self.apps[name], "sets_date_header", False))
            cfg.include_date_header = self.include_date_header and not own_date
            cfg.include_server_header = False
            if self.keep_alive_max_requests:
                cfg.keep_alive_max_requests = self.keep_alive_max_requests
            if cert and key:
                cfg.certfile, cfg.keyfile = str(cert), str(key)
            self.urls[name] = f"{scheme}://127.0.0.1:{port}"
            out.append((name, cfg))
        return out

    def _fast(self, name: str) -> bool:
        """Whether ``name`` is served by uvicorn (see the module docstring)."""
        return (
            bool(getattr(self.apps[name], "http1_fast", False))
            and not self.tls
            and not self.keep_alive_max_requests
        )

    def _uvicorn(self, name: str, cfg: Config) -> uvicorn.Server:
        import uvicorn

        config = uvicorn.Config(
            self.apps[name],
            http="httptools",
            lifespan="on",
            log_config=None,
            log_level="critical",  # as hypercorn's errorlog=None: a simulated outage is no error
            access_log=False,
            server_header=False,
            date_header=cfg.include_date_header,
        )
        return uvicorn.Server(config)

    def start(self) -> dict[str, str]:
        """Start serving; returns ``{name: base_url}`` once every app listens."""
        configs = self._configs()

        def runner() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            self._stop = asyncio.Event()
            stop = self._stop

            async def main() -> None:
                async def trigger() -> None:
                    await stop.wait()

                tasks = []
                for sock, (name, cfg) in zip(self._sockets, configs, strict=True):
                    if self._fast(name):
                        server = self._uvicorn(name, cfg)
                        tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
                        tasks.append(asyncio.create_task(_exit_on(stop, server)))
                    else:
                        from hypercorn.asyncio import serve

                        task = serve(self.apps[name], cfg, shutdown_trigger=trigger)
                        tasks.append(asyncio.create_task(task))
                self._started.set()
                await asyncio.gather(*tasks)

            try:
                loop.run_until_complete(main())
            except BaseException as exc:  # surfaced to the caller of start()/stop()
                self._error = exc
                self._started.set()
            finally:
                loop.close()

        self._thread = threading.Thread(target=runner, name="boxoffice-sandbox", daemon=True)
        self._thread.start()
        self._started.wait(10)
        if self._error:
            raise NetworkError(f"sandbox failed to start: {self._error}")
        return dict(self.urls)

    def stop(self) -> None:
        """Stop serving and wait for the thread to end."""
        if self._loop and self._stop and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread:
            self._thread.join(10)
        self._release()

    def _release(self) -> None:
        for sock in self._sockets:
            with contextlib.suppress(OSError):  # hypercorn may have closed the fd already
                sock.close()
        self._sockets.clear()
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> dict[str, str]:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


async def _exit_on(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True
