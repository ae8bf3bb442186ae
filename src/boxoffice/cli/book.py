"""`boxoffice book …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="book commands.", no_args_is_help=True)
