"""Settings loading: CLI flag > env > .env > TOML file > defaults.

The settings *model* (every key and its default) lives in :mod:`boxoffice.settings`; this module
is only the mechanism: it builds the sources in precedence order, validates, and turns a
validation error into one line per bad field naming the key and the source it came from.
"""

from __future__ import annotations

import json
import os
import tomllib
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import platformdirs
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsError,
    TomlConfigSettingsSource,
)

from boxoffice.errors import ConfigurationError

APP_NAME = "boxoffice"
ENV_PREFIX = "BOXOFFICE_"
CONFIG_ENV = "BOXOFFICE_CONFIG"

S = TypeVar("S", bound=BaseSettings)


def default_config_path() -> Path:
    """Where the TOML config lives unless ``--config`` or ``BOXOFFICE_CONFIG`` says otherwise."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def _is_scalar_list(annotation: Any) -> bool:
    """``list[str]``-like (possibly optional): a plain env value may be one item."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_scalar_list(arg) for arg in typing.get_args(annotation))
    if origin not in (list, set, tuple, frozenset):
        return False
    for arg in typing.get_args(annotation):
        if arg is Ellipsis:
            continue
        if isinstance(arg, type) and issubclass(arg, BaseModel | dict | list):
            return False
        if typing.get_origin(arg) in (dict, list):
            return False
    return True


class _LenientDecoding:
    """Env values for list fields: JSON (``["a","b"]``) or, when not JSON, one plain item."""

    def decode_complex_value(self, field_name: str, field: FieldInfo, value: Any) -> Any:
        try:
            return json.loads(value)
        except ValueError:
            if (
                isinstance(value, str)
                and not value.lstrip().startswith(("[", "{"))
                and _is_scalar_list(field.annotation)
            ):
                return [value]
            raise


class _EnvSource(_LenientDecoding, EnvSettingsSource):
    """Environment variables (``BOXOFFICE_…``)."""


class _DotEnvSource(_LenientDecoding, DotEnvSettingsSource):
    """A ``.env`` file."""


def _lookup(data: Mapping[str, Any], loc: tuple[int | str, ...]) -> bool:
    cur: Any = data
    for part in loc:
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif isinstance(cur, list) and isinstance(part, int) and part < len(cur):
            cur = cur[part]
        else:
            return False
    return True


def _env_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return ENV_PREFIX + "_".join(parts).upper()


def load_settings(
    model: type[S],
    *,
    cli: Mapping[str, Any] | None = None,
    config_file: Path | None = None,
    env_file: Path | None = Path(".env"),
    environ: Mapping[str, str] | None = None,
) -> S:
    """Build ``model`` from all sources; raise :class:`ConfigurationError` naming bad keys.

    ``cli`` holds only the flags the user actually gave (nested dicts for sections).
    ``environ`` replaces ``os.environ`` (tests).
    """
    if config_file is None:
        env_cfg = (environ if environ is not None else os.environ).get(CONFIG_ENV)
        config_file = Path(env_cfg) if env_cfg else default_config_path()
        explicit = bool(env_cfg)
    else:
        explicit = True
    if explicit and not config_file.is_file():
        raise ConfigurationError(
            f"config file {config_file} does not exist",
            hint="create it or drop --config to use the default location",
        )
    if config_file.is_file():
        try:
            tomllib.loads(config_file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigurationError(
                f"cannot read config file {config_file}: {exc.strerror or exc}",
                hint="check the file's permissions",
            ) from exc
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(
                f"config file {config_file} is not valid TOML: {exc}",
                hint="fix the syntax at the line shown",
            ) from exc

    sources: list[tuple[str, PydanticBaseSettingsSource]] = []
    sources.append(("command line", InitSettingsSource(model, init_kwargs=dict(cli or {}))))
    env = _EnvSource(model)
    if environ is not None:
        env.env_vars = {k.lower(): v for k, v in environ.items()}
    sources.append(("environment", env))
    if env_file is not None and env_file.is_file():
        sources.append((f"{env_file}", _DotEnvSource(model, env_file=env_file)))
    if config_file.is_file():
        sources.append((f"{config_file}", TomlConfigSettingsSource(model, toml_file=config_file)))

    collected: list[tuple[str, dict[str, Any]]] = []
    for name, src in sources:
        try:
            collected.append((name, src()))
        except SettingsError as exc:
            raise ConfigurationError(_describe_unparseable(exc, name), hint=_JSON_HINT) from None

    class _Loaded(model):  # type: ignore[valid-type,misc]
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return tuple(src for _, src in sources)

    try:
        loaded = _Loaded()
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc, collected)) from None
    # model_construct, not model_validate: validating a BaseSettings again would re-read the
    # real environment with pydantic-settings' default sources (ignoring ``environ`` and the
    # lenient list decoding). Every field was validated above.
    values = {name: getattr(loaded, name) for name in model.model_fields}
    return typing.cast(S, model.model_construct(_fields_set=set(loaded.model_fields_set), **values))


_JSON_HINT = 'list and table values from env or .env must be JSON, e.g. ["a", "b"]'


def _describe_unparseable(exc: SettingsError, source: str) -> str:
    """One line for a value pydantic-settings could not even decode (bad JSON in env)."""
    text = str(exc)
    field = text.split('"')[1] if text.count('"') >= 2 else "?"
    cause = exc.__cause__
    detail = str(cause) if cause is not None else text
    if source == "environment" or source.endswith(".env"):
        where = f"{source} ({ENV_PREFIX}{field.upper()}…)"
    else:
        where = source
    return f"invalid settings:\n  {field}: cannot parse value: {detail} (from {where})"


def _describe(exc: ValidationError, collected: list[tuple[str, dict[str, Any]]]) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        origin = next((name for name, data in collected if _lookup(data, loc)), None)
        if origin == "environment" or (origin and origin.endswith(".env")):
            where = f"{origin} ({_env_name(loc)})"
        else:
            where = origin or "defaults"
        lines.append(f"{key}: {err['msg']} (from {where})")
    return "invalid settings:\n  " + "\n  ".join(lines)
