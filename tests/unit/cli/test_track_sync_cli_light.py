"""The track and sync command modules stay thin: their help loads no job module, and the
defaults their help shows are the settings' own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from tests.e2e.test_startup_imports import loaded_by

from boxoffice.cli import track
from boxoffice.core.pacing import JITTER_STRATEGIES
from boxoffice.settings.track import TrackSettings

#: Loaded only when a command runs (the job, its stores and clients, progress bars, charts).
NOT_FOR_HELP = (
    "boxoffice.jobs",
    "boxoffice.platforms",
    "boxoffice.sandbox",
    "boxoffice.core.config",
    "psycopg",
    "matplotlib",
    "aiohttp",
)

#: What the command modules may import when they load (the rest inside the commands).
MODULE_LEVEL = {
    "__future__", "json", "sys", "shlex", "asyncio", "pathlib", "typing", "typer",
    "rich.console", "rich.table", "rich.text", "boxoffice.cli", "boxoffice.cli._notify",
    "boxoffice.cli.context", "boxoffice.errors",
}  # fmt: skip


@pytest.mark.parametrize(
    "args",
    [
        ("track", "--help"),
        ("track", "start-scheduler", "--help"),
        ("track", "alert", "--help"),
        ("sync", "--help"),
        ("sync", "push", "--help"),
    ],
)
def test_help_loads_no_job_module(args: tuple[str, ...]) -> None:
    modules = loaded_by(*args)
    assert f"boxoffice.cli.{args[0]}" in modules
    heavy = sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_FOR_HELP))
    assert heavy == []


def test_the_scheduler_help_shows_the_settings_defaults() -> None:
    fields = TrackSettings.model_fields
    assert {name: fields[name].default for name in track.HELP_DEFAULTS} == track.HELP_DEFAULTS
    assert track.STRATEGIES == JITTER_STRATEGIES


def module_level_imports(path: Path) -> set[str]:
    """Modules a file imports when it loads (``if TYPE_CHECKING:`` blocks left out)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("name", ["track", "track_alerts", "sync"])
def test_command_modules_import_nothing_heavy_when_they_load(name: str) -> None:
    path = Path(track.__file__).with_name(f"{name}.py")
    assert module_level_imports(path) - MODULE_LEVEL == set()
