"""`sync pull`: stream an event's tickets to ``purchased_tickets/<event>/`` on disk.

Writes ``all_tickets.json`` (a JSON array, streamed page by page), ``metadata.json`` (counts by
status and ticket type, pulled_at, total, whether the total moved) and
``individual/<id>_<name>.json``. Memory stays flat: one page is held at a time.
Files hold personal data (names, emails): they are created with mode 0600.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from boxoffice.core.state import make_private_dirs, write_private
from boxoffice.core.timefmt import utc_iso, utc_now
from boxoffice.errors import map_exception
from boxoffice.jobs.sync.files import (
    JsonArrayWriter,
    safe_name,
    ticket_file_name,
    write_private_fast,
)
from boxoffice.platforms.vivenu.tickets import PullReport, TicketsClient

WRITERS = 8  # per-ticket files are written by a few threads: file creation is latency-bound


@dataclass
class PullResult:
    """What `sync pull` produced."""

    directory: Path
    event: str
    total: int
    pulled: int
    by_status: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    report: PullReport = field(default_factory=PullReport)


async def _settle(futures: list[asyncio.Future[None]]) -> None:
    if futures:
        await asyncio.gather(*futures)


def _write_files(batch: list[tuple[Path, bytes]]) -> None:
    for path, data in batch:
        write_private_fast(path, data)


def event_dir(out_dir: Path, event: str) -> Path:
    """``<out>/purchased_tickets/<event>`` (event id sanitized)."""
    return out_dir / "purchased_tickets" / (safe_name(event, 64) or "event")


async def run_pull(
    client: TicketsClient,
    event: str,
    out_dir: Path,
    *,
    region: str,
    top: int = 1000,
    status: str | None = None,
    individual: bool = True,
    on_page: Callable[[int, int], None] | None = None,
) -> PullResult:
    """Pull every ticket of ``event`` to disk; ``on_page(pulled, total)`` after each page."""
    directory = event_dir(out_dir, event)
    single = directory / "individual"
    try:
        # 0700: the file names carry the buyers' names, the files their details
        make_private_dirs(single)
    except OSError as exc:
        raise map_exception(exc, context=f"creating {single}") from exc
    by_status: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    pulled = 0
    started = utc_now()
    loop = asyncio.get_running_loop()
    in_flight: list[asyncio.Future[None]] = []
    try:
        with (
            ThreadPoolExecutor(WRITERS, thread_name_prefix="sync-pull") as pool,
            JsonArrayWriter(directory / "all_tickets.json") as writer,
        ):
            try:
                async for page in client.pages(event, top=top, status=status):
                    batch: list[tuple[Path, bytes]] = []
                    for ticket in page.rows:
                        # one compact encoding (the C encoder) serves both files
                        encoded = json.dumps(ticket, ensure_ascii=False).encode()
                        writer.write_raw(encoded)
                        if individual:
                            batch.append((single / ticket_file_name(ticket), encoded + b"\n"))
                        by_status[str(ticket.get("status") or "UNKNOWN")] += 1
                        by_type[
                            str(ticket.get("ticketName") or ticket.get("ticketTypeId") or "?")
                        ] += 1
                    # at most one page of files is being written while the next one is fetched
                    await _settle(in_flight)
                    in_flight = [
                        loop.run_in_executor(pool, _write_files, batch[i::WRITERS])
                        for i in range(min(WRITERS, len(batch)))
                    ]
                    pulled += len(page.rows)
                    if on_page:
                        on_page(pulled, page.total)
            finally:
                await _settle(in_flight)
    except OSError as exc:
        raise map_exception(exc, context=f"writing {directory}") from exc
    report = client.report
    total = report.final_total if report.final_total is not None else pulled
    metadata = {
        "event_id": event,
        "region": region,
        "pulled_at": utc_iso(started),
        "total": total,
        "pulled": pulled,
        "counts_by_status": dict(sorted(by_status.items())),
        "counts_by_ticket_type": dict(sorted(by_type.items())),
        "server_status_filter": status,
        "total_changed": [list(change) for change in report.total_changes],
        "pages": report.pages,
        "retries": report.retries,
        "top_reductions": report.top_reductions,
    }
    write_private(
        directory / "metadata.json", json.dumps(metadata, ensure_ascii=False, indent=2).encode()
    )
    return PullResult(directory, event, total, pulled, dict(by_status), dict(by_type), report)
