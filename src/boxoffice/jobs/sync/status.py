"""`sync status`: the delivery ledger of a region — counts per event and target, dead letters.

Reading needs no write access: the ledger is opened read-only, and a missing one is simply
empty (nothing is created).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from boxoffice.jobs.sync.regions import resolve_target
from boxoffice.jobs.sync.runner import read_only_ledger

if TYPE_CHECKING:
    from boxoffice.jobs.sync.ledger import LedgerRow, StatusLine
    from boxoffice.settings import Settings


@dataclass(frozen=True)
class LedgerStatus:
    """A region's runs and its most recent dead letters (event, target URL, row)."""

    region: str
    lines: list[StatusLine] = field(default_factory=list)
    dead: list[tuple[str, str, LedgerRow]] = field(default_factory=list)
    target_names: dict[str, str] = field(default_factory=dict)  # URL → name in [sync.targets]

    def as_json(self) -> dict[str, Any]:
        """What ``sync status --json`` prints."""
        return {
            "region": self.region,
            "runs": [line.__dict__ for line in self.lines],
            "dead_letters": [{"event": e, "target": t, **row.__dict__} for e, t, row in self.dead],
        }


def ledger_status(
    settings: Settings, region: str, event: str | None = None, target: str | None = None
) -> LedgerStatus:
    """The ledger of ``region`` (only ``event``'s runs if given; dead letters of ``target``
    only, a name from ``[sync.targets]`` or a URL, if given)."""
    name = region.strip().upper()
    ledger = read_only_ledger(settings)
    lines: list[StatusLine] = []
    dead: list[tuple[str, str, LedgerRow]] = []
    try:
        if ledger is not None:
            lines = ledger.summary(name, event)
            dead = ledger.dead_letters(name, limit=20)
        if target:
            url = resolve_target(target, settings.sync).url
            dead = [d for d in dead if d[1] == url]
        if event:
            dead = [d for d in dead if d[0] == event]
    finally:
        if ledger is not None:
            ledger.close()
    names = {url: tname for tname, url in settings.sync.targets.items()}
    return LedgerStatus(name, lines, dead, names)
