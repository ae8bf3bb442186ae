"""Event sources: sheet rows (tracked flag, short rows, dates), gspread, CSV file and URL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gspread
import httpx
import pytest

from boxoffice.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFoundError,
    ProtocolError,
)
from boxoffice.platforms.sheets import sources
from boxoffice.platforms.sheets.rows import is_truthy, parse_rows

HEADER = ["Name", "Venue", "City", "Country", "Date", "viagogoID", "is_tracked"]


@pytest.mark.parametrize("value", ["true", "TRUE", "t", "Yes", "y", "1", "", "  "])
def test_truthy_values_track(value: str) -> None:
    assert is_truthy(value)


@pytest.mark.parametrize("value", ["false", "no", "0", "n", "maybe"])
def test_other_values_do_not_track(value: str) -> None:
    assert not is_truthy(value)


def test_rows_tracked_flag_short_rows_and_bad_dates_reported_by_row_number() -> None:
    rows = [
        HEADER,
        ["A", "V", "C", "UK", "2027-06-12 19:30:00", "101", "TRUE"],
        ["B", "V", "C", "UK", "2027-06-13 19:30", "102", "no"],
        ["C", "V", "C"],
        ["D", "V", "C", "UK", "13/31/2027", "104", "yes"],
        ["", "", "", "", "", "", ""],
        ["E", "V", "C", "UK", "2027-06-14", "105"],
        ["F", "V", "C", "UK", "2027-06-14", "105", "1"],
    ]
    parsed = parse_rows(rows, source="test sheet", tz=ZoneInfo("Europe/London"))
    assert [e.viagogo_id for e in parsed.events] == ["101", "102", "105"]
    assert [e.viagogo_id for e in parsed.tracked] == ["101", "105"]
    # London is UTC+1 in June: 19:30 local is 18:30 UTC
    assert parsed.events[0].event_date == datetime(2027, 6, 12, 18, 30, tzinfo=UTC)
    assert len(parsed.errors) == 3
    assert parsed.errors[0].startswith("row 4:")
    assert parsed.errors[1].startswith("row 5:")
    assert "13/31/2027" in parsed.errors[1]
    assert parsed.errors[2].startswith("row 8:")
    assert "twice" in parsed.errors[2]


def test_seventh_column_is_is_tracked_whatever_its_title() -> None:
    rows = [
        ["Name", "Venue", "City", "Country", "Date", "viagogoID", "Tracked?"],
        ["A", "V", "C", "UK", "2027-01-01", "1", "no"],
    ]
    assert parse_rows(rows).events[0].is_tracked is False


def test_missing_columns_are_named() -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_rows([["Name", "Venue", "City", "When", "id"]], source="Google Sheet X")
    text = info.value.one_line()
    assert "Country" in text
    assert "Date" in text
    assert "viagogoID" in text
    assert "Google Sheet X" in text


def test_iso_dates_with_offsets_are_converted_to_utc() -> None:
    rows = [HEADER[:6], ["A", "V", "C", "DE", "2027-07-03T20:00:00+02:00", "7"]]
    assert parse_rows(rows).events[0].event_date == datetime(2027, 7, 3, 18, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "kind", "target"),
    [
        ("sheet:1AbC", "sheet", "1AbC"),
        ("csv:/tmp/e.csv", "csv", "/tmp/e.csv"),
        ("https://docs.google.com/x/export?format=csv&gid=0", "url", None),
    ],
)
def test_spec_parsing(value: str, kind: str, target: str | None) -> None:
    spec = sources.parse_spec(value)
    assert spec.kind == kind
    assert spec.target == (target or value)


def test_bad_spec_is_one_line() -> None:
    with pytest.raises(ConfigurationError) as info:
        sources.parse_spec("ftp://x")
    assert "sheet:SHEET_ID" in info.value.one_line()


class _FakeWorksheet:
    def __init__(self, values: list[list[str]]) -> None:
        self.values = values

    def get_all_values(self) -> list[list[str]]:
        return self.values


class _FakeSpreadsheet:
    def __init__(self, tabs: dict[str, list[list[str]]]) -> None:
        self.tabs = tabs

    def worksheet(self, name: str) -> _FakeWorksheet:
        if name not in self.tabs:
            raise gspread.exceptions.WorksheetNotFound(name)
        return _FakeWorksheet(self.tabs[name])


class _FakeClient:
    def __init__(self, sheets: dict[str, dict[str, list[list[str]]]]) -> None:
        self.sheets = sheets
        self.opened: list[str] = []

    def open_by_key(self, key: str) -> _FakeSpreadsheet:
        self.opened.append(key)
        if key not in self.sheets:
            raise gspread.exceptions.SpreadsheetNotFound(key)
        return _FakeSpreadsheet(self.sheets[key])


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({"type": "service_account"}))
    return path


async def test_gspread_reads_the_configured_worksheet(creds: Path) -> None:
    client = _FakeClient({"S1": {"Tracker": [HEADER, ["A", "V", "C", "UK", "2027-01-01", "9"]]}})
    got: list[Path] = []

    def factory(path: Path) -> Any:
        got.append(path)
        return client

    rows = await sources.read_sheet(
        "S1", credentials_file=creds, worksheet="Tracker", factory=factory
    )
    assert got == [creds]
    assert client.opened == ["S1"]
    assert rows[1][5] == "9"


def test_gspread_errors_are_one_line(creds: Path) -> None:
    client = _FakeClient({"S1": {"Events": [HEADER]}})
    with pytest.raises(NotFoundError, match="S2"):
        sources.read_sheet_sync("S2", credentials_file=creds, factory=lambda p: client)
    with pytest.raises(ConfigurationError, match="no worksheet 'Other'"):
        sources.read_sheet_sync(
            "S1", credentials_file=creds, worksheet="Other", factory=lambda p: client
        )


def test_bad_service_account_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(AuthenticationError, match=r"bad\.json"):
        sources.read_sheet_sync("S1", credentials_file=bad)
    with pytest.raises(ConfigurationError, match="does not exist"):
        sources.read_sheet_sync("S1", credentials_file=tmp_path / "missing.json")
    with pytest.raises(ConfigurationError, match="service-account"):
        sources.read_sheet_sync("S1", credentials_file=None)


def test_csv_file_source(tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text("\ufeffName,Venue,City,Country,Date,viagogoID\nA,V,C,UK,2027-01-01,5\n")
    assert sources.read_csv_file(path)[1] == ["A", "V", "C", "UK", "2027-01-01", "5"]
    with pytest.raises(NotFoundError):
        sources.read_csv_file(tmp_path / "nope.csv")


async def test_csv_url_follows_redirects_and_rejects_html() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/export":
            return httpx.Response(307, headers={"location": "http://sheets.test/data.csv"})
        if request.url.path == "/data.csv":
            return httpx.Response(
                200, text="Name,Venue\nA,B\n", headers={"content-type": "text/csv"}
            )
        return httpx.Response(200, text="<html>login</html>", headers={"content-type": "text/html"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        rows = await sources.read_csv_url("http://sheets.test/export", client)
        assert rows == [["Name", "Venue"], ["A", "B"]]
        with pytest.raises(ProtocolError, match="HTML"):
            await sources.read_csv_url("http://sheets.test/edit", client)
