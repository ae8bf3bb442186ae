"""UTC timestamps as text: ISO-8601 with a ``Z`` (``2026-11-22T03:23:05Z``).

One formatter for every file, ledger row and JSON document boxoffice writes, so they all read
(and sort) the same way. ``timespec`` is :meth:`datetime.isoformat`'s: ``"seconds"`` for
documents people read, ``"milliseconds"`` / ``"microseconds"`` where order within a second
matters (the width is fixed for a given ``timespec``, so the text sorts like the instants).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def utc_iso(dt: datetime | None = None, timespec: str = "seconds") -> str:
    """``dt`` (default: now) in UTC as ISO-8601 ending in ``Z``.

    An aware ``dt`` is converted to UTC; a naive one is taken as local time (as
    :meth:`datetime.astimezone` does). ``timespec``: ``"seconds"``, ``"milliseconds"``,
    ``"microseconds"`` (always six digits), … as for :meth:`datetime.isoformat`.
    """
    moment = utc_now() if dt is None else dt.astimezone(UTC)
    return moment.isoformat(timespec=timespec).removesuffix("+00:00") + "Z"
