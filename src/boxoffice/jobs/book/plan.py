"""Pure parsing of what the user asked for: resources, preference, slot, the window's T0."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from boxoffice.core.limits import check_days
from boxoffice.errors import ConfigurationError
from boxoffice.platforms.booked.models import Slot, zone

MAX_RESOURCES = 500


def parse_ids(text: str, *, what: str = "--resources") -> list[int]:
    """``"231-235,240"`` → ``[231, 232, 233, 234, 235, 240]`` (order kept, duplicates dropped)."""
    out: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = re.fullmatch(r"(\d+)\s*(?:-|–|\.\.)\s*(\d+)|(\d+)", part)
        if not match:
            raise ConfigurationError(
                f"{what}: {part!r} is not an id or a range", hint="write e.g. 231-262 or 240,241"
            )
        if match.group(3):
            ids: Iterable[int] = [int(match.group(3))]
        else:
            low, high = int(match.group(1)), int(match.group(2))
            if high < low:
                raise ConfigurationError(f"{what}: range {part!r} runs backwards")
            if high - low >= MAX_RESOURCES:
                raise ConfigurationError(f"{what}: range {part!r} is too large")
            ids = range(low, high + 1)
        for i in ids:
            if i not in out:
                out.append(i)
    return out


def candidates(resources: list[int], prefer: list[int], taken: Iterable[int]) -> list[int]:
    """Resources to try, best first: the range minus taken ones; preferred first, then ascending.

    A preferred id outside the range is ignored (never more attempts than the range allows).
    """
    blocked = set(taken)
    free = [r for r in resources if r not in blocked]
    first = [p for p in dict.fromkeys(prefer) if p in free]
    rest = sorted(r for r in free if r not in first)
    return first + rest


def parse_day(text: str, *, today: date) -> date:
    """``YYYY-MM-DD`` or ``+N`` (N days after ``today``)."""
    value = text.strip()
    if re.fullmatch(r"\+\d+", value):
        return today + timedelta(days=check_days(int(value[1:]), f"--date {value}", away=True))
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise ConfigurationError(
            f"--date {text!r} is not a date", hint="write YYYY-MM-DD or +N (days from today)"
        ) from exc
    check_days((day - today).days, f"--date {value}", away=True)
    return day


def parse_clock(text: str, *, what: str) -> time:
    """``HH:MM`` (or ``HH:MM:SS``)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise ConfigurationError(f"{what} {text!r} is not a time", hint="write HH:MM, e.g. 09:00")
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def make_slot(day: str, start: str, end: str, timezone: str, *, now: datetime) -> Slot:
    """The slot in the schedule's zone; ``now`` decides what "today" is for ``+N``."""
    tz = zone(timezone)
    the_day = parse_day(day, today=now.astimezone(tz).date())
    return Slot.local(
        the_day, parse_clock(start, what="--start"), parse_clock(end, what="--end"), timezone
    )


_OPENS = re.compile(
    r"(?P<n>\d+)\s*days?\s+(?:before|ahead)(?:\s+at)?\s+(?P<h>\d{1,2}):(?P<m>\d{2})", re.I
)


def window_opens(spec: str, slot: Slot) -> datetime:
    """T0 from ``"7 days before 00:00"``: that wall-clock time, N days before the slot's date.

    Wall-clock in the schedule's zone, so a DST change in between moves T0's UTC offset, not
    its local time.
    """
    match = _OPENS.fullmatch(spec.strip())
    if not match:
        raise ConfigurationError(
            f"--opens {spec!r} is not understood", hint='write e.g. "7 days before 00:00"'
        )
    tz = slot.start.tzinfo
    day = slot.start.date() - timedelta(days=int(match.group("n")))
    hour, minute = int(match.group("h")), int(match.group("m"))
    if hour > 23 or minute > 59:
        raise ConfigurationError(f"--opens {spec!r}: bad time of day")
    return datetime.combine(day, time(hour, minute), tzinfo=tz)


def parse_at(text: str, timezone: str) -> datetime:
    """``--at`` as an aware datetime (ISO 8601; without an offset it is in the schedule zone)."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigurationError(
            f"--at {text!r} is not a date-time", hint="write e.g. 2026-11-24T00:00:00+01:00"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(timezone))
    return moment


def parse_attributes(items: Iterable[str]) -> dict[int, str]:
    """``["1=Physics", "4=yes"]`` → ``{1: "Physics", 4: "yes"}``."""
    out: dict[int, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().isdigit():
            raise ConfigurationError(
                f"--attribute {item!r} is not ID=VALUE", hint="write e.g. --attribute 1=Physics"
            )
        out[int(key.strip())] = value
    return out
