"""Where regions, targets and the webhook secret come from.

* API key: ``<REGION>_API`` (environment, then ``.env`` in the working directory).
* Base URL: ``<REGION>_BASE_URL`` env, else ``[sync.regions.<REGION>] base_url``, else
  ``https://vivenu.dev`` for DEV/TEST and ``https://vivenu.com`` for every other region.
* Default event: ``<REGION>_EVENT`` env, else ``[sync.regions.<REGION>] event``.
* Webhook targets: ``[sync.targets]`` by name, or a URL given directly. None is built in.
* HMAC secret: ``[sync] secret`` / ``BOXOFFICE_SYNC_SECRET``, else ``VIVENU_SECRET``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from boxoffice.errors import ConfigurationError
from boxoffice.settings.sync import SyncSettings

DEV_BASE_URL = "https://vivenu.dev"
PROD_BASE_URL = "https://vivenu.com"
DEV_REGIONS = frozenset({"DEV", "TEST"})
SECRET_ENV = "VIVENU_SECRET"
_REGION_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")


def load_env(
    environ: Mapping[str, str] | None = None, env_file: Path | None = None
) -> dict[str, str]:
    """The environment merged over ``.env`` (environment wins)."""
    merged: dict[str, str] = {}
    path = env_file if env_file is not None else Path(".env")
    if path.is_file():
        merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    merged.update(environ if environ is not None else os.environ)
    return merged


@dataclass(frozen=True)
class Region:
    """A resolved region: its key (by env name and value), base URL and default event."""

    name: str
    key_name: str
    api_key: str
    base_url: str
    event: str | None

    def __repr__(self) -> str:  # never show the key
        return f"Region(name={self.name!r}, base_url={self.base_url!r}, event={self.event!r})"


@dataclass(frozen=True)
class Target:
    """A webhook target: the name the user gave and the URL it resolves to."""

    name: str
    url: str


def configured_regions(env: Mapping[str, str], settings: SyncSettings) -> list[str]:
    """Region names that have a ``<REGION>_API`` key set."""
    names = {
        key[: -len("_API")]
        for key, value in env.items()
        if key.endswith("_API") and value and _REGION_RE.match(key[: -len("_API")])
    }
    names.update(n.upper() for n in settings.regions if env.get(f"{n.upper()}_API"))
    return sorted(names)


def default_base_url(region: str) -> str:
    """vivenu.dev for DEV/TEST, vivenu.com for everything else."""
    return DEV_BASE_URL if region.upper() in DEV_REGIONS else PROD_BASE_URL


def resolve_region(name: str, settings: SyncSettings, env: Mapping[str, str]) -> Region:
    """Resolve a region name; unknown or key-less regions list the configured ones."""
    region = name.strip().upper()
    if not _REGION_RE.match(region):
        raise ConfigurationError(
            f"invalid region name {name!r}", hint="use letters, digits and _ (e.g. PROD, ITALY)"
        )
    key_name = f"{region}_API"
    api_key = env.get(key_name, "").strip()
    if not api_key:
        known = configured_regions(env, settings)
        hint = (
            f"configured regions: {', '.join(known)}"
            if known
            else f"set {key_name}=<your Vivenu API key> in the environment or .env"
        )
        raise ConfigurationError(f"unknown region {region}: {key_name} is not set", hint=hint)
    overrides = settings.regions.get(region) or settings.regions.get(region.lower())
    base_url = (
        env.get(f"{region}_BASE_URL")
        or (overrides.base_url if overrides else None)
        or default_base_url(region)
    ).rstrip("/")
    if not base_url.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"base URL for {region} is not an http(s) URL: {base_url!r}",
            hint=f"fix {region}_BASE_URL or [sync.regions.{region}] base_url",
        )
    event = env.get(f"{region}_EVENT") or (overrides.event if overrides else None) or None
    return Region(region, key_name, api_key, base_url, event)


def resolve_event(region: Region, event: str | None) -> str:
    """The event given, else the region's default event."""
    chosen = (event or region.event or "").strip()
    if not chosen:
        raise ConfigurationError(
            f"no event given for {region.name}",
            hint=f"pass EVENT or set {region.name}_EVENT in the environment or .env",
        )
    return chosen


def resolve_target(name_or_url: str, settings: SyncSettings) -> Target:
    """A configured target name (``test``, ``prod``, …) or a URL."""
    value = name_or_url.strip()
    if value.startswith(("http://", "https://")):
        return Target(value, value)
    url = settings.targets.get(value)
    if not url:
        known = ", ".join(sorted(settings.targets)) or "none configured"
        raise ConfigurationError(
            f"unknown webhook target {value!r} (configured: {known})",
            hint=f'add it under [sync.targets] ({value} = "https://…") or in '
            "BOXOFFICE_SYNC_TARGETS as JSON, or pass --target https://…",
        )
    if not url.startswith(("http://", "https://")):
        raise ConfigurationError(f"webhook target {value!r} is not an http(s) URL: {url!r}")
    return Target(value, url)


def resolve_secret(settings: SyncSettings, env: Mapping[str, str]) -> str:
    """The webhook HMAC secret (config, else ``VIVENU_SECRET``)."""
    if settings.secret is not None and settings.secret.get_secret_value():
        return settings.secret.get_secret_value()
    value = env.get(SECRET_ENV, "")
    if not value:
        raise ConfigurationError(
            "no webhook secret to sign with",
            hint=f"set {SECRET_ENV} (the webhook's HMAC key) in the environment or .env",
        )
    return value
