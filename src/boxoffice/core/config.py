"""Settings loading: CLI flag > env > .env > TOML file > defaults.

The settings *model* (every key and its default) lives in :mod:`boxoffice.settings`; this module
is only the mechanism: it builds the sources in precedence order, validates, and turns a
validation error into one line per bad field naming the key and the source it came from.
"""

from __future__ import annotations

import difflib
import json
import os
import re
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

from boxoffice.errors import ConfigurationError, require_file

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
    if explicit:
        require_file(
            config_file,
            "config file",
            hint="create it or drop --config to use the default location",
            missing=ConfigurationError,
        )
    if config_file.is_file():
        try:
            text = config_file.read_text(encoding="utf-8")
            toml_data = tomllib.loads(text)
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
        problems = unknown_keys(model, toml_data)
        if problems:
            raise _describe_unknown_toml(problems, config_file, text)
    env_names = environ if environ is not None else os.environ
    _check_env_names(model, env_names, "environment")
    if env_file is not None and env_file.is_file():
        _check_env_names(model, _DotEnvSource(model, env_file=env_file).env_vars, str(env_file))

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


# --- unknown keys (typos) ---------------------------------------------------------------------


def _unwrap(annotation: Any) -> Any:
    """``X | None`` → ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _as_model(annotation: Any) -> type[BaseModel] | None:
    annotation = _unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _field_names(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """Every name a key may have in ``model``: field names and their aliases."""
    names: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        names[name] = info
        if info.alias:
            names[info.alias] = info
    return names


def _closest(name: str, candidates: typing.Iterable[str]) -> str | None:
    found = difflib.get_close_matches(name.lower(), list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_keys(
    model: type[BaseModel], data: Mapping[str, Any], path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], str | None]]:
    """Keys of ``data`` that ``model`` does not know: ``(path, closest valid name)`` each.

    Walks nested sections, ``dict[str, Model]`` tables (``[sync.regions.X]``) and
    ``list[Model]`` arrays (``[[watch.watches]]``).
    """
    out: list[tuple[tuple[str, ...], str | None]] = []
    names = _field_names(model)
    for key, value in data.items():
        info = names.get(key)
        if info is None:
            out.append(((*path, key), _closest(key, names)))
            continue
        annotation = _unwrap(info.annotation)
        sub = _as_model(annotation)
        if sub is not None and isinstance(value, Mapping):
            out.extend(unknown_keys(sub, value, (*path, key)))
            continue
        origin = typing.get_origin(annotation)
        args = typing.get_args(annotation)
        if origin is dict and len(args) == 2 and isinstance(value, Mapping):
            item = _as_model(args[1])
            if item is not None:
                for sub_key, sub_value in value.items():
                    if isinstance(sub_value, Mapping):
                        out.extend(unknown_keys(item, sub_value, (*path, key, str(sub_key))))
        elif origin is list and args and isinstance(value, list):
            item = _as_model(args[0])
            if item is not None:
                for index, sub_value in enumerate(value):
                    if isinstance(sub_value, Mapping):
                        out.extend(unknown_keys(item, sub_value, (*path, key, str(index))))
    return out


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=""")


def _toml_line(text: str, path: tuple[str, ...]) -> int | None:
    """1-based line of ``path`` in a TOML text (best effort; None when not found).

    Array indexes in ``path`` (``watch.watches.1``) count the ``[[…]]`` headers.
    """
    named = [p for p in path]
    header: list[str] = []
    counts: dict[tuple[str, ...], int] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match:
            header = [p.strip().strip("\"'") for p in match.group(1).split(".")]
            if line.lstrip().startswith("[["):
                counts[tuple(header)] = counts.get(tuple(header), -1) + 1
                header = [*header, str(counts[tuple(header)])]
            if header == named:
                return number
            continue
        key = _KEY.match(line)
        if key:
            parts = [p.strip().strip("\"'") for p in key.group(1).split(".")]
            full = [*header, *parts]
            if (
                full[: len(named)] == named
                and len(full) >= len(named)
                and (header == named[: len(header)])
            ):
                return number
    # a section that is itself unknown: its header line
    for number, line in enumerate(lines, start=1):
        match = _HEADER.match(line)
        if match and [p.strip() for p in match.group(1).split(".")][: len(named)] == named:
            return number
    return None


def _describe_unknown_toml(
    problems: list[tuple[tuple[str, ...], str | None]], config_file: Path, text: str
) -> ConfigurationError:
    lines = []
    for path, closest in problems:
        *section, key = path
        shown = [p for p in section if not p.isdigit()]
        if not section:
            what = f"unknown section [{key}]" if _is_table(text, key) else f"unknown key {key!r}"
        else:
            what = f"unknown key {key!r} in [{'.'.join(shown)}]"
        line = _toml_line(text, path)
        where = f"{config_file}, line {line}" if line else f"{config_file}"
        hint = f"; did you mean {closest!r}?" if closest else ""
        lines.append(f"{what} ({where}){hint}")
    if len(lines) == 1:
        return ConfigurationError(
            lines[0], hint="fix or remove it (boxoffice reads no setting of that name)"
        )
    return ConfigurationError(
        "unknown settings:\n  " + "\n  ".join(lines),
        hint="fix or remove them (boxoffice reads no settings of those names)",
    )


def _is_table(text: str, key: str) -> bool:
    for line in text.splitlines():
        match = _HEADER.match(line)
        if match and match.group(1).split(".")[0].strip().strip("\"'") == key:
            return True
    return False


def valid_env_names(model: type[BaseModel]) -> dict[str, str]:
    """Every ``BOXOFFICE_…`` name ``model`` reads → its settings key (for env and .env)."""
    names: dict[str, str] = {}
    for field_key, info in model.model_fields.items():
        names[(ENV_PREFIX + field_key).upper()] = field_key
        sub = _as_model(info.annotation)
        if sub is None:
            continue
        for sub_key, sub_info in sub.model_fields.items():
            for spelling in {sub_key, sub_info.alias or sub_key}:
                names[(ENV_PREFIX + f"{field_key}_{spelling}").upper()] = f"{field_key}.{sub_key}"
    return names


def _check_env_names(model: type[BaseModel], names: typing.Iterable[str], where: str) -> None:
    valid = valid_env_names(model)
    extra = {n.upper() for n in getattr(model, "extra_env_names", ())}
    extra.add(CONFIG_ENV)
    problems = []
    for name in names:
        upper = name.upper()
        if not upper.startswith(ENV_PREFIX) or upper in valid or upper in extra:
            continue
        closest = _closest(upper.lower(), [v.lower() for v in [*valid, *extra]])
        hint = f"; did you mean {closest.upper()}?" if closest else ""
        problems.append(f"unknown variable {upper} ({where}){hint}")
    if not problems:
        return
    if len(problems) == 1:
        raise ConfigurationError(
            problems[0], hint="fix or unset it (boxoffice reads no setting of that name)"
        )
    raise ConfigurationError(
        "unknown settings:\n  " + "\n  ".join(problems),
        hint="fix or unset them (boxoffice reads no settings of those names)",
    )
