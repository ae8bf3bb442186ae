"""Which tickets are sent: status in a set, and ticket name containing a word."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

Verdict = Literal["ok", "status", "name"]


@dataclass
class FilterCounts:
    """Counts printed before sending."""

    total: int = 0
    rejected_status: int = 0
    rejected_name: int = 0
    to_send: int = 0


class TicketFilter:
    """``status`` ∈ ``statuses`` (empty = any) and ``ticketName`` contains ``name_contains``
    (case-insensitive; empty = any)."""

    def __init__(self, statuses: Iterable[str], name_contains: str) -> None:
        self.statuses = frozenset(s.strip().upper() for s in statuses if s.strip())
        self.name_contains = name_contains.strip().casefold()
        self.counts = FilterCounts()

    def verdict(self, ticket: dict[str, Any]) -> Verdict:
        """Why a ticket is rejected, or ``ok``."""
        status = str(ticket.get("status") or "").upper()
        if self.statuses and status not in self.statuses:
            return "status"
        if self.name_contains:
            name = str(ticket.get("ticketName") or "").casefold()
            if self.name_contains not in name:
                return "name"
        return "ok"

    def accept(self, ticket: dict[str, Any]) -> bool:
        """Judge one ticket and count it."""
        verdict = self.verdict(ticket)
        self.counts.total += 1
        if verdict == "status":
            self.counts.rejected_status += 1
        elif verdict == "name":
            self.counts.rejected_name += 1
        else:
            self.counts.to_send += 1
        return verdict == "ok"
