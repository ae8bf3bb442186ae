"""`boxoffice sandbox`: serve the local simulators on 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from boxoffice.cli.context import get_ctx
from boxoffice.core.state import write_private
from boxoffice.errors import ConfigurationError
from boxoffice.sandbox import registry
from boxoffice.sandbox.server import SandboxServer

app = typer.Typer(
    help="Serve the local simulators (pretix marketplace, booked3, librebooking, vivenu, "
    "webhook receiver, listings) on 127.0.0.1.",
    invoke_without_command=True,
)


@app.callback(invoke_without_command=True)
def serve(
    ctx: typer.Context,
    only: Annotated[
        str | None, typer.Option(help="Comma-separated simulators to serve (default: all).")
    ] = None,
    port: Annotated[
        list[str] | None,
        typer.Option(help="NAME=PORT to pin a simulator's port (repeatable); default: free port."),
    ] = None,
    ports_file: Annotated[
        Path | None, typer.Option(help="Write {name: url} JSON here once listening.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the simulators' generated data.")] = 0,
) -> None:
    """Serve simulators until Ctrl-C.

    Example: boxoffice sandbox --only webhook,vivenu --ports-file /tmp/sandbox.json
    """
    if ctx.invoked_subcommand:
        return
    names = [n.strip() for n in only.split(",")] if only else list(registry.SIMULATORS)
    pinned: dict[str, int] = {}
    for item in port or []:
        name, _, num = item.partition("=")
        if not num.isdigit():
            raise ConfigurationError(f"--port {item!r} is not NAME=PORT")
        pinned[name] = int(num)
    apps = {name: registry.create(name, seed=seed) for name in names}
    out = get_ctx(ctx).console
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with SandboxServer(apps, ports=pinned) as urls:
        if ports_file:
            write_private(ports_file, json.dumps(urls, indent=2).encode())
        for name, url in urls.items():
            out.print(f"{name:20} {url}")
        out.print("serving — Ctrl-C to stop")
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    out.print("stopped")
