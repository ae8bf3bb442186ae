"""Settings of the `book` job (section [book], env BOXOFFICE_BOOK_<KEY>).

A daily run needs only the slot and the window: put the rest here, e.g. in config.toml::

    [book]
    url = "https://booking.uni.example/ub/Web"
    dialect = "booked3"
    username = "me@uni.example"
    owner = "4711"
    timezone = "Europe/Zurich"
    resources = "231-262"
    prefer = "240,241"
    start = "09:00"
    end = "12:00"
    date = "+7"
    opens = "7 days before 00:00"

Secrets (password, TOTP secret) belong in the environment (BOXOFFICE_BOOK_PASSWORD,
BOXOFFICE_BOOK_TOTP_SECRET) or a .env file, not in the TOML file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from boxoffice.settings.notify import NotifyOverride


class BookSettings(BaseModel):
    """Settings of the book job."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    url: str | None = Field(
        None, description="scheduler base URL, the …/Web folder (e.g. https://host/booked/Web)"
    )
    dialect: Literal["booked3", "librebooking"] = Field(
        "booked3", description="booked3 (Booked Scheduler 3.x web API) or librebooking (REST)"
    )
    username: str | None = Field(None, description="scheduler login (email or user name)")
    password: SecretStr | None = Field(None, description="scheduler password")
    totp_secret: SecretStr | None = Field(None, description="base32 TOTP secret for 2FA")
    schedule: int = Field(1, ge=1, description="schedule id")
    owner: str | None = Field(
        None, description="your user id (booked3 needs it for ownerId; found after login if shown)"
    )
    timezone: str = Field("Europe/Zurich", description="the schedule's time zone (IANA name)")
    language: str = Field("en_us", description="UI language sent to the server (en_us, de_de)")
    resources: str | None = Field(None, description="resource ids to try, e.g. 231-262 or 1,4,7-9")
    prefer: str = Field("", description="resource ids to try first, in order, e.g. 240,241")
    date: str | None = Field(
        None, description="slot date YYYY-MM-DD, or +N for N days from today (schedule zone)"
    )
    start: str | None = Field(None, description="slot start HH:MM (schedule zone)")
    end: str | None = Field(None, description="slot end HH:MM (schedule zone)")
    title: str = Field("", description="reservation title")
    description: str = Field("", description="reservation description")
    attributes: dict[str, str] = Field(
        default_factory=dict, description="custom attribute values, {attribute id: value}"
    )
    opens: str | None = Field(
        None, description='when the window opens, relative to the slot: "7 days before 00:00"'
    )
    concurrency: int = Field(8, ge=1, le=32, description="attempts in flight at once")
    first_alone: bool = Field(
        True,
        description="send the most preferred attempt alone first, the others only if it lost"
        " (PHP serves one session's parallel requests in no fixed order)",
    )
    wave: int = Field(
        2,
        ge=0,
        le=32,
        description="after the first, send attempts in waves of this size, each only if the"
        " previous won nothing (at most wave-1 surplus bookings held); 0: all at once",
    )
    lead: float = Field(
        60.0, ge=0, description="seconds before T0 to log in, fetch availability, measure clock"
    )
    warm_ahead: float = Field(
        2.0, gt=0, description="seconds before T0 to open (warm) the connections"
    )
    margin_ms: float = Field(
        2.0,
        ge=0,
        le=1000,
        description="fire this many ms after the measured T0 (absorbs clock-estimate error)",
    )

    notify: NotifyOverride | None = Field(
        None, description="this job's own notification channels, events and heartbeat URL"
    )

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return [s.get_secret_value() for s in (self.password, self.totp_secret) if s is not None]
