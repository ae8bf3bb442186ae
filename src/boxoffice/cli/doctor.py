"""`boxoffice doctor`: check config, state dir, browser, channels, database."""

from __future__ import annotations

import typer

from boxoffice.errors import BoxofficeError


def doctor(ctx: typer.Context) -> None:
    """Check this machine's set-up."""
    raise BoxofficeError("doctor is not built yet")
