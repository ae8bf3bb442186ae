"""What a booking run tells the user: won, pending approval, contested, or lost (best outcome).

* ``book.won`` (success) — resource and reference of the kept booking (also after
  ``--keep-trying`` booked a place freed later);
* ``book.pending`` (warning) — the server stored the booking as *pending approval*;
* ``book.contested`` (warning) — another user holds the same slot and resource (a server
  without locking gave it twice);
* ``book.lost`` (failure) — nothing won, with the best outcome reached (taken, one at a time,
  window not open …).

Reads the race report only, after the burst: it never delays the race.
"""

from __future__ import annotations

from typing import Any

from boxoffice.core.events import Event
from boxoffice.jobs.book.race import RacePlan, RaceReport

#: Outcomes from most to least hopeful: the "best outcome" of a lost race is the first found.
BEST_FIRST = (
    "pending",
    "contested",
    "one_at_a_time",
    "slot_taken",
    "window_not_open",
    "session_expired",
    "forbidden",
    "error",
    "skipped",
)


def _slot(plan: RacePlan) -> str:
    s = plan.slot
    return f"{s.start:%Y-%m-%d %H:%M}–{s.end:%H:%M} ({plan.timezone})"


def best_outcome(report: RaceReport) -> str:
    """The most hopeful outcome of a race that won nothing ("no free resource" without any)."""
    seen = {a.outcome for a in report.attempts}
    for outcome in BEST_FIRST:
        if outcome in seen:
            return outcome
    return next(iter(sorted(seen)), "no free resource")


def _flag(report: RaceReport, name: str) -> Any:
    """A field other versions of the race report may carry (pending, contested)."""
    return getattr(report, name, None)


def book_events(plan: RacePlan, report: RaceReport, *, kept_trying: bool = False) -> list[Event]:
    """The events of one run (none for a dry run or a booking the user already held)."""
    if report.dry_run or (report.existing is not None and report.won is None):
        return []
    slot = _slot(plan)
    fields: dict[str, Any] = {
        "slot_start": plan.slot.start.isoformat(),
        "slot_end": plan.slot.end.isoformat(),
        "attempts": len(report.attempts),
    }
    events: list[Event] = []
    contested = _flag(report, "contested") or [
        a for a in report.attempts if a.outcome == "contested"
    ]
    pending = _flag(report, "pending") or [a for a in report.attempts if a.outcome == "pending"]
    if report.won is not None:
        won = report.won
        how = " (a place freed after the race, --keep-trying)" if kept_trying else ""
        events.append(
            Event(
                "book",
                "success",
                "book.won",
                f"boxoffice: booked resource {won.resource}",
                f"Won {slot}: resource {won.resource}, reference {won.reference}{how}.",
                fields=fields | {"resource": won.resource, "reference": won.reference},
            )
        )
    if pending:
        events.append(
            Event(
                "book",
                "warning",
                "book.pending",
                "boxoffice: booking pending approval",
                f"The booking for {slot} is stored as pending approval, not confirmed yet.",
                fields=fields | {"pending": _describe(pending)},
            )
        )
    if contested:
        events.append(
            Event(
                "book",
                "warning",
                "book.contested",
                "boxoffice: contested booking",
                f"Another user holds the same place for {slot}: "
                f"{_describe(contested)}. Check it with `boxoffice book list`.",
                fields=fields | {"contested": _describe(contested)},
            )
        )
    if report.won is None and not pending:
        best = best_outcome(report)
        events.append(
            Event(
                "book",
                "failure",
                "book.lost",
                "boxoffice: no slot won",
                f"Lost the race for {slot}: best outcome {best} "
                f"({len(report.candidates)} candidate(s), {len(report.taken)} already taken).",
                fields=fields | {"best_outcome": best, "candidates": len(report.candidates)},
            )
        )
    return events


def _describe(items: Any) -> str:
    if isinstance(items, list | tuple):
        parts = []
        for item in items:
            resource = getattr(item, "resource", None)
            reference = getattr(item, "reference", None)
            parts.append(f"resource {resource} ({reference})" if resource else str(item))
        return ", ".join(parts)
    return str(items)
