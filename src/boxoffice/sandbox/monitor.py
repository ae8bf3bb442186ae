"""Simulator of what watches over unattended runs: a notification inbox and a push monitor.

``create_app(seed=0)``; ``app.state.monitor`` is the :class:`Monitor` (for in-process tests).

* **Notifications** — any ``POST`` outside ``/ping/``, ``/api/push/`` and ``/_sandbox/``: the
  JSON body (or the raw text) is recorded; answer ``200 {"ok": true}``. With failures armed
  (below) the next ones answer that status instead, and are counted as failed.
* **Heartbeats**, healthchecks.io style — ``GET|POST /ping/<uuid>`` (success),
  ``/ping/<uuid>/start``, ``/ping/<uuid>/fail`` (the POST body is the reason); Uptime Kuma
  style — ``GET /api/push/<token>?status=up|down&msg=…``. Answer ``200 OK``.

Control (JSON):

* ``POST /_sandbox/fail`` ``{"status": 500, "count": 1}`` — the next ``count`` notifications
  answer ``status``.
* ``POST /_sandbox/reset`` — forget everything.
* ``GET /_sandbox/received`` → ``{"notifications": [...], "pings": [{"check", "kind",
  "body"}], "failed": n}``.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class Monitor:
    """What arrived: notifications (bodies) and pings (check, kind, body)."""

    notifications: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    pings: list[dict[str, str]] = field(default_factory=list)
    failed: int = 0
    fail_status: int = 500
    fail_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Forget every notification, ping and armed failure."""
        with self.lock:
            self.notifications.clear()
            self.paths.clear()
            self.pings.clear()
            self.failed = self.fail_count = 0

    def received(self) -> dict[str, Any]:
        """The ``/_sandbox/received`` document."""
        with self.lock:
            return {
                "notifications": list(self.notifications),
                "paths": list(self.paths),
                "pings": [dict(p) for p in self.pings],
                "failed": self.failed,
            }

    def events(self) -> list[str]:
        """The ``data.event`` names of the JSON notifications, in arrival order."""
        out = []
        for body in self.received()["notifications"]:
            if isinstance(body, dict):
                out.append(str((body.get("data") or {}).get("event", "")))
        return out

    def ping_kinds(self, check: str | None = None) -> list[str]:
        """The kinds of the pings (of one check), in arrival order."""
        return [p["kind"] for p in self.received()["pings"] if check in (None, p["check"])]


def create_app(seed: int = 0) -> Starlette:
    """The monitor app (``seed`` accepted for the registry's uniformity)."""
    del seed
    monitor = Monitor()

    async def ping(request: Request) -> Response:
        rest = request.path_params["rest"].strip("/")
        check, _, suffix = rest.partition("/")
        kind = {"start": "start", "fail": "fail", "": "success"}.get(suffix, f"exit {suffix}")
        body = (await request.body()).decode(errors="replace")
        with monitor.lock:
            monitor.pings.append({"check": check, "kind": kind, "body": body})
        return PlainTextResponse("OK")

    async def kuma(request: Request) -> Response:
        status = request.query_params.get("status", "up")
        with monitor.lock:
            monitor.pings.append(
                {
                    "check": request.path_params["token"],
                    "kind": "fail" if status == "down" else "success",
                    "body": request.query_params.get("msg", ""),
                }
            )
        return JSONResponse({"ok": True})

    async def notification(request: Request) -> Response:
        raw = await request.body()
        with monitor.lock:
            if monitor.fail_count > 0:
                monitor.fail_count -= 1
                monitor.failed += 1
                return JSONResponse({"error": "failing on purpose"}, monitor.fail_status)
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            monitor.notifications.append(body)
            monitor.paths.append(request.url.path)
        return JSONResponse({"ok": True})

    async def fail(request: Request) -> Response:
        body = await request.json()
        with monitor.lock:
            monitor.fail_status = int(body.get("status", 500))
            monitor.fail_count = int(body.get("count", 1))
        return JSONResponse({"ok": True})

    async def reset(_: Request) -> Response:
        monitor.reset()
        return JSONResponse({"ok": True})

    async def received(_: Request) -> Response:
        return JSONResponse(monitor.received())

    app = Starlette(
        routes=[
            Route("/_sandbox/fail", fail, methods=["POST"]),
            Route("/_sandbox/reset", reset, methods=["POST"]),
            Route("/_sandbox/received", received, methods=["GET"]),
            Route("/ping/{rest:path}", ping, methods=["GET", "POST", "HEAD"]),
            Route("/api/push/{token}", kuma, methods=["GET", "POST"]),
            Route("/{path:path}", notification, methods=["POST"]),
        ]
    )
    app.state.monitor = monitor
    return app
