"""The settings model: every key boxoffice reads, its env name and its default — in one place.

Env names: ``BOXOFFICE_<KEY>`` for top-level keys and ``BOXOFFICE_<SECTION>_<KEY>`` for section
keys (e.g. ``BOXOFFICE_BOOK_TOTP_SECRET``). TOML: top-level keys, and ``[section]`` tables.
Each job owns its section in ``boxoffice/settings/<job>.py``.
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import BaseSettings, SettingsConfigDict

from boxoffice.core.logging import unencoded_password_chars, url_password
from boxoffice.settings.book import BookSettings
from boxoffice.settings.notify import NotifyOverride as NotifyOverride
from boxoffice.settings.notify import NotifySettings as NotifySettings
from boxoffice.settings.sync import SyncSettings
from boxoffice.settings.track import TrackSettings
from boxoffice.settings.watch import WatchSettings


class HttpSettings(BaseModel):
    """HTTP client defaults shared by every platform client."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    connect_timeout: float = Field(5.0, gt=0, description="TCP/TLS connect timeout, seconds")
    total_timeout: float = Field(10.0, gt=0, description="whole-request deadline, seconds")
    keepalive_expiry: float = Field(60.0, gt=0, description="idle keep-alive, seconds")
    http2: bool = Field(True, description="negotiate HTTP/2 when the server offers it")
    user_agent: str = Field("", description="User-Agent header; empty = boxoffice/<version>")


class BrowserSettings(BaseModel):
    """Browser used for the session handoff."""

    model_config = ConfigDict(allow_inf_nan=False)  # no inf/nan intervals or prices

    executable: Path | None = Field(None, description="Chromium/Chrome binary; empty = discover")
    cdp_url: str | None = Field(None, description="attach to a running browser over CDP")
    headless: bool = Field(False, description="launch the browser without a window")


class Settings(BaseSettings):
    """Root of all settings."""

    model_config = SettingsConfigDict(
        allow_inf_nan=False,
        env_prefix="BOXOFFICE_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
        case_sensitive=False,
    )

    extra_env_names: ClassVar[frozenset[str]] = frozenset(
        {
            # read by the CLI itself, not a setting
            "BOXOFFICE_CONFIG",
            # read by the test suite's fixtures and the live (opt-in) tests
            "BOXOFFICE_PRETIX_CACHE",
            "BOXOFFICE_LIBREBOOKING_CACHE",
            "BOXOFFICE_TIMESCALEDB_CACHE",
            "BOXOFFICE_TIMESCALEDB_SOURCE",
            "BOXOFFICE_LIBREBOOKING_SOURCE",
            "BOXOFFICE_TEST_TOKEN",
            "BOXOFFICE_LIVE_BOOK_URL",
            "BOXOFFICE_LIVE_BOOK_USERNAME",
            "BOXOFFICE_LIVE_BOOK_PASSWORD",
            "BOXOFFICE_LIVE_BOOK_TOTP_SECRET",
            "BOXOFFICE_LIVE_BOOK_DIALECT",
            "BOXOFFICE_LIVE_BOOK_TIMEZONE",
            "BOXOFFICE_LIVE_BOOK_OWNER",
        }
    )
    """``BOXOFFICE_…`` names that are not settings but are read on purpose (the CLI, the tests):
    every other ``BOXOFFICE_`` name that matches no setting is refused as a typo."""

    state_dir: Path | None = Field(
        None, description="where jobs keep state (ledgers, sessions); empty = per-user state dir"
    )
    data_dir: Path | None = Field(
        None, description="where jobs keep data (track's SQLite); empty = per-user data dir"
    )
    db_url: SecretStr | None = Field(
        None, description="PostgreSQL URL for track (postgresql://…); empty = SQLite"
    )
    secrets: list[SecretStr] = Field(
        default_factory=list, description="extra values to redact from logs and archives"
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    browser: BrowserSettings = Field(default_factory=BrowserSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    book: BookSettings = Field(default_factory=BookSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    track: TrackSettings = Field(default_factory=TrackSettings)

    @field_validator("db_url")
    @classmethod
    def _credentials_percent_encoded(cls, value: SecretStr | None) -> SecretStr | None:
        """``@ / ? # [ ]`` in the user or password must be percent-encoded (``%40`` …)."""
        if value is None:
            return value
        bad = unencoded_password_chars(value.get_secret_value().strip())
        if bad:
            codes = ", ".join(f"{c} → %{ord(c):02X}" for c in bad)
            raise ValueError(
                f"the user or password in the URL holds {' '.join(bad)} unencoded; "
                f"percent-encode it ({codes})"
            )
        return value

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for redaction filters (never for display)."""
        out: list[str] = [s.get_secret_value() for s in self.secrets]
        for section in (self.book, self.sync, self.track, self.watch):
            out.extend(section.secret_values())
        if self.db_url is not None:
            out.append(self.db_url.get_secret_value())
            password = url_password(self.db_url.get_secret_value().strip())
            if password:
                out.append(password)
        return [v for v in out if v]


ENV_PREFIX = "BOXOFFICE_"


def reference() -> list[dict[str, Any]]:
    """Every setting as a dict: key, env, toml, type, default, description, secret.

    Top-level keys are ``BOXOFFICE_<KEY>``; keys of a section (``[http]``, ``[book]``, …) are
    ``BOXOFFICE_<SECTION>_<KEY>``. Deeper tables are one key whose env value is JSON. The README's
    configuration table is generated from this (``scripts/gen_config_reference.py``).
    """
    rows: list[dict[str, Any]] = []
    for name, info in Settings.model_fields.items():
        section = _section_model(info.annotation)
        if section is None:
            rows.append(_row(name, None, info))
            continue
        for sub_name, sub_info in section.model_fields.items():
            rows.append(_row(sub_name, name, sub_info))
    return rows


def _section_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _row(name: str, section: str | None, info: FieldInfo) -> dict[str, Any]:
    key = f"{section}.{name}" if section else name
    env = ENV_PREFIX + (f"{section}_{name}" if section else name).upper()
    toml = f"[{section}] {name}" if section else name
    if info.alias and info.alias != name:
        toml += f" (or {info.alias})"
    return {
        "key": key,
        "env": env,
        "toml": toml,
        "type": _type_name(info.annotation),
        "default": _default_text(info),
        "description": info.description or "",
        "secret": "SecretStr" in _type_name(info.annotation),
    }


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        parts = [_type_name(a) for a in args if a is not type(None)]
        text = " | ".join(parts)
        return f"{text} (optional)" if type(None) in args else text
    if origin is typing.Literal:
        return " | ".join(repr(a) for a in args)
    if origin is not None:
        inner = ", ".join(_type_name(a) for a in args)
        return f"{getattr(origin, '__name__', str(origin))}[{inner}]"
    if isinstance(annotation, type):
        return annotation.__name__
    return str(annotation)


def _default_text(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value: Any = info.default_factory()  # type: ignore[call-arg]
    elif info.default is PydanticUndefined:
        return "(required)"
    else:
        value = info.default
    if value is None:
        return ""
    if isinstance(value, SecretStr):
        return "(set)"
    if isinstance(value, BaseModel):
        return "(table)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return "[" + ", ".join(str(v) for v in value) + "]" if value else "[]"
    return str(value)
