"""Ordinary input mistakes end in one line and exit 2, before anything runs or is stored:
a folder where a file is expected, a span or date beyond ten years, a CSV that is not UTF-8,
a scheduler URL that is not an http(s) URL with a host (issue 15 item 9)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tests.e2e._cli import CliRun, run_cli

from boxoffice.jobs.track import imports

EVENTS_CSV = (
    "Name,Venue,City,Country,Date,viagogoID,is_tracked\n"
    "Coldplay,Wembley Stadium,London,UK,2027-06-12 19:30:00,151000001,TRUE\n"
)
BOOK = ["--url", "https://booking.uni.example/ub/Web"]
SLOT = ["--start", "09:00", "--end", "12:00", "--resources", "231"]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliRun]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("BOXOFFICE_BOOK_USERNAME", "someone@uni.example")
    monkeypatch.setenv("BOXOFFICE_BOOK_PASSWORD", "a-password")

    def invoke(*args: str) -> CliRun:
        result = run_cli(capsys, monkeypatch, *args)
        assert "Traceback" not in result.text
        return result

    return invoke


@pytest.fixture
def db(cli: Callable[..., CliRun], tmp_path: Path) -> str:
    events = tmp_path / "events.csv"
    events.write_text(EVENTS_CSV)
    path = str(tmp_path / "track.sqlite3")
    assert cli("track", "fetch-events", "--db", path, "--events", f"csv:{events}").code == 0
    return path


FILE_OPTIONS: dict[str, Callable[[str, str], list[str]]] = {
    "--config": lambda d, db: ["--config", d, "track", "show-events", "--db", db],
    "import-listings FILE": lambda d, db: ["track", "import-listings", d, "--db", db],
    "--events csv:FILE": lambda d, db: [
        "track", "fetch-events", "--db", db, "--events", f"csv:{d}",
    ],
    "--credentials": lambda d, db: [
        "track", "fetch-events", "--db", db, "--events", "sheet:1AbC", "--credentials", d,
    ],
    "--db": lambda d, db: ["track", "show-events", "--db", d],
    "--cookies": lambda d, db: ["watch", "handoff", "--cookies", d, "--url", "https://t.example/"],
    "watch parse FILE": lambda d, db: ["watch", "parse", d],
    "--ca-file": lambda d, db: [
        "watch", "run", "--url", "https://t.example", "--event", "a/b", "--once", "--ca-file", d,
    ],
}  # fmt: skip


@pytest.mark.parametrize("option", list(FILE_OPTIONS))
def test_a_folder_given_for_a_file_is_called_a_directory(
    option: str, cli: Callable[..., CliRun], db: str, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    result = cli(*FILE_OPTIONS[option](str(folder), db))
    assert result.code == 2, result.stderr
    assert f"{folder} is a directory" in result.error
    assert "does not exist" not in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["track", "price-history", "151000001", "--days", "4000"],
        ["track", "price-history", "151000001", "--days", "99999999"],
        ["track", "price-history", "151000001", "--bucket", "600 weeks"],
        ["track", "price-history", "151000001", "--bucket", "100000000 weeks"],
        ["track", "section-prices", "151000001", "--days", "1e308"],
        ["book", "run", *BOOK, "--date", "+4000", *SLOT],
        ["book", "run", *BOOK, "--date", "9999-12-31", *SLOT],
        ["book", "run", *BOOK, "--date", "+3", *SLOT, "--at", "9999-01-01T00:00:00"],
        ["book", "availability", *BOOK, "--date", "+99999999"],
        ["book", "list", *BOOK, "--days", "99999999"],
    ],
    ids=lambda args: " ".join(a for a in args if a not in (*BOOK, *SLOT)),
)
def test_spans_and_dates_beyond_ten_years_are_refused(
    args: list[str], cli: Callable[..., CliRun], db: str
) -> None:
    if args[0] == "track":
        args = [*args, "--db", db]
    result = cli(*args)
    assert result.code == 2, result.stderr
    assert "more than 10 years" in result.error


def test_ten_years_minus_a_little_is_still_a_question(cli: Callable[..., CliRun], db: str) -> None:
    result = cli("track", "price-history", "151000001", "--days", "3650", "--db", db)
    assert result.code == 0, result.stderr
    assert "10 years" not in result.stderr


def test_a_latin1_listings_csv_is_refused_before_anything_is_stored(
    cli: Callable[..., CliRun], db: str, tmp_path: Path
) -> None:
    rows = imports.BATCH_ROWS + 10  # more than one batch: the first would be stored by then
    csv = tmp_path / "listings.csv"
    with csv.open("wb") as fh:
        fh.write(
            b"viagogo_id,listing_id,section,row,quantity,price_per_ticket,currency,captured_at\n"
        )
        for i in range(rows):
            fh.write(f"151000001,L{i},A,1,2,50.0,EUR,2026-11-01T10:00:00Z\n".encode())
        fh.write("151000001,LX,Tribüne,1,2,50.0,EUR,2026-11-01T10:00:00Z\n".encode("latin-1"))
    result = cli("track", "import-listings", str(csv), "--db", db)
    assert result.code == 2, result.stderr
    shown = cli("track", "show-listings", "151000001", "--db", db, "--json")
    assert json.loads(shown.stdout) == []  # not the first batch, not a row
    assert f"listings CSV {csv} is not UTF-8 text (line {rows + 2}," in result.error
    assert "iconv -f latin1 -t utf-8" in result.error
    assert "nothing was imported" in result.error


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://booking.uni.example/ub/Web", "is not an http(s) URL"),
        ("booking.uni.example/ub/Web", "is not an http(s) URL"),
        ("https:///ub/Web", "has no host"),
        ("http://[::1/Web", "is not a valid URL"),
    ],
)
def test_a_scheduler_url_that_is_not_http_with_a_host_is_one_line(
    url: str, problem: str, cli: Callable[..., CliRun]
) -> None:
    result = cli("book", "refresh", "--url", url)
    assert result.code == 2, result.stderr
    assert f"scheduler URL {url!r} {problem}" in result.error
