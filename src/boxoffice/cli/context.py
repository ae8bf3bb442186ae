"""What every command gets from the global options: settings loading and output mode."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    from boxoffice.settings import Settings


@dataclass
class AppContext:
    """Global options, and the settings loaded on first use (with a command's own flags)."""

    config_file: Path | None = None
    log_json: bool = False
    verbosity: int = 0
    console: Console = field(default_factory=lambda: Console(highlight=False))
    err: Console = field(default_factory=lambda: Console(stderr=True, highlight=False))

    def settings(self, cli: dict[str, Any] | None = None) -> Settings:
        """Load settings; ``cli`` holds the flags the user gave (None values are dropped)."""
        from boxoffice.core.config import load_settings  # pydantic-settings: on first use
        from boxoffice.core.logging import add_secrets
        from boxoffice.settings import Settings

        settings = load_settings(Settings, cli=_prune(cli or {}), config_file=self.config_file)
        add_secrets(settings.secret_values())
        return settings


def _prune(data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            sub = _prune(value)
            if sub:
                out[key] = sub
        elif value is not None and value != [] and value != ():
            out[key] = value
    return out


def get_ctx(ctx: typer.Context) -> AppContext:
    """The AppContext of the running command (created by the root callback)."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, AppContext):
        obj = AppContext()
        root.obj = obj
    return obj
