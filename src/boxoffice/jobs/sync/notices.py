"""What a sync push tells the user: finished (counts), dead letters, blocked or interrupted.

* ``sync.finished`` (success) — delivered, already delivered, to send, retries, duration;
* ``sync.dead_letters`` (failure) — how many tickets became dead letters and the first one's
  reason (status and error as the ledger keeps them: ids only, never personal data);
* ``sync.blocked`` (failure) — the run stopped on an error (e.g. the receiver rejecting the
  signature, another run holding the lock);
* ``sync.interrupted`` (failure) — Ctrl-C / SIGTERM, with the ledger's counts to resume from.
"""

from __future__ import annotations

from boxoffice.core.events import Event
from boxoffice.jobs.sync.ledger import Ledger, LedgerKey
from boxoffice.jobs.sync.push import PushConfig, PushResult


def _where(cfg: PushConfig) -> str:
    return f"event {cfg.event} ({cfg.region.name}) → {cfg.target.name}"


def first_dead_reason(ledger: Ledger, key: LedgerKey, dead: int) -> str | None:
    """The reason of the first of the run's ``dead`` dead letters (rows are newest first)."""
    rows = ledger.rows(key, "dead", limit=max(dead, 1))
    if not rows:
        return None
    row = rows[-1]
    status = f"HTTP {row.last_status}" if row.last_status else ""
    return ": ".join(p for p in (status, row.last_error or "") if p) or "unknown"


def sync_events(cfg: PushConfig, result: PushResult, ledger: Ledger) -> list[Event]:
    """The events of a finished run (none for a dry run)."""
    if result.dry_run:
        return []
    plan = result.plan
    counts = {
        "delivered": result.delivered,
        "dead": result.dead,
        "already_delivered": plan.already_delivered,
        "to_send": plan.to_send,
        "total": plan.total,
        "filtered": plan.filtered,
        "retries": result.retries,
        "duration_s": round(result.duration_s, 1),
    }
    base = {"region": cfg.region.name, "event": cfg.event, "target": cfg.target.name}
    events = [
        Event(
            "sync",
            "success" if result.dead == 0 else "info",
            "sync.finished",
            f"boxoffice: sync of {cfg.event} finished",
            f"{_where(cfg)}: delivered {result.delivered}, dead {result.dead}, already "
            f"delivered {plan.already_delivered}, retries {result.retries} in "
            f"{result.duration_s:.0f} s.",
            fields=base | counts,
        )
    ]
    if result.dead:
        reason = first_dead_reason(ledger, cfg.key, result.dead)
        events.append(
            Event(
                "sync",
                "failure",
                "sync.dead_letters",
                f"boxoffice: {result.dead} dead letter(s) in the sync of {cfg.event}",
                f"{_where(cfg)}: {result.dead} ticket(s) became dead letters; first reason: "
                f"{reason}. Fix the cause, then run the same command with --retry-dead.",
                fields=base | counts | {"first_reason": reason},
            )
        )
    return events


def blocked_event(cfg: PushConfig, error: str) -> Event:
    """The run stopped on an error."""
    return Event(
        "sync",
        "failure",
        "sync.blocked",
        f"boxoffice: sync of {cfg.event} stopped",
        f"{_where(cfg)}: {error}",
        fields={"region": cfg.region.name, "event": cfg.event, "error": error},
    )


def interrupted_event(cfg: PushConfig, delivered: int, pending: int) -> Event:
    """Ctrl-C or SIGTERM ended the run."""
    return Event(
        "sync",
        "failure",
        "sync.interrupted",
        f"boxoffice: sync of {cfg.event} interrupted",
        f"{_where(cfg)}: interrupted with {delivered} delivered and {pending} pending in the "
        "ledger — resume with the same command.",
        fields={
            "region": cfg.region.name,
            "event": cfg.event,
            "delivered": delivered,
            "pending": pending,
        },
    )
