"""`boxoffice sync …` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="sync commands.", no_args_is_help=True)
