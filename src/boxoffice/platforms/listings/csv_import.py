"""CSV listing imports: columns viagogo_id, listing_id, section, row, quantity,
price_per_ticket, currency, captured_at (ISO-8601; a time without zone is UTC)."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from boxoffice.core.timefmt import utc_iso
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.listings.models import MAX_QUANTITY, Listing, check_event_id, check_price

COLUMNS: tuple[str, ...] = (
    "viagogo_id",
    "listing_id",
    "section",
    "row",
    "quantity",
    "price_per_ticket",
    "currency",
    "captured_at",
)


@dataclass(frozen=True)
class ImportedListing:
    """One CSV row: which event, the listing, and when it was seen."""

    viagogo_id: str
    listing: Listing
    captured_at: datetime


@dataclass(frozen=True)
class RowError:
    """A CSV row that could not be used (1-based line number, header is line 1)."""

    line: int
    reason: str


def parse_timestamp(text: str) -> datetime:
    """ISO-8601 → aware UTC datetime (naive times are taken as UTC)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _row(line: int, record: dict[str, str | None], not_after: datetime | None) -> ImportedListing:
    def cell(name: str) -> str:
        return (record.get(name) or "").strip()

    viagogo_id, listing_id = cell("viagogo_id"), cell("listing_id")
    if not viagogo_id or not listing_id:
        raise ValueError("viagogo_id and listing_id are required")
    check_event_id(viagogo_id)
    try:
        quantity = int(cell("quantity") or "0")
        price = float(cell("price_per_ticket"))
    except ValueError:
        raise ValueError(
            f"quantity {cell('quantity')!r} / price {cell('price_per_ticket')!r} not numbers"
        ) from None
    if not 0 <= quantity <= MAX_QUANTITY:
        raise ValueError(f"quantity {quantity} out of range")
    check_price(price, "price_per_ticket")
    try:
        captured = parse_timestamp(cell("captured_at"))
    except (ValueError, OverflowError):
        raise ValueError(f"captured_at {cell('captured_at')!r} is not ISO-8601") from None
    if not_after is not None and captured > not_after:
        raise ValueError(
            f"captured_at {cell('captured_at')!r} is in the future (after {utc_iso(not_after)})"
        )
    return ImportedListing(
        viagogo_id=viagogo_id,
        listing=Listing(
            listing_id=listing_id,
            section=cell("section") or None,
            row=cell("row") or None,
            quantity=quantity,
            price_per_ticket=round(price, 2),
            currency=cell("currency") or None,
            total_price=round(price * quantity, 2),
        ),
        captured_at=captured,
    )


def read_listings(
    lines: Iterable[str],
    *,
    errors: list[RowError],
    source: str = "CSV",
    not_after: datetime | None = None,
) -> Iterator[ImportedListing]:
    """Parse a listings CSV lazily; bad rows go to ``errors`` with their line number.

    Bad rows: a missing or malformed viagogo_id (not a positive whole number), a quantity or
    price that is not a number, negative, non-finite or absurd, a captured_at that is not
    ISO-8601 or later than ``not_after`` (now plus the clock-skew allowance).

    A header without the expected columns raises :class:`ConfigurationError` naming them.
    """
    reader = csv.DictReader(lines)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ConfigurationError(
            f"{source}: missing column(s) {', '.join(missing)}",
            hint=f"the header must be: {','.join(COLUMNS)}",
        )
    reader.fieldnames = header
    for record in reader:
        line = reader.line_num
        try:
            yield _row(line, record, not_after)
        except ValueError as exc:
            errors.append(RowError(line, str(exc)))
