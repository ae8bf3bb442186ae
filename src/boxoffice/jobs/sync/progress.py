"""``historical_sync_progress_<REGION>.json``, the seed's progress file, kept for compatibility.

``{"events_processed": [...], "tickets_sent": N, "errors": [...], "last_run": "…Z"}`` — derived
from the ledger; ids, statuses and timestamps only, never personal data.
"""

from __future__ import annotations

import json
from pathlib import Path

from boxoffice.core.state import write_private
from boxoffice.core.timefmt import utc_iso
from boxoffice.jobs.sync.ledger import Ledger


def progress_path(directory: Path, region: str) -> Path:
    """Where the region's progress file goes."""
    return directory / f"historical_sync_progress_{region}.json"


def write_progress(directory: Path, region: str, ledger: Ledger) -> Path:
    """Rewrite the region's progress file from the ledger; returns its path."""
    errors = [
        {
            "event": event,
            "target": target,
            "ticket_id": row.ticket_id,
            "envelope_id": row.envelope_id,
            "attempts": row.attempts,
            "status": row.last_status,
            "error": row.last_error,
            "at": row.updated_at,
        }
        for event, target, row in ledger.dead_letters(region)
    ]
    data = {
        "events_processed": ledger.events_complete(region),
        "tickets_sent": ledger.delivered_total(region),
        "errors": errors,
        "last_run": utc_iso(),
    }
    path = progress_path(directory, region)
    write_private(path, json.dumps(data, indent=2).encode())
    return path
