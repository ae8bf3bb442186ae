"""Nonsense data is skipped and counted, never stored: listings from the future, absurd or
non-finite prices, malformed event ids; history windows end at now."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from boxoffice.jobs.track.imports import import_listings
from boxoffice.jobs.track.store import Store, open_store
from boxoffice.platforms.listings.proxy import parse_payload
from boxoffice.platforms.listings.seatgeek import parse_event_stats
from boxoffice.platforms.sheets.rows import EventRow, parse_rows
from boxoffice.settings.track import TrackSettings

HEADER = "viagogo_id,listing_id,section,row,quantity,price_per_ticket,currency,captured_at\n"
NOW = datetime.now(UTC).replace(microsecond=0)
SKEW = timedelta(seconds=TrackSettings().clock_skew_seconds)


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_the_clock_skew_allowance_is_a_small_setting() -> None:
    assert timedelta(0) < SKEW <= timedelta(minutes=10)


@pytest.mark.parametrize("amount", [1e308, "1e308", 1e12, "inf", "nan", -1])
def test_proxy_skips_absurd_and_non_finite_prices(amount: object) -> None:
    result = parse_payload(
        {
            "listings": [
                {"listingId": 1, "availableTickets": 1, "sellerAllInPrice": {"amt": 99.5}},
                {"listingId": 2, "availableTickets": 1, "sellerAllInPrice": {"amt": amount}},
            ]
        }
    )
    assert [lst.listing_id for lst in result.listings] == ["1"]
    assert len(result.skipped) == 1
    assert "listing 2" in result.skipped[0]


def test_seatgeek_drops_absurd_figures_and_says_so() -> None:
    skipped: list[str] = []
    stats = parse_event_stats(
        {"stats": {"lowest_price": 40, "highest_price": 1e308, "listing_count": 3}}, skipped
    )
    assert (stats.lowest, stats.highest, stats.listing_count) == (40.0, None, 3)
    assert skipped == ["stats.highest_price 1e+308 is absurd (above 1e+10)"]


def store_with_event(tmp_path: Path, vid: str = "151000001") -> tuple[Store, int]:
    store = open_store(tmp_path / "n.sqlite3")
    store.upsert_events([EventRow(vid, "Show", "V", "C", "UK", None, True)], now=NOW)
    return store, store.find_event(vid).event_id


def test_csv_import_skips_future_listings_and_absurd_prices_per_row(tmp_path: Path) -> None:
    store, eid = store_with_event(tmp_path)
    far = NOW.replace(year=2099) if NOW.year < 2099 else NOW + timedelta(days=3650)
    lines = [
        f"151000001,ok1,A,1,2,100,EUR,{stamp(NOW - timedelta(hours=2))}\n",  # line 2
        f"151000001,ok2,A,1,2,100,EUR,{stamp(NOW + SKEW / 2)}\n",  # within the skew: kept
        f"151000001,fut1,A,1,2,100,EUR,{stamp(far)}\n",  # line 4
        f"151000001,fut2,A,1,2,100,EUR,{stamp(NOW + SKEW + timedelta(minutes=5))}\n",
        f"151000001,big,A,1,2,1e308,EUR,{stamp(NOW)}\n",  # line 6
        f"151000001,inf,A,1,2,inf,EUR,{stamp(NOW)}\n",
        f"151000001,nan,A,1,2,nan,EUR,{stamp(NOW)}\n",
        f"151000001,max,A,1,2,{1e12:.0f},EUR,{stamp(NOW)}\n",
        "151000001,y9999,A,1,2,5,EUR,9999-12-31T23:59:59-05:00\n",  # line 10
    ]
    result = import_listings(store, io.StringIO(HEADER + "".join(lines)), now=NOW)
    assert result.inserted == 2
    assert [e.line for e in result.errors] == [4, 5, 6, 7, 8, 9, 10]
    assert "in the future" in result.errors[0].reason
    assert "in the future" in result.errors[1].reason
    assert "absurd" in result.errors[2].reason
    assert store.count_listings(eid) == 2


def test_csv_import_reports_malformed_event_ids_per_row(tmp_path: Path) -> None:
    store, _ = store_with_event(tmp_path)
    text = HEADER + "".join(
        f"{vid},l{i},A,1,2,100,EUR,{stamp(NOW)}\n"
        for i, vid in enumerate(["abc", "-5", "1" * 26, "151000001"])
    )
    result = import_listings(store, io.StringIO(text), now=NOW)
    assert result.inserted == 1
    assert [e.line for e in result.errors] == [2, 3, 4]
    assert "'abc' is not a positive whole number" in result.errors[0].reason
    assert "'-5' is not a positive whole number" in result.errors[1].reason
    assert "26 digits" in result.errors[2].reason
    assert result.unknown_ids == []  # bad ids are errors, not "unknown events"


def test_sheet_rows_with_malformed_viagogo_ids_are_reported_per_row() -> None:
    header = ["Name", "Venue", "City", "Country", "Date", "viagogoID"]
    rows = [header] + [
        [f"E{i}", "V", "C", "UK", "2027-01-01", vid]
        for i, vid in enumerate(["abc", "-5", "1" * 26, "0", "151000001", " 151000002 "])
    ]
    parsed = parse_rows(rows)
    assert [e.viagogo_id for e in parsed.events] == ["151000001", "151000002"]
    assert [e.split(":")[0] for e in parsed.errors] == ["row 2", "row 3", "row 4", "row 5"]
    assert "viagogoID" in parsed.errors[0]
    assert "26 digits" in parsed.errors[2]


def test_history_windows_end_at_now_on_sqlite(tmp_path: Path) -> None:
    from tests.e2e.track_scenarios import history_window_ends_at_now

    history_window_ends_at_now(str(tmp_path / "w.sqlite3"))


def test_json_of_an_absurd_price_is_never_stored(tmp_path: Path) -> None:
    """The whole path: a proxy answer with 1e308 stores only the sane listing."""
    store, eid = store_with_event(tmp_path)
    result = parse_payload(
        json.loads(
            '{"listings": [{"listingId": 1, "availableTickets": 1,'
            ' "sellerAllInPrice": {"amt": 1e308}}, {"listingId": 2, "availableTickets": 1,'
            ' "sellerAllInPrice": {"amt": 12}}]}'
        )
    )
    store.insert_listings(eid, result.listings, captured_at=NOW, provider="proxy")
    assert [r.price_per_ticket for r in store.listings(eid)] == [12.0]
