"""Settings of the `track` job (section [track], env BOXOFFICE_TRACK_<KEY>).

The store is chosen by the root ``db_url`` (``--db`` / ``BOXOFFICE_DB_URL``): a PostgreSQL URL,
or empty for SQLite at ``track.db_path`` (default ``<data dir>/track.sqlite3``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from boxoffice.core.pacing import JitterStrategy
from boxoffice.settings.notify import NotifyOverride


class TrackSettings(BaseModel):
    """Settings of the track job."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    db_path: Path | None = Field(
        None, description="SQLite file when db_url is empty; empty = <data dir>/track.sqlite3"
    )
    events: str | None = Field(
        None, description="events source: sheet:SHEET_ID | csv:PATH | https://…export?format=csv"
    )
    worksheet: str = Field("Events", description="worksheet (tab) of the Google Sheet")
    credentials_file: Path | None = Field(
        None, description="Google service-account JSON file (for sheet:SHEET_ID)"
    )
    sheet_timezone: str = Field(
        "UTC", description="zone of the sheet's dates when they carry no offset"
    )
    date_formats: list[str] = Field(
        default_factory=lambda: [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d",
            "%d/%m/%Y %H:%M:%S",
            "%d/%m/%Y %H:%M",
            "%d/%m/%Y",
        ],
        description="strptime formats tried for the sheet's Date column (ISO-8601 always works)",
    )
    timezone: str | None = Field(
        None, description="zone used to show times (empty = this machine's local zone)"
    )
    listing_source: Literal["proxy", "seatgeek"] = Field(
        "proxy", description="listing source for events whose sheet row names none"
    )
    proxy_url: str | None = Field(None, description="base URL of the listings proxy")
    proxy_api_key: SecretStr | None = Field(
        None, description="x-api-key sent to the listings proxy (optional)"
    )
    seatgeek_url: str = Field("https://api.seatgeek.com/2", description="SeatGeek API base URL")
    seatgeek_client_id: SecretStr | None = Field(None, description="SeatGeek client_id")
    interval_hours: float = Field(12.0, gt=0, description="base interval between snapshots")
    min_factor: float = Field(0.7, gt=0, le=1, description="lowest random factor of the interval")
    max_factor: float = Field(1.3, ge=1, description="highest random factor of the interval")
    randomization: JitterStrategy = Field(
        "uniform", description="jitter strategy: uniform, poisson or normal"
    )
    concurrency: int = Field(4, ge=1, le=64, description="snapshots running at the same time")
    retries: int = Field(3, ge=0, le=10, description="retries of a failed fetch (with backoff)")
    retry_base_seconds: float = Field(5.0, ge=0, description="first retry delay (doubles)")
    db_retry_seconds: float = Field(
        60.0, gt=0, description="wait before retrying when the database is unreachable"
    )
    lease_minutes: float = Field(
        15.0, gt=0, description="how long a claimed run stays reserved for its scheduler"
    )
    events_refresh_hours: float = Field(
        3.0,
        ge=0,
        le=8760,
        description="re-read the events source this often while the scheduler runs (0 = off)",
    )
    clock_skew_seconds: float = Field(
        300.0,
        ge=0,
        le=86400,
        description="listings stamped later than now plus this are from the future: skipped",
    )
    compress_after: str | None = Field(
        "7 days", description="TimescaleDB compression policy age (empty = no policy)"
    )

    notify_after_failures: int = Field(
        3, ge=1, description="notify when a source or the store failed this many runs in a row"
    )
    notify: NotifyOverride | None = Field(
        None, description="this job's own notification channels, events and heartbeat URL"
    )

    @model_validator(mode="after")
    def _factors(self) -> TrackSettings:
        if self.min_factor > self.max_factor:
            raise ValueError("min_factor must be <= max_factor")
        return self

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return [
            s.get_secret_value()
            for s in (self.proxy_api_key, self.seatgeek_client_id)
            if s is not None
        ]
