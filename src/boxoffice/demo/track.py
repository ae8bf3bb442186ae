"""Demo step of `track`: events from a bundled CSV, accelerated scheduled snapshots against
the sandbox listings proxy, a price-history table and a PNG chart (SQLite in the work dir)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from boxoffice.core import pacing
from boxoffice.core.http import create_client
from boxoffice.jobs.track import analytics, charts, events
from boxoffice.jobs.track.clock import SimulatedClock
from boxoffice.jobs.track.scheduler import ScheduleConfig, Scheduler
from boxoffice.jobs.track.store import open_store
from boxoffice.platforms.listings.proxy import ProxyClient
from boxoffice.platforms.sheets import sources
from boxoffice.platforms.sheets.rows import parse_rows
from boxoffice.sandbox import listings as listings_sim
from boxoffice.sandbox.server import SandboxServer

DAYS = 3
API_KEY = "demo-proxy-key"


async def run(console: Console, workdir: Path) -> dict[str, Any]:
    """Run the track demo; returns ok, events, snapshots, rows and the chart path."""
    csv_text = (
        resources.files("boxoffice.demo")
        .joinpath("data/track_events.csv")
        .read_text(encoding="utf-8")
    )
    parsed = parse_rows(sources.parse_csv_text(csv_text), source="demo events CSV")
    store = open_store(workdir / "track.sqlite3")
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    clock = SimulatedClock(start)
    imported = events.import_events(store, parsed, now=start)
    console.print(
        f"events CSV: {imported.tracked} tracked imported, "
        f"{imported.untracked_in_source} not tracked (skipped)"
    )
    config = ScheduleConfig(
        interval_hours=12, min_factor=0.7, max_factor=1.3, strategy="uniform", concurrency=3
    )
    app = listings_sim.create_app(seed=7, api_key=API_KEY)
    server = SandboxServer({"listings": app})
    urls = server.start()
    try:
        async with create_client() as client:
            proxy = ProxyClient(urls["listings"], client, api_key=API_KEY)
            scheduler = Scheduler(
                store, {"proxy": proxy}, config, clock=clock, rng=random.Random(7), worker="demo"
            )
            with pacing.instant():
                report = await scheduler.run(until=start + timedelta(days=DAYS))
    finally:
        server.stop()
    console.print(
        f"scheduler (accelerated: {DAYS} days of a 12 h ± 30 % schedule): "
        f"{report.runs} snapshots, {sum(o.listings for o in report.outcomes)} listings seen"
    )
    first = store.events(tracked_only=True)[0]
    history = analytics.price_history(
        store, first.viagogo_id, days=DAYS + 1, bucket="12 hours", now=clock.now()
    )
    table = Table(title=f"{first.name} — price history (12 h buckets)")
    for column in ("bucket (UTC)", "min", "median", "max", "listings"):
        table.add_column(column, justify="left" if column.startswith("bucket") else "right")
    for row in history.rows:
        table.add_row(
            analytics.iso_utc(row.bucket) if row.bucket else row.key,
            f"{row.min:.2f}",
            f"{row.median:.2f}",
            f"{row.max:.2f}",
            str(row.count),
        )
    console.print(table)
    chart = charts.plot(history, workdir / "price-history.png", tz=UTC)
    console.print(f"chart: {chart}")
    rows = store.count_listings()
    tracked = len(store.events(tracked_only=True))
    store.close()
    ok = report.runs >= tracked * 3 and rows > 0 and chart.is_file() and bool(history.rows)
    return {
        "ok": ok,
        "events": tracked,
        "snapshots": report.runs,
        "rows": rows,
        "chart": str(chart),
    }
