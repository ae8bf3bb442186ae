"""Run the demo steps in order and collect their facts.

Each step is ``boxoffice.demo.<job>.run(console, workdir) -> dict`` with an ``"ok"`` key. A step
that raises is recorded as failed with the one-line reason; the others still run.
"""

from __future__ import annotations

import importlib
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.rule import Rule

from boxoffice.errors import BoxofficeError

JOBS: tuple[str, ...] = ("watch", "book", "sync", "track")


async def run_demo(
    console: Console, jobs: list[str], *, keep: bool = False, workdir: Path | None = None
) -> tuple[dict[str, dict[str, Any]], Path]:
    """Run ``jobs`` against the in-process sandbox; returns (facts per job, work dir)."""
    base = workdir or Path(tempfile.mkdtemp(prefix="boxoffice-demo-"))
    results: dict[str, dict[str, Any]] = {}
    try:
        for job in jobs:
            console.print(Rule(f"[bold]{job}[/bold]"))
            step_dir = base / job
            step_dir.mkdir(parents=True, exist_ok=True)
            started = time.perf_counter()
            try:
                module = importlib.import_module(f"boxoffice.demo.{job}")
                facts = dict(await module.run(console, step_dir))
            except BoxofficeError as exc:
                facts = {"ok": False, "error": exc.one_line()}
            except Exception as exc:
                facts = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
            facts["ok"] = bool(facts.get("ok"))
            facts["duration_s"] = round(time.perf_counter() - started, 2)
            results[job] = facts
            if not facts["ok"]:
                console.print(f"[red]{job} step failed:[/red] {facts.get('error', 'see above')}")
    finally:
        if not keep and workdir is None:
            shutil.rmtree(base, ignore_errors=True)
    return results, base
