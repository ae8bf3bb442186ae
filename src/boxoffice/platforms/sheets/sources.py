"""Where event rows come from: ``sheet:SHEET_ID`` | ``csv:PATH`` | an http(s) CSV export URL.

The Google Sheet is read with gspread and a service-account file (worksheet name
configurable). A link-shared sheet's CSV export (``…/export?format=csv&gid=…``) needs no
credentials. Each source returns the raw rows (header first); :mod:`.rows` interprets them.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import httpx

from boxoffice.errors import (
    AuthenticationError,
    ConfigurationError,
    NetworkError,
    NotFoundError,
    ProtocolError,
    map_exception,
    require_file,
)

SourceKind = Literal["sheet", "csv", "url"]


@dataclass(frozen=True)
class EventsSpec:
    """A parsed ``--events`` value."""

    kind: SourceKind
    target: str

    def describe(self) -> str:
        """How messages name the source."""
        if self.kind == "sheet":
            return f"Google Sheet {self.target}"
        if self.kind == "csv":
            return f"CSV file {self.target}"
        return f"CSV export {self.target}"


def parse_spec(value: str) -> EventsSpec:
    """``sheet:ID`` / ``csv:PATH`` / ``https://…`` → :class:`EventsSpec`."""
    text = value.strip()
    lowered = text.lower()
    if lowered.startswith("sheet:") and text[6:].strip():
        return EventsSpec("sheet", text[6:].strip())
    if lowered.startswith("csv:") and text[4:].strip():
        return EventsSpec("csv", text[4:].strip())
    if lowered.startswith(("http://", "https://")):
        return EventsSpec("url", text)
    raise ConfigurationError(
        f"events source {value!r} not understood",
        hint="use sheet:SHEET_ID, csv:PATH or an https://…/export?format=csv URL",
    )


def parse_csv_text(text: str) -> list[list[str]]:
    """CSV text → rows (a UTF-8 BOM is dropped)."""
    return [list(r) for r in csv.reader(io.StringIO(text.lstrip("\ufeff")))]


def read_csv_file(target: Path | str) -> list[list[str]]:
    """Rows of a local CSV file (``~`` expanded)."""
    path = require_file(Path(target).expanduser(), "events CSV")
    try:
        return parse_csv_text(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise NotFoundError(f"events CSV {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"events CSV {path} cannot be read: {exc}") from exc


async def read_csv_url(url: str, client: httpx.AsyncClient) -> list[list[str]]:
    """Rows of a CSV export URL (redirects followed: Google answers the export with one)."""
    try:
        response = await client.get(url, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise map_exception(exc, context=f"events CSV {url}") from exc
    if response.status_code in (401, 403):
        raise AuthenticationError(
            f"events CSV {url}: HTTP {response.status_code}",
            hint="share the sheet as 'anyone with the link can view' or use sheet:ID",
        )
    if response.status_code == 404:
        raise NotFoundError(f"events CSV {url}: HTTP 404")
    if response.status_code >= 500:
        raise NetworkError(f"events CSV {url}: server error HTTP {response.status_code}")
    if response.status_code >= 400:
        raise ProtocolError(f"events CSV {url}: HTTP {response.status_code}")
    if "text/html" in response.headers.get("content-type", ""):
        raise ProtocolError(
            f"events CSV {url}: got an HTML page, not CSV",
            hint="use the sheet's export link (…/export?format=csv&gid=…)",
        )
    return parse_csv_text(response.text)


GspreadFactory = Callable[[Path], Any]


def default_gspread_factory(credentials_file: Path) -> Any:
    """A gspread client from a service-account JSON file."""
    import gspread

    return gspread.service_account(filename=str(credentials_file))


def read_sheet_sync(
    sheet_id: str,
    *,
    credentials_file: Path | None,
    worksheet: str = "Events",
    factory: GspreadFactory = default_gspread_factory,
) -> list[list[str]]:
    """All values of a worksheet via gspread (blocking; see :func:`read_sheet`)."""
    if credentials_file is None:
        raise ConfigurationError(
            "reading a Google Sheet needs a service-account file",
            hint="set track.credentials_file (BOXOFFICE_TRACK_CREDENTIALS_FILE) or "
            "--credentials FILE, or use the sheet's CSV export URL",
        )
    require_file(
        credentials_file,
        "service-account file",
        hint="download the JSON key of the service account from Google Cloud",
        missing=ConfigurationError,
    )
    import gspread
    from google.auth.exceptions import GoogleAuthError

    try:
        client = factory(credentials_file)
        spreadsheet = client.open_by_key(sheet_id)
        values = spreadsheet.worksheet(worksheet).get_all_values()
    except gspread.exceptions.SpreadsheetNotFound:
        raise NotFoundError(
            f"Google Sheet {sheet_id} not found",
            hint="check the id and share the sheet with the service account's e-mail",
        ) from None
    except gspread.exceptions.WorksheetNotFound:
        raise ConfigurationError(
            f"Google Sheet {sheet_id} has no worksheet {worksheet!r}",
            hint="set track.worksheet to the tab's name",
        ) from None
    except gspread.exceptions.APIError as exc:
        status = getattr(exc, "code", None)
        if status in (401, 403):
            raise AuthenticationError(
                f"Google Sheet {sheet_id}: access refused (HTTP {status})",
                hint="share the sheet with the service account's e-mail",
            ) from None
        raise ProtocolError(f"Google Sheet {sheet_id}: API error {status}: {exc}") from None
    except (ValueError, KeyError, GoogleAuthError) as exc:
        raise AuthenticationError(
            f"service-account file {credentials_file} was not accepted: {exc}",
            hint="use the JSON key of a service account",
        ) from None
    except OSError as exc:
        raise map_exception(exc, context=f"Google Sheet {sheet_id}") from exc
    return [[str(c) for c in row] for row in values]


async def read_sheet(
    sheet_id: str,
    *,
    credentials_file: Path | None,
    worksheet: str = "Events",
    factory: GspreadFactory = default_gspread_factory,
) -> list[list[str]]:
    """:func:`read_sheet_sync` in a worker thread (gspread blocks)."""
    return await asyncio.to_thread(
        read_sheet_sync,
        sheet_id,
        credentials_file=credentials_file,
        worksheet=worksheet,
        factory=factory,
    )
