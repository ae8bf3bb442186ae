"""Settings: CLI flag > env > .env > TOML > defaults; secrets hidden; bad values named by source."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path

import pytest

from boxoffice.core.config import default_config_path, load_settings
from boxoffice.errors import ConfigurationError
from boxoffice.settings import Settings, reference

TOML = """
state_dir = "/from/toml"
db_url = "postgresql://toml-user:toml-pass@db.example/track"
[http]
connect_timeout = 1.0
total_timeout = 2.0
keepalive_expiry = 3.0
user_agent = "toml-agent"
[notify]
apprise = ["json://toml.example/hook"]
"""


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in an empty directory (so no stray .env is read)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _toml(dirpath: Path, text: str = TOML) -> Path:
    path = dirpath / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source(cwd: Path) -> None:
    s = load_settings(Settings, environ={}, env_file=None)
    assert s.http.connect_timeout == 5.0
    assert s.http.total_timeout == 10.0
    assert s.http.keepalive_expiry == 60.0
    assert s.db_url is None
    assert s.notify.apprise == []


def test_each_layer_overrides_the_one_below(cwd: Path) -> None:
    config = _toml(cwd)
    (cwd / ".env").write_text(
        "BOXOFFICE_HTTP_TOTAL_TIMEOUT=20\nBOXOFFICE_HTTP_KEEPALIVE_EXPIRY=30\n"
        "BOXOFFICE_STATE_DIR=/from/dotenv\n",
        encoding="utf-8",
    )
    environ = {"BOXOFFICE_HTTP_KEEPALIVE_EXPIRY": "300", "BOXOFFICE_STATE_DIR": "/from/env"}
    s = load_settings(
        Settings,
        cli={"state_dir": "/from/cli"},
        config_file=config,
        env_file=cwd / ".env",
        environ=environ,
    )
    assert s.state_dir == Path("/from/cli")  # CLI beats env, .env, TOML
    assert s.http.keepalive_expiry == 300.0  # env beats .env and TOML
    assert s.http.total_timeout == 20.0  # .env beats TOML
    assert s.http.connect_timeout == 1.0  # TOML beats defaults
    assert s.http.user_agent == "toml-agent"
    assert s.http.http2 is True  # default where nobody spoke
    assert s.notify.apprise == ["json://toml.example/hook"]


def test_a_cli_flag_inside_a_section_keeps_the_sections_other_keys(cwd: Path) -> None:
    s = load_settings(
        Settings,
        cli={"http": {"user_agent": "cli-agent"}},
        config_file=_toml(cwd),
        environ={"BOXOFFICE_HTTP_TOTAL_TIMEOUT": "7"},
    )
    assert s.http.user_agent == "cli-agent"
    assert s.http.total_timeout == 7.0
    assert s.http.connect_timeout == 1.0


def test_dotenv_in_the_working_directory_is_read_by_default(cwd: Path) -> None:
    (cwd / ".env").write_text("BOXOFFICE_HTTP_CONNECT_TIMEOUT=4.5\n", encoding="utf-8")
    assert load_settings(Settings, environ={}).http.connect_timeout == 4.5


def test_default_config_file_lives_in_the_user_config_dir(cwd: Path) -> None:
    # conftest points XDG_CONFIG_HOME at a temp dir
    path = default_config_path()
    assert path.name == "config.toml"
    assert path.parent.name == "boxoffice"
    assert str(path).startswith(os.environ["XDG_CONFIG_HOME"])
    path.parent.mkdir(parents=True)
    path.write_text("[http]\nconnect_timeout = 2.5\n", encoding="utf-8")
    assert load_settings(Settings, environ={}).http.connect_timeout == 2.5


def test_boxoffice_config_env_names_the_file(cwd: Path) -> None:
    config = _toml(cwd)
    s = load_settings(Settings, environ={"BOXOFFICE_CONFIG": str(config)})
    assert s.http.user_agent == "toml-agent"


def test_an_explicit_config_file_that_is_missing_is_an_error(cwd: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"nope\.toml does not exist"):
        load_settings(Settings, config_file=cwd / "nope.toml", environ={})


def test_a_missing_default_config_file_is_fine(cwd: Path) -> None:
    assert not default_config_path().exists()
    load_settings(Settings, environ={})


def test_invalid_toml_names_the_file_and_line(cwd: Path) -> None:
    config = _toml(cwd, "[http]\nconnect_timeout = = 3\n")
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, config_file=config, environ={})
    assert str(config) in info.value.message
    assert "line 2" in info.value.message


def test_secrets_are_secretstr_and_never_shown(cwd: Path) -> None:
    s = load_settings(
        Settings,
        environ={
            "BOXOFFICE_DB_URL": "postgresql://u:hunter22@db/x",
            "BOXOFFICE_SECRETS": '["tok-123456", "tok-abcdef"]',
        },
    )
    assert s.db_url is not None
    assert s.db_url.get_secret_value() == "postgresql://u:hunter22@db/x"
    shown = f"{s!r} {s} {s.model_dump()} {s.model_dump_json()}"
    for secret in ("hunter22", "tok-123456", "tok-abcdef"):
        assert secret not in shown
    assert set(s.secret_values()) >= {"postgresql://u:hunter22@db/x", "tok-123456", "tok-abcdef"}


def test_list_values_from_env_are_json_or_one_plain_item(cwd: Path) -> None:
    one = load_settings(Settings, environ={"BOXOFFICE_NOTIFY_APPRISE": "ntfy://topic"})
    assert one.notify.apprise == ["ntfy://topic"]
    two = load_settings(Settings, environ={"BOXOFFICE_NOTIFY_APPRISE": '["ntfy://a", "json://b"]'})
    assert two.notify.apprise == ["ntfy://a", "json://b"]


def test_broken_json_in_env_is_one_clear_line(cwd: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, environ={"BOXOFFICE_NOTIFY_APPRISE": '["ntfy://a"'})
    text = info.value.one_line()
    assert "notify" in text
    assert "BOXOFFICE_NOTIFY" in text
    assert "JSON" in text


def _bad_lines(exc: ConfigurationError) -> list[str]:
    return exc.message.splitlines()[1:]


def test_validation_error_names_key_and_env_var(cwd: Path) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, environ={"BOXOFFICE_HTTP_CONNECT_TIMEOUT": "soon"})
    (line,) = _bad_lines(info.value)
    assert line.strip().startswith("http.connect_timeout:")
    assert "environment (BOXOFFICE_HTTP_CONNECT_TIMEOUT)" in line


def test_validation_error_one_line_per_field_with_each_source(cwd: Path) -> None:
    config = _toml(cwd, '[http]\nconnect_timeout = "x"\nhttp2 = "maybe"\n')
    (cwd / ".env").write_text("BOXOFFICE_HTTP_TOTAL_TIMEOUT=zz\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_settings(
            Settings,
            cli={"http": {"keepalive_expiry": -1}},
            config_file=config,
            environ={},
        )
    lines = {line.strip().split(":")[0]: line for line in _bad_lines(info.value)}
    assert set(lines) == {
        "http.connect_timeout",
        "http.http2",
        "http.total_timeout",
        "http.keepalive_expiry",
    }
    assert f"(from {config})" in lines["http.connect_timeout"]
    assert f"(from {config})" in lines["http.http2"]
    assert "(from .env (BOXOFFICE_HTTP_TOTAL_TIMEOUT))" in lines["http.total_timeout"]
    assert "(from command line)" in lines["http.keepalive_expiry"]
    assert "greater than 0" in lines["http.keepalive_expiry"]


def test_the_source_named_is_the_one_that_won(cwd: Path) -> None:
    config = _toml(cwd, "[http]\nconnect_timeout = 3\n")
    with pytest.raises(ConfigurationError) as info:
        load_settings(
            Settings,
            config_file=config,
            environ={"BOXOFFICE_HTTP_CONNECT_TIMEOUT": "-2"},
        )
    (line,) = _bad_lines(info.value)
    assert "BOXOFFICE_HTTP_CONNECT_TIMEOUT" in line
    assert str(config) not in line


_CANDIDATES: dict[str, list[tuple[str, object]]] = {
    "float": [("4.25", 4.25), ("0.75", 0.75), ("300", 300.0)],
    "int": [("3", 3), ("1", 1), ("100", 100)],
    "bool": [("false", False), ("true", True)],
    "str": [("sample-value", "sample-value")],
    "Path": [("/x/y", Path("/x/y"))],
    "Decimal": [("12.5", Decimal("12.5"))],
    "SecretStr": [("sample-secret", "sample-secret")],
    "list[str]": [("sample-item", ["sample-item"])],
    "list[SecretStr]": [("sample-item", ["sample-item"])],
    "NotifyOverride": [
        (
            '{"on": ["failure"]}',
            {
                "apprise": None,
                "imessage": None,
                "webhook": None,
                "on": ["failure"],
                "heartbeat": None,
            },
        )
    ],
}


def _plain(value: object) -> object:
    if hasattr(value, "get_secret_value"):
        return value.get_secret_value()
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.mark.parametrize("row", reference(), ids=lambda r: r["env"])
def test_every_documented_env_name_really_sets_its_key(row: dict[str, str], cwd: Path) -> None:
    """Setting the env name the reference documents changes exactly that key."""
    kind = row["type"].removesuffix(" (optional)")
    *section, key = row["key"].split(".")

    def value_of(data: dict[str, object]) -> object:
        node = data[section[0]] if section else data
        assert isinstance(node, dict)
        return _plain(node[key])

    default = value_of(load_settings(Settings, environ={}).model_dump())
    if kind.startswith("'"):  # a Literal: pick a choice that is not the default
        choices = [c.strip().strip("'") for c in kind.split("|")]
        candidates: list[tuple[str, object]] = [(c, c) for c in choices]
    elif kind in _CANDIDATES:
        candidates = _CANDIDATES[kind]
    elif kind.startswith(("list", "dict")) or kind[:1].isupper():  # JSON in env
        empty: object = [] if kind.startswith("list") else {}
        candidates = [("[]" if empty == [] else "{}", empty)]
    else:  # a scalar type this table does not know: any accepted value must land
        candidates = [("3", "3"), ("sample", "sample")]
    applied = False
    for raw, expected in candidates:
        if expected == default and len(candidates) > 1:
            continue
        try:
            loaded = load_settings(Settings, environ={row["env"]: raw}).model_dump()
        except ConfigurationError:
            continue  # a constraint (range) refused this candidate; try the next
        assert value_of(loaded) == expected
        applied = True
        break
    assert applied, f"no candidate value was accepted for {row['env']}"


def test_the_given_environ_replaces_the_process_environment(
    cwd: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_HTTP_CONNECT_TIMEOUT", "not-a-number")
    monkeypatch.setenv("BOXOFFICE_NOTIFY_WEBHOOK", "https://hooks.example/x")
    s = load_settings(Settings, environ={})
    assert s.http.connect_timeout == 5.0
    assert s.notify.webhook == []
    assert type(s) is Settings


def test_process_environment_is_read_by_default(cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_NOTIFY_WEBHOOK", "https://hooks.example/x")
    monkeypatch.setenv("BOXOFFICE_HTTP_CONNECT_TIMEOUT", "2")
    s = load_settings(Settings)
    assert s.notify.webhook == ["https://hooks.example/x"]
    assert s.http.connect_timeout == 2.0
