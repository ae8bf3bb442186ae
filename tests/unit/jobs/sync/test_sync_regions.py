"""Regions, targets and the secret: where each value comes from, and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.errors import ConfigurationError
from boxoffice.jobs.sync.regions import (
    load_env,
    resolve_event,
    resolve_region,
    resolve_secret,
    resolve_target,
)
from boxoffice.jobs.sync.runner import parse_rate
from boxoffice.settings.sync import RegionSettings, SyncSettings


def test_base_url_by_region() -> None:
    env = {"DEV_API": "k", "TEST_API": "k", "PROD_API": "k", "ITALY_API": "k"}
    s = SyncSettings()
    assert resolve_region("dev", s, env).base_url == "https://vivenu.dev"
    assert resolve_region("TEST", s, env).base_url == "https://vivenu.dev"
    assert resolve_region("PROD", s, env).base_url == "https://vivenu.com"
    assert resolve_region("italy", s, env).base_url == "https://vivenu.com"


def test_base_url_and_event_overrides() -> None:
    s = SyncSettings(regions={"ITALY": RegionSettings(base_url="https://it.example/", event="e1")})
    env = {
        "ITALY_API": "k",
        "DACH_API": "k",
        "DACH_BASE_URL": "http://127.0.0.1:9",
        "DACH_EVENT": "e2",
    }
    italy = resolve_region("ITALY", s, env)
    assert italy.base_url == "https://it.example"
    assert resolve_event(italy, None) == "e1"
    assert resolve_event(italy, "other") == "other"
    dach = resolve_region("DACH", s, env)
    assert dach.base_url == "http://127.0.0.1:9"
    assert resolve_event(dach, None) == "e2"


def test_unknown_region_lists_configured_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_region("NOPE", SyncSettings(), {"PROD_API": "k", "DEV_API": "k", "X": "y"})
    line = info.value.one_line()
    assert "NOPE_API" in line
    assert "DEV, PROD" in line


def test_no_event_names_the_variable() -> None:
    region = resolve_region("PROD", SyncSettings(), {"PROD_API": "k"})
    with pytest.raises(ConfigurationError) as info:
        resolve_event(region, None)
    assert "PROD_EVENT" in info.value.one_line()


def test_key_never_in_repr() -> None:
    region = resolve_region("PROD", SyncSettings(), {"PROD_API": "super-secret-key"})
    assert "super-secret-key" not in repr(region)


def test_targets_come_from_config_only() -> None:
    s = SyncSettings(targets={"test": "https://t.example/test", "prod": "https://t.example/p"})
    assert resolve_target("test", s).url == "https://t.example/test"
    assert resolve_target("https://x.example/h", s).url == "https://x.example/h"
    with pytest.raises(ConfigurationError) as info:
        resolve_target("prod", SyncSettings())
    assert "[sync.targets]" in info.value.one_line()


def test_secret_from_config_then_env() -> None:
    assert resolve_secret(SyncSettings(secret="cfg"), {"VIVENU_SECRET": "env"}) == "cfg"
    assert resolve_secret(SyncSettings(), {"VIVENU_SECRET": "env"}) == "env"
    with pytest.raises(ConfigurationError) as info:
        resolve_secret(SyncSettings(), {})
    assert "VIVENU_SECRET" in info.value.one_line()


def test_env_file_is_read_and_environment_wins(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("PROD_API=from-file\nITALY_API=it\n")
    env = load_env({"PROD_API": "from-env"}, dotenv)
    assert env["PROD_API"] == "from-env"
    assert env["ITALY_API"] == "it"


def test_statuses_accept_comma_separated_text() -> None:
    assert SyncSettings(statuses="valid, reserved").statuses == ["VALID", "RESERVED"]


def test_parse_rate() -> None:
    assert parse_rate("5/s") == pytest.approx(0.2)
    assert parse_rate("120/min") == pytest.approx(0.5)
    assert parse_rate("2") == pytest.approx(0.5)
    with pytest.raises(ConfigurationError):
        parse_rate("fast")
    with pytest.raises(ConfigurationError):
        parse_rate("0/s")
