"""Track CLI scenarios run against both stores (SQLite here, PostgreSQL in integration/)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from boxoffice.cli.main import app
from boxoffice.errors import ConfigurationError

HEADER = "Name,Venue,City,Country,Date,viagogoID,is_tracked\n"
ROWS = (
    "Coldplay,Wembley Stadium,London,UK,2027-06-12 19:30:00,151000001,TRUE\n"
    "Taylor Swift,Olympiastadion,Berlin,DE,2027-07-03 20:00:00,151000002,y\n"
    "Billie Eilish,Palau Sant Jordi,Barcelona,ES,2027-09-18 21:00:00,151000004,1\n"
)


def invoke(*args: str) -> Result:
    return CliRunner().invoke(app, ["track", *args], catch_exceptions=True)


def refused(*args: str) -> str:
    """Run a command that must refuse: its one-line error (exit code 2, a usage error)."""
    result = invoke(*args)
    assert isinstance(result.exception, ConfigurationError), result.output
    assert result.exception.exit_code == 2
    return result.exception.one_line()


def ok(*args: str) -> str:
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.stdout


def stored(db: str) -> dict[str, bool]:
    """viagogo id → is_tracked of every stored event."""
    rows = json.loads(ok("show-events", "--db", db, "--json"))
    return {e["viagogo_id"]: e["is_tracked"] for e in rows}


def empty_sheet_is_refused_unless_forced(db: str, tmp: Path) -> None:
    events = tmp / "events.csv"
    events.write_text(HEADER + ROWS)
    source = f"csv:{events}"
    ok("fetch-events", "--db", db, "--events", source)
    assert stored(db) == {"151000001": True, "151000002": True, "151000004": True}
    events.write_text(HEADER)  # the sheet lost its rows
    cleanup = ("cleanup-untracked-events", "--db", db, "--events", source)
    dry = " ".join(ok(*cleanup).split())  # the console wraps at 80 columns, anywhere
    assert "returned no events" in dry
    assert "--force" in dry
    line = refused(*cleanup, "--no-dry-run", "--delete")
    assert "refusing to delete 3 event(s)" in line
    assert "returned no events" in line
    assert "--force" in line
    assert stored(db) == {"151000001": True, "151000002": True, "151000004": True}
    assert "refusing to mark untracked 3 event(s)" in refused(*cleanup, "--no-dry-run")
    assert stored(db) == {"151000001": True, "151000002": True, "151000004": True}
    # every tracked event marked "no" in the source: also refused
    events.write_text(HEADER + ROWS.replace("TRUE", "no").replace(",y\n", ",n\n")
                      .replace(",1\n", ",0\n"))  # fmt: skip
    assert "every tracked event (3) would go" in refused(*cleanup, "--no-dry-run", "--delete")
    assert len(stored(db)) == 3
    # --force applies it, saying what it did
    out = ok(*cleanup, "--no-dry-run", "--delete", "--force")
    assert "deleted 3 event(s)" in out
    assert stored(db) == {}


def delete_after_mark_removes_already_untracked(db: str, tmp: Path) -> None:
    events = tmp / "events.csv"
    events.write_text(HEADER + ROWS)
    source = f"csv:{events}"
    ok("fetch-events", "--db", db, "--events", source)
    events.write_text(HEADER + ROWS.replace("151000002,y", "151000002,no"))
    cleanup = ("cleanup-untracked-events", "--db", db, "--events", source, "--no-dry-run")
    assert "marked 1 event(s) untracked" in ok(*cleanup)
    assert stored(db)["151000002"] is False
    # a plain --no-dry-run again: nothing left to mark
    assert "nothing to do" in ok(*cleanup)
    # --delete now removes the event marked earlier
    out = ok(*cleanup, "--delete")
    assert "already untracked" in out
    assert "deleted 1 event(s)" in out
    assert stored(db) == {"151000001": True, "151000004": True}


def history_window_ends_at_now(db: str) -> None:
    """Rows stamped in the future (an old store, a clock far ahead) stay out of the last N days,
    of section prices and of the chart; the window ends at now."""
    from datetime import UTC, datetime, timedelta

    from boxoffice.jobs.track.store import StoredListing, open_store
    from boxoffice.platforms.sheets.rows import EventRow

    now = datetime.now(UTC)
    store = open_store(db)
    try:
        store.upsert_events([EventRow("151000001", "Show", "V", "C", "UK", None, True)], now=now)
        eid = store.find_event("151000001").event_id
        rows = [
            StoredListing(f"p{i}", eid, "Floor", None, 2, 100.0 + i, None, "EUR", "csv",
                          now - timedelta(days=i, hours=1))
            for i in range(3)
        ]  # fmt: skip
        future = now + timedelta(days=365 * 70)
        rows.append(StoredListing("f", eid, "Future", None, 2, 5.0, None, "EUR", "csv", future))
        rows.append(
            StoredListing("g", eid, "Floor", None, 2, 1.0, None, "EUR", "csv",
                          now + timedelta(hours=1))
        )  # fmt: skip
        store.insert_listing_rows(rows)
    finally:
        store.close()
    for bucket in ("1 day", "1 hour"):
        history = json.loads(
            ok("price-history", "151000001", "--db", db, "--days", "14", "--bucket", bucket,
               "--json")
        )  # fmt: skip
        assert history, bucket
        assert all(row["bucket"] <= now.strftime("%Y-%m-%dT%H:%M:%SZ") for row in history)
        assert sum(row["count"] for row in history) == 3
        assert min(row["min"] for row in history) == 100.0
    sections = json.loads(ok("section-prices", "151000001", "--db", db, "--days", "14", "--json"))
    assert [s["section"] for s in sections] == ["Floor"]
    assert sections[0]["count"] == 3
