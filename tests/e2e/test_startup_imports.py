"""Start-up stays light: `boxoffice --version` loads no command group and no heavy library.

Timings are measured in bench/ (bench_startup); this test pins what is imported, so a heavy
import creeping back into start-up fails here, deterministically.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
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


def test_a_group_loads_only_itself() -> None:
    modules = loaded_by("sandbox", "--help")
    assert "boxoffice.cli.sandbox" in modules
    others = {"boxoffice.cli.watch", "boxoffice.cli.book", "boxoffice.cli.sync"}
    assert modules.isdisjoint(others | {"boxoffice.cli.track"})
