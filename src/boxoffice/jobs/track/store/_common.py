"""Helpers shared by the store backends: timestamps, event diffs."""

from __future__ import annotations

from datetime import UTC, datetime

from boxoffice.core.timefmt import utc_iso
from boxoffice.platforms.sheets.rows import EventRow

EVENT_FIELDS: tuple[str, ...] = ("name", "venue", "city", "country", "event_date", "source")


def iso(moment: datetime) -> str:
    """Aware datetime → fixed-width ISO-8601 UTC text (sorts like the instants it names)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to the store; times must be aware")
    return utc_iso(moment, timespec="microseconds")


def from_iso(text: str | None) -> datetime | None:
    """Stored ISO text → aware UTC datetime."""
    if text is None:
        return None
    return datetime.fromisoformat(text).astimezone(UTC)


def event_values(row: EventRow) -> dict[str, object]:
    """The columns an events import writes."""
    return {
        "viagogo_id": row.viagogo_id,
        "name": row.name,
        "venue": row.venue,
        "city": row.city,
        "country": row.country,
        "event_date": row.event_date,
        "source": row.source,
    }
