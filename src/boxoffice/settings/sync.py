"""Settings of the `sync` job (section [sync], env BOXOFFICE_SYNC_<KEY>).

Region API keys are *not* here: they are read from ``<REGION>_API`` in the environment or
``.env`` (the seed's convention), as are ``<REGION>_BASE_URL``, ``<REGION>_EVENT`` and
``VIVENU_SECRET``. Example TOML::

    [sync]
    webhook_id = "wh_123"
    interval = 1.8

    [sync.targets]
    test = "https://hooks.example.org/test-created"
    prod = "https://hooks.example.org/ticket-created"

    [sync.regions.ITALY]
    base_url = "https://vivenu.com"
    event = "67abc123def456789"
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from boxoffice.settings.notify import NotifyOverride

# Svix's schedule after the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
SVIX_SCHEDULE: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)


class RegionSettings(BaseModel):
    """Per-region overrides (the key itself always comes from ``<REGION>_API``)."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    base_url: str | None = Field(None, description="Vivenu API base URL for this region")
    event: str | None = Field(None, description="default event id for this region")


class SyncSettings(BaseModel):
    """Settings of the sync job."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    regions: dict[str, RegionSettings] = Field(
        default_factory=dict, description="per-region base_url/event overrides, by region name"
    )
    targets: dict[str, str] = Field(
        default_factory=dict,
        description="webhook targets by name (e.g. test, prod) → URL; none is built in",
    )
    default_target: str = Field("prod", description="target used when --target is not given")
    test_target: str = Field("test", description="target used by --test")
    secret: SecretStr | None = Field(
        None, description="webhook HMAC secret; empty = env VIVENU_SECRET"
    )
    webhook_id: str = Field("", description="webhookId put in every envelope")
    seller_id: str | None = Field(
        None, description="sellerId put in every envelope; empty = the ticket's own sellerId"
    )
    mode: str = Field("prod", description="envelope mode field")
    standard_headers: bool = Field(
        True, description="also send Standard Webhooks headers (webhook-id/-timestamp/-signature)"
    )
    interval: float = Field(1.8, ge=0, description="seconds between deliveries (0 = unpaced)")
    burst: int = Field(
        1,
        ge=1,
        le=10,
        description="deliveries allowed back to back after a stall (1 = never closer than "
        "interval; 2 keeps the mean pace exact when the machine is late now and then)",
    )
    concurrency: int = Field(1, ge=1, le=64, description="deliveries in flight at once")
    statuses: list[str] = Field(
        default_factory=lambda: ["VALID", "DETAILSREQUIRED"],
        description="ticket statuses that are sent",
    )
    name_contains: str = Field(
        "CHARITY", description="only tickets whose ticketName contains this (case-insensitive)"
    )
    retry_schedule: list[float] = Field(
        default_factory=lambda: list(SVIX_SCHEDULE),
        description="seconds before retry n (after the immediate first attempt), Svix-like",
    )
    retry_cap: float = Field(36000.0, gt=0, description="longest wait between two attempts")
    max_attempts: int = Field(8, ge=1, description="attempts before a ticket is a dead letter")
    max_wait: float = Field(
        600.0,
        ge=0,
        allow_inf_nan=False,
        description="longest a push waits for a ticket's next retry once the others are done; "
        "retries further away end the run and the same command resumes them",
    )
    abort_after_auth_failures: int = Field(
        3, ge=1, description="consecutive 401/403 from the receiver that stop the run"
    )
    timeout: float = Field(10.0, gt=0, description="per-delivery timeout, seconds")
    webhook_client: Literal["aiohttp", "httpx"] = Field(
        "aiohttp",
        description="HTTP client for deliveries: aiohttp (HTTP/1.1, fastest) or httpx (HTTP/2)",
    )
    page_size: int = Field(1000, ge=1, le=1000, description="tickets per API page (top)")
    out_dir: Path = Field(Path("."), description="where `sync pull` writes purchased_tickets/")
    progress_dir: Path = Field(
        Path("."), description="where historical_sync_progress_<REGION>.json is written"
    )

    notify: NotifyOverride | None = Field(
        None, description="this job's own notification channels, events and heartbeat URL"
    )

    @field_validator("statuses", mode="before")
    @classmethod
    def _split_statuses(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [s.strip().upper() for s in value.split(",") if s.strip()]
        return value

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return [self.secret.get_secret_value()] if self.secret is not None else []
