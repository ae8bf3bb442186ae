"""`boxoffice sandbox`: serve the local simulators on 127.0.0.1 until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from boxoffice.cli.context import get_ctx
from boxoffice.core.state import write_private
from boxoffice.errors import ConfigurationError
from boxoffice.sandbox import registry


def _log() -> Any:
    """The module's logger (structlog loads when the sandbox serves, not for --help)."""
    from boxoffice.core.logging import get_logger

    return get_logger(__name__)


def _parse_ports(items: list[str]) -> dict[str, int]:
    pinned: dict[str, int] = {}
    for item in items:
        name, _, num = item.partition("=")
        if not name or not num.isdigit() or not 0 < int(num) < 65536:
            raise ConfigurationError(
                f"--port {item!r} is not NAME=PORT", hint="e.g. --port webhook=8081"
            )
        pinned[name.strip()] = int(num)
    return pinned


def _create_apps(names: list[str], *, explicit: bool, seed: int) -> dict[str, Any]:
    apps: dict[str, Any] = {}
    for name in names:
        try:
            apps[name] = registry.create(name, seed=seed)
        except ModuleNotFoundError as exc:
            if explicit:
                raise ConfigurationError(
                    f"simulator {name!r} is not available in this install ({exc.name})",
                    hint="choose another with --only",
                ) from exc
            _log().warning("simulator not available, skipped", simulator=name)
    if not apps:
        raise ConfigurationError("no simulator to serve", hint="check --only")
    return apps


def serve(
    ctx: typer.Context,
    only: Annotated[
        str | None,
        typer.Option(metavar="NAMES", help="Comma-separated simulators to serve (default: all)."),
    ] = None,
    port: Annotated[
        list[str] | None,
        typer.Option(
            metavar="NAME=PORT",
            help="Pin a simulator's port (repeatable); default: a free port.",
        ),
    ] = None,
    ports_file: Annotated[
        Path | None,
        typer.Option(help="Write {name: url} JSON here once listening (removed on stop)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the simulators' generated data.")] = 0,
    tls: Annotated[
        bool, typer.Option("--tls", help="Serve HTTPS with a throw-away CA (path printed).")
    ] = False,
) -> None:
    """Serve the local simulators (pretix marketplace, booked3, librebooking, vivenu, webhook
    receiver, listings) on 127.0.0.1 until Ctrl-C or SIGTERM (exit 0). A command of its own:
    `boxoffice sandbox [OPTIONS]`, no subcommands.

    Example: boxoffice sandbox --only webhook,vivenu --ports-file /tmp/sandbox.json
    """
    explicit = only is not None
    names = [n.strip() for n in only.split(",") if n.strip()] if only else list(registry.SIMULATORS)
    unknown = [n for n in names if n not in registry.SIMULATORS]
    if unknown:
        raise ConfigurationError(
            f"unknown simulator {', '.join(unknown)}",
            hint=f"choose from {', '.join(registry.SIMULATORS)}",
        )
    pinned = _parse_ports(port or [])
    stray = sorted(set(pinned) - set(names))
    if stray:
        raise ConfigurationError(
            f"--port names a simulator that is not served: {', '.join(stray)}",
            hint=f"serving {', '.join(names)}",
        )
    apps = _create_apps(names, explicit=explicit, seed=seed)
    out = get_ctx(ctx).console
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    from boxoffice.sandbox.server import SandboxServer  # hypercorn: load only when serving

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    server = SandboxServer(apps, ports=pinned, tls=tls)
    try:
        urls = server.start()
        if ports_file:
            write_private(ports_file, json.dumps(urls, indent=2).encode())
        for name, url in urls.items():
            out.print(f"{name:20} {url}")
        if server.ca_file is not None:
            out.print(f"{'CA certificate':20} {server.ca_file}")
        out.print("serving — Ctrl-C to stop")
        _log().info("sandbox serving", urls=urls)
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        if ports_file is not None:  # stale URLs would mislead the next script that waits for it
            ports_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.print("stopped")
