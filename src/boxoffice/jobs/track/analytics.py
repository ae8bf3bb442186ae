"""Price history and section prices as rows for tables, JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from boxoffice.core.limits import check_days
from boxoffice.core.timefmt import utc_iso
from boxoffice.errors import ConfigurationError, StorageError
from boxoffice.jobs.track.store import BucketStats, SectionStats, Store, StoredEvent
from boxoffice.jobs.track.store.base import bucket_start, parse_bucket

HISTORY_FIELDS: tuple[str, ...] = ("bucket", "min", "avg", "median", "max", "count", "quantity")
SECTION_FIELDS: tuple[str, ...] = ("section", "min", "avg", "median", "max", "count", "quantity")


@dataclass(frozen=True)
class History:
    """Price history of one event."""

    event: StoredEvent
    since: datetime
    bucket: timedelta
    bucket_label: str
    rows: list[BucketStats]
    from_stats: bool = False


def window_start(now: datetime, days: float) -> datetime:
    """Start of the analysis window."""
    if days <= 0:
        raise ConfigurationError("--days must be > 0")
    check_days(days, f"--days {days:.15g}")
    return now - timedelta(days=days)


def price_history(
    store: Store, ref: str, *, days: float, bucket: str, now: datetime | None = None
) -> History:
    """Per-bucket prices of the event ``ref`` (event id or viagogo id) over the ``days``
    that end at ``now`` (rows stamped later, e.g. by a clock far ahead, are not shown).

    Events tracked through a stats source (SeatGeek) have no listings: their buckets come from
    the stats snapshots (lowest/average/median/highest of the bucket's last snapshot).
    """
    width = parse_bucket(bucket)
    event = store.find_event(ref)
    until = now or datetime.now(UTC)
    since = window_start(until, days)
    rows = store.price_history(event.event_id, since=since, bucket=width, until=until)
    if rows:
        return History(event, since, width, bucket, rows)
    stats = store.stats_history(event.event_id, since=since)
    latest: dict[datetime, BucketStats] = {}
    for moment, snap in stats:
        if moment > until or snap.lowest is None or snap.highest is None:
            continue
        start = bucket_start(moment, width)
        latest[start] = BucketStats(
            key=start.isoformat(),
            bucket=start,
            min=snap.lowest,
            avg=snap.average if snap.average is not None else (snap.lowest + snap.highest) / 2,
            median=snap.median if snap.median is not None else snap.average or snap.lowest,
            max=snap.highest,
            count=snap.listing_count or 0,
            quantity=0,
        )
    return History(event, since, width, bucket, [latest[k] for k in sorted(latest)], bool(latest))


def section_prices(
    store: Store, ref: str, *, days: float, now: datetime | None = None
) -> tuple[StoredEvent, list[SectionStats]]:
    """Per-section prices of the event over the ``days`` that end at ``now``."""
    event = store.find_event(ref)
    until = now or datetime.now(UTC)
    since = window_start(until, days)
    return event, store.section_prices(event.event_id, since=since, until=until)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC with a Z."""
    return utc_iso(moment)


def local(moment: datetime | None, tz: tzinfo | None) -> str:
    """A time as the user reads it (their zone, minutes)."""
    if moment is None:
        return "—"
    shown = moment.astimezone(tz) if tz is not None else moment.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M %Z")


def history_dicts(rows: Sequence[BucketStats]) -> list[dict[str, Any]]:
    """``{"bucket": ISO-8601 UTC, "min", "avg", "median", "max", "count", "quantity"}`` rows."""
    return [
        {
            "bucket": iso_utc(r.bucket) if r.bucket else r.key,
            "min": round(r.min, 2),
            "avg": round(r.avg, 2),
            "median": round(r.median, 2),
            "max": round(r.max, 2),
            "count": r.count,
            "quantity": r.quantity,
        }
        for r in rows
    ]


def section_dicts(rows: Sequence[SectionStats]) -> list[dict[str, Any]]:
    """Section rows as plain dicts."""
    return [
        {
            "section": r.section,
            "min": round(r.min, 2),
            "avg": round(r.avg, 2),
            "median": round(r.median, 2),
            "max": round(r.max, 2),
            "count": r.count,
            "quantity": r.quantity,
        }
        for r in rows
    ]


def to_json(rows: list[dict[str, Any]]) -> str:
    """Rows as a JSON array."""
    return json.dumps(rows, indent=2)


def write_csv(path: Path, rows: list[dict[str, Any]], fields: Sequence[str]) -> Path:
    """Rows to a CSV file (header first)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(fields), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(buffer.getvalue(), encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    return path
