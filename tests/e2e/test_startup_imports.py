"""Start-up stays light: `boxoffice --version` loads no command group and no heavy library,
and a command's `--help` loads its own group but none of what running it needs.

Timings are measured in bench/ (bench_startup); this test pins what is imported, so a heavy
import creeping back into start-up fails here, deterministically.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = (
    "httpx",
    "pydantic",
    "pydantic_settings",
    "playwright",
    "structlog",
    "apprise",
    "psycopg",
    "matplotlib",
    "aiohttp",
    "boxoffice.sandbox",
    "boxoffice.core.config",
    "boxoffice.cli.watch",
    "boxoffice.cli.book",
    "boxoffice.cli.sync",
    "boxoffice.cli.track",
)

PROBE = """
import json, sys
sys.argv = ["boxoffice", *json.loads(sys.argv[1])]
from boxoffice.cli.main import run
try:
    run()
except SystemExit:
    pass
print(json.dumps(sorted(k for k, v in sys.modules.items() if v is not None)), file=sys.stderr)
"""


def loaded_by(*args: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    modules: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return set(modules)


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_version_loads_no_command_group_and_no_heavy_library() -> None:
    assert heavy_in(loaded_by("--version")) == []


#: what running a command needs and showing its help does not: the HTTP clients, settings
#: loading, the browser, notifications, logging set-up, the simulators and the demo. (pydantic
#: itself stays: Typer converts option values with it.)
NOT_FOR_HELP = (
    "httpx",
    "aiohttp",
    "pydantic_settings",
    "playwright",
    "structlog",
    "apprise",
    "starlette",
    "hypercorn",
    "boxoffice.core.config",
    "boxoffice.core.http",
    "boxoffice.core.notify",
    "boxoffice.core.events",
    "boxoffice.core.browser",
    "boxoffice.settings",
    "boxoffice.sandbox",
    "boxoffice.demo",
    "boxoffice.jobs",
    "boxoffice.platforms",
)


def not_for_help_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in NOT_FOR_HELP))


@pytest.mark.parametrize(
    "argv",
    [
        ("watch", "--help"),
        ("watch", "run", "--help"),
        ("watch", "test-handoff", "--help"),
        ("book", "--help"),
        ("book", "run", "--help"),
        ("doctor", "--help"),
    ],
)
def test_help_loads_nothing_a_run_needs(argv: tuple[str, ...]) -> None:
    modules = loaded_by(*argv)
    assert f"boxoffice.cli.{argv[0]}" in modules  # the help did come from the command
    assert not_for_help_in(modules) == []


def test_a_watch_run_loads_no_simulator_and_no_demo(tmp_path: Path) -> None:
    """`watch run` that stops at a bad flag value still loads the job, never the sandbox or
    the demo self-test (only `watch test-handoff` needs those)."""
    modules = loaded_by("watch", "run", "--url", "https://tickets.example.com", "--event", "e1",
                        "--interval", "0.5", "--save-responses", str(tmp_path))  # fmt: skip
    assert "boxoffice.jobs.watch.entry" in modules
    assert [m for m in modules if m.startswith(("boxoffice.sandbox", "boxoffice.demo"))] == []
    assert [m for m in modules if m.split(".")[0] in {"starlette", "hypercorn"}] == []
    # nothing was logged at a level the console shows: structlog was never needed
    assert "structlog" not in modules
    # httpx's own command-line client (and the click it brings) is never imported
    assert "httpx" in modules
    assert "httpx._main" not in modules
    assert "click" not in modules


def test_a_group_loads_only_itself() -> None:
    modules = loaded_by("sandbox", "--help")
    assert "boxoffice.cli.sandbox" in modules
    others = {"boxoffice.cli.watch", "boxoffice.cli.book", "boxoffice.cli.sync"}
    assert modules.isdisjoint(others | {"boxoffice.cli.track"})
