"""Data types shared by both dialects: slots, reservations, outcomes, sessions."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from boxoffice.core.http import CookieRecord
from boxoffice.errors import ConfigurationError


class Outcome(StrEnum):
    """What one create attempt ended as."""

    BOOKED = "booked"
    PENDING = "pending"
    """Stored, but pending an admin's approval (the resource requires approval): not won."""
    SLOT_TAKEN = "slot_taken"
    ONE_AT_A_TIME = "one_at_a_time"
    WINDOW_NOT_OPEN = "window_not_open"
    SESSION_EXPIRED = "session_expired"
    FORBIDDEN = "forbidden"
    ERROR = "error"
    DRY_RUN = "dry_run"


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` or a ConfigurationError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: name too long
        raise ConfigurationError(
            f"unknown time zone {name!r}", hint="use an IANA name such as Europe/Zurich"
        ) from exc


@dataclass(frozen=True)
class Slot:
    """A booking interval as aware datetimes (in the schedule's zone)."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Slot needs aware datetimes")
        if self.end <= self.start:
            raise ConfigurationError(
                f"the slot ends ({self.end:%H:%M}) before it starts ({self.start:%H:%M})",
                hint="give --end after --start",
            )

    @classmethod
    def local(cls, day: date, start: dtime, end: dtime, timezone: str) -> Slot:
        """A slot given as wall-clock times on ``day`` in the schedule's zone ``timezone``."""
        tz = zone(timezone)
        return cls(datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz))

    @property
    def start_utc(self) -> datetime:
        """Start in UTC."""
        return self.start.astimezone(UTC)

    @property
    def end_utc(self) -> datetime:
        """End in UTC."""
        return self.end.astimezone(UTC)

    def overlaps(self, start: datetime, end: datetime) -> bool:
        """Whether [start, end) overlaps this slot."""
        return start < self.end and end > self.start


def iso_utc_ms(moment: datetime) -> str:
    """``2026-12-01T08:00:00.000Z`` — the booked3 web client's format (UTC, milliseconds)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def iso_offset(moment: datetime) -> str:
    """``2026-12-01T08:00:00+0000`` — LibreBooking's API format (ISO 8601, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_when(value: Any, default_tz: ZoneInfo | None = None) -> datetime:
    """Parse a server timestamp (ISO 8601 with Z/offset, or naive in ``default_tz``)."""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    if len(text) >= 5 and text[-5] in "+-" and text[-4:].isdigit() and ":" not in text[-5:]:
        text = text[:-2] + ":" + text[-2:]
    moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_tz or UTC)
    return moment


@dataclass(frozen=True)
class Reservation:
    """An existing reservation as the server lists it."""

    reference: str
    resource_id: int
    start: datetime
    end: datetime
    user_id: str | None = None
    title: str = ""
    pending: bool = False

    def to_json(self) -> dict[str, Any]:
        """JSON-friendly form (ISO times)."""
        out: dict[str, Any] = {
            "reference": self.reference,
            "resource": self.resource_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "user_id": self.user_id,
            "title": self.title,
        }
        if self.pending:
            out["pending"] = True
        return out


@dataclass(frozen=True)
class BookingRequest:
    """Everything a create call needs besides the session."""

    slot: Slot
    resource_id: int
    owner_id: str | None = None
    schedule_id: int = 1
    attributes: dict[int, str] = field(default_factory=dict)
    title: str = ""
    description: str = ""
    timezone: str = "UTC"


@dataclass(frozen=True)
class CreateResult:
    """The interpreted answer to one create call."""

    outcome: Outcome
    message: str
    reference: str | None = None
    status_code: int | None = None


SESSION_TTL = 6 * 3600.0


@dataclass
class BookedSession:
    """What a login yields: cookies, CSRF token or API token, user id. Cached 0600 for 6 h.

    ``cookies`` are whole :class:`~boxoffice.core.http.CookieRecord` s (domain, path, secure,
    host-only): a restored cookie goes back exactly where the server bound it.
    """

    #: Version of :meth:`to_json`'s layout; a cache of another version is not read.
    FORMAT_VERSION = 2

    dialect: str
    base_url: str
    username: str
    cookies: list[CookieRecord] = field(default_factory=list)
    csrf_token: str | None = None
    session_token: str | None = None
    user_id: str | None = None
    created_at: float = field(default_factory=time.time)

    def expired(self, *, now: float | None = None, ttl: float = SESSION_TTL) -> bool:
        """Older than ``ttl`` seconds."""
        return (now if now is not None else time.time()) - self.created_at >= ttl

    def secrets(self) -> list[str]:
        """Values to redact from logs."""
        out = [c.value for c in self.cookies if c.value]
        out += [v for v in (self.csrf_token, self.session_token) if v]
        return out

    def to_json(self) -> dict[str, Any]:
        """Serialize (for the 0600 cache); cookies as the records' fields."""
        return {"version": self.FORMAT_VERSION, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookedSession:
        """Deserialize; raises KeyError/TypeError/ValueError on a malformed or older cache
        (the old ``{name: value}`` cookies lost each cookie's domain, path and flags)."""
        if data.get("version") != cls.FORMAT_VERSION:
            raise ValueError(f"session cache format {data.get('version')!r} is not supported")
        cookies = data.get("cookies") or []
        if not isinstance(cookies, list):
            raise TypeError("cookies must be a list of cookie records")
        return cls(
            dialect=str(data["dialect"]),
            base_url=str(data["base_url"]),
            username=str(data["username"]),
            cookies=[CookieRecord(**dict(c)) for c in cookies],
            csrf_token=data.get("csrf_token"),
            session_token=data.get("session_token"),
            user_id=None if data.get("user_id") is None else str(data["user_id"]),
            created_at=float(data["created_at"]),
        )


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of ``day`` in ``timezone``, aware."""
    tz = zone(timezone)
    start = datetime.combine(day, dtime(0, 0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), dtime(0, 0), tzinfo=tz)
    return start, end
