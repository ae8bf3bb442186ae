"""`boxoffice demo`: every job end to end against the in-process sandbox."""

from __future__ import annotations

import typer

from boxoffice.errors import BoxofficeError


def demo(ctx: typer.Context) -> None:
    """Run every job against the local sandbox."""
    raise BoxofficeError("the demo is not built yet")
