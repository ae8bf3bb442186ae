"""`boxoffice demo`: every job end to end against the in-process sandbox."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from boxoffice.cli.context import get_ctx
from boxoffice.demo.runner import JOBS, run_demo
from boxoffice.errors import ConfigurationError


def demo(
    ctx: typer.Context,
    only: Annotated[
        str | None,
        typer.Option(help="Comma-separated jobs to show: watch,book,sync,track (default: all)."),
    ] = None,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the work dir (charts, pulled tickets, cookies).")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON on stdout.")
    ] = False,
) -> None:
    """Run every job against the bundled local sandbox (no accounts, no network).

    Example: boxoffice demo --only sync,track --keep
    """
    jobs = [j.strip() for j in only.split(",")] if only else list(JOBS)
    unknown = [j for j in jobs if j not in JOBS]
    if unknown:
        raise ConfigurationError(
            f"unknown demo job(s): {', '.join(unknown)}", hint=f"choose from {', '.join(JOBS)}"
        )
    app_ctx = get_ctx(ctx)
    # with --json the step output goes to stderr so stdout holds only the JSON summary
    console = Console(stderr=True, highlight=False) if as_json else app_ctx.console
    results, workdir = asyncio.run(run_demo(console, jobs, keep=keep))
    if as_json:
        payload: dict[str, Any] = dict(results)
        if keep:
            payload["workdir"] = str(workdir)
        sys.stdout.write(json.dumps(payload, indent=2, default=str) + "\n")
    else:
        _summary(console, results, keep=keep)
        if keep:
            console.print(f"work dir kept: {workdir}")
        else:
            console.print("the work dir was removed; --keep keeps the chart, tickets and cookies")
    if not all(r["ok"] for r in results.values()):
        raise typer.Exit(1)


#: Facts that are paths into the demo's work dir: shown only when ``--keep`` keeps them.
PATH_FACTS = ("cookie_file", "chart")


def shown_facts(facts: dict[str, Any], *, keep: bool) -> dict[str, Any]:
    """The facts of a step the summary shows: set, scalar, and paths only when kept."""
    return {
        k: v
        for k, v in facts.items()
        if k not in ("ok", "duration_s")
        and v is not None
        and not isinstance(v, list | dict)
        and (keep or k not in PATH_FACTS)
    }


def _summary(console: Console, results: dict[str, dict[str, Any]], *, keep: bool) -> None:
    """One row per job: its facts one per line, in full (nothing cut), no empty values."""
    table = Table(title="boxoffice demo — summary")
    table.add_column("job")
    table.add_column("result")
    table.add_column("key facts", overflow="fold")
    table.add_column("s", justify="right")
    for job, facts in results.items():
        shown = shown_facts(facts, keep=keep)
        table.add_row(
            job,
            "[green]ok[/green]" if facts["ok"] else "[red]FAILED[/red]",
            "\n".join(f"{k} = {v}" for k, v in shown.items()),
            f"{facts['duration_s']:.1f}",
        )
    console.print(table)
