"""Event rows → events: header check, tracked flag, per-row date parsing and errors.

Columns (header row first, matched by name, case and spaces ignored): Name, Venue, City,
Country, Date, viagogoID, optional is_tracked (7th; true/t/yes/y/1, default true) and optional
source (``proxy`` | ``seatgeek``: the listing source of that event).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from boxoffice.errors import ConfigurationError
from boxoffice.platforms.listings.models import check_event_id

REQUIRED: tuple[str, ...] = ("Name", "Venue", "City", "Country", "Date", "viagogoID")
OPTIONAL: tuple[str, ...] = ("is_tracked", "source")
TRUTHY = frozenset({"true", "t", "yes", "y", "1"})
DEFAULT_DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
)
SOURCES = frozenset({"proxy", "seatgeek"})


@dataclass(frozen=True)
class EventRow:
    """One event as the sheet describes it (event_date in UTC, None when the cell is empty)."""

    viagogo_id: str
    name: str
    venue: str
    city: str
    country: str
    event_date: datetime | None
    is_tracked: bool
    source: str | None = None


@dataclass
class ParsedEvents:
    """Events read from a sheet: the usable ones and one message per rejected row."""

    events: list[EventRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def tracked(self) -> list[EventRow]:
        """Only the events marked tracked (the ones that are imported)."""
        return [e for e in self.events if e.is_tracked]


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]", "", name).lower()


def is_truthy(value: str | None) -> bool:
    """The is_tracked cell: empty = true; otherwise true/t/yes/y/1 (any case)."""
    if value is None or not value.strip():
        return True
    return value.strip().lower() in TRUTHY


def parse_date(text: str, *, formats: Sequence[str], tz: ZoneInfo) -> datetime:
    """A sheet date → aware UTC datetime; ISO-8601 with an offset is also accepted.

    Naive dates are in ``tz`` (the sheet's zone). ``ValueError`` names the formats tried.
    """
    value = text.strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return parsed.replace(tzinfo=tz).astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"date {value!r} matches none of the formats {', '.join(formats)} nor ISO-8601"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return parsed.astimezone(UTC)


def column_map(header: Sequence[str], *, source: str) -> dict[str, int]:
    """Positions of the known columns; :class:`ConfigurationError` names missing ones."""
    keys = [_key(h) for h in header]
    positions: dict[str, int] = {}
    for name in (*REQUIRED, *OPTIONAL):
        if _key(name) in keys:
            positions[name] = keys.index(_key(name))
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise ConfigurationError(
            f"{source}: missing column(s) {', '.join(missing)}",
            hint="the header row must have Name, Venue, City, Country, Date, viagogoID "
            "(then optional is_tracked)",
        )
    known = {_key(n) for n in (*REQUIRED, *OPTIONAL)}
    if "is_tracked" not in positions and len(header) >= 7 and keys[6] not in known:
        positions["is_tracked"] = 6  # the 7th column is is_tracked whatever its title
    return positions


def parse_rows(
    rows: Sequence[Sequence[str]],
    *,
    source: str = "sheet",
    date_formats: Sequence[str] = DEFAULT_DATE_FORMATS,
    tz: ZoneInfo | None = None,
) -> ParsedEvents:
    """The sheet's values (header first) → :class:`ParsedEvents`.

    Blank rows are ignored; a short row, an empty required cell, a bad date or a duplicate
    viagogoID is reported with its row number (the header is row 1) and skipped.
    """
    zone = tz or ZoneInfo("UTC")
    if not rows:
        raise ConfigurationError(f"{source}: the sheet is empty", hint="add a header row")
    positions = column_map([str(c) for c in rows[0]], source=source)
    needed = max(positions[name] for name in REQUIRED) + 1
    out = ParsedEvents()
    seen: set[str] = set()
    for number, raw in enumerate(rows[1:], start=2):
        cells = [str(c).strip() for c in raw]
        if not any(cells):
            continue
        if len(cells) < needed:
            out.errors.append(
                f"row {number}: only {len(cells)} column(s), needs {needed} ({', '.join(REQUIRED)})"
            )
            continue

        def cell(name: str, cells: list[str] = cells) -> str:
            index = positions.get(name)
            return cells[index] if index is not None and index < len(cells) else ""

        empty = [name for name in REQUIRED if name != "Date" and not cell(name)]
        if empty:
            out.errors.append(f"row {number}: empty {', '.join(empty)}")
            continue
        viagogo_id = cell("viagogoID")
        try:
            check_event_id(viagogo_id)
        except ValueError as exc:
            out.errors.append(f"row {number}: viagogoID: {exc}")
            continue
        if viagogo_id in seen:
            out.errors.append(f"row {number}: viagogoID {viagogo_id} appears twice")
            continue
        date_text = cell("Date")
        try:
            event_date = parse_date(date_text, formats=date_formats, tz=zone) if date_text else None
        except ValueError as exc:
            out.errors.append(f"row {number}: {exc}")
            continue
        source_name = cell("source").lower() or None
        if source_name is not None and source_name not in SOURCES:
            out.errors.append(
                f"row {number}: unknown source {source_name!r} (use {', '.join(sorted(SOURCES))})"
            )
            continue
        seen.add(viagogo_id)
        out.events.append(
            EventRow(
                viagogo_id=viagogo_id,
                name=cell("Name"),
                venue=cell("Venue"),
                city=cell("City"),
                country=cell("Country"),
                event_date=event_date,
                is_tracked=is_truthy(cell("is_tracked")),
                source=source_name,
            )
        )
    return out
