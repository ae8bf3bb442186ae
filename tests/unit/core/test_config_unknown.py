"""Typos in settings are errors: unknown TOML keys/sections and BOXOFFICE_ env names are named
with the file and line and the closest valid name — never silently dropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from boxoffice.cli.main import app
from boxoffice.core.config import load_settings
from boxoffice.errors import ConfigurationError
from boxoffice.settings import Settings


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _load_toml(cwd: Path, text: str) -> ConfigurationError:
    path = cwd / "typo.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, config_file=path, environ={}, env_file=None)
    return info.value


@pytest.mark.parametrize(
    ("text", "key", "section", "line", "closest"),
    [
        ("[watch]\ninterval = 15\nmaxprice = 3\n", "maxprice", "[watch]", 3, "max_price"),
        ('[book]\ntimezon = "Asia/Tokyo"\n', "timezon", "[book]", 2, "timezone"),
        ('\n\n[sync]\nwebhookid = "wh_1"\n', "webhookid", "[sync]", 4, "webhook_id"),
        (
            '[sync.regions.ITALY]\nbase_ur = "https://x"\n',
            "base_ur",
            "[sync.regions.ITALY]",
            2,
            "base_url",
        ),
        (
            '[[watch.watches]]\nurl = "u"\nevent = "e"\n\n[[watch.watches]]\nurl = "u"\n'
            'event = "e"\nmax_pric = 3\n',
            "max_pric",
            "[watch.watches]",
            8,
            "max_price",
        ),
        ('db_urll = "postgresql://x"\n', "db_urll", None, 1, "db_url"),
    ],
)
def test_an_unknown_key_names_key_file_line_and_closest(
    cwd: Path, text: str, key: str, section: str | None, line: int, closest: str
) -> None:
    err = _load_toml(cwd, text)
    msg = err.one_line()
    assert f"'{key}'" in msg
    if section:
        assert f"in {section}" in msg
    assert f"typo.toml, line {line}" in msg
    assert f"did you mean '{closest}'" in msg
    assert err.exit_code == 2


def test_an_unknown_section_is_named_with_its_header_line(cwd: Path) -> None:
    err = _load_toml(cwd, "[watch]\ninterval = 20\n\n[wacth]\ninterval = 3\n")
    assert "unknown section [wacth]" in err.one_line()
    assert "line 4" in err.one_line()
    assert "did you mean 'watch'" in err.one_line()


def test_every_typo_of_a_file_is_listed_at_once(cwd: Path) -> None:
    err = _load_toml(cwd, '[watch]\nmaxprice = 3\n[book]\ntimezon = "UTC"\n')
    assert "maxprice" in err.message
    assert "timezon" in err.message


def test_valid_keys_and_aliases_still_load(cwd: Path) -> None:
    path = cwd / "ok.toml"
    path.write_text(
        '[watch]\ntype = "Standard"\nmax_price = 3\n[[watch.watches]]\nurl = "u"\nevent = "e"\n'
        'type = "VIP"\n[sync.regions.ITALY]\nevent = "e1"\n[sync.targets]\nprod = "https://h"\n'
        '[book.attributes]\n"1" = "Physics"\n',
        encoding="utf-8",
    )
    s = load_settings(Settings, config_file=path, environ={}, env_file=None)
    assert s.watch.type_pattern == "Standard"
    assert s.watch.watches[0].type_pattern == "VIP"
    assert s.book.attributes == {"1": "Physics"}


@pytest.mark.parametrize(
    ("name", "closest"),
    [
        ("BOXOFFICE_WATCH_MAXPRICE", "BOXOFFICE_WATCH_MAX_PRICE"),
        ("BOXOFFICE_BOOK_TIMEZON", "BOXOFFICE_BOOK_TIMEZONE"),
        ("BOXOFFICE_STATEDIR", "BOXOFFICE_STATE_DIR"),
        ("boxoffice_sync_webhookid", "BOXOFFICE_SYNC_WEBHOOK_ID"),
    ],
)
def test_an_unknown_env_name_is_an_error_with_the_closest(
    cwd: Path, name: str, closest: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, environ={name: "3"}, env_file=None)
    assert name.upper() in info.value.one_line()
    assert f"did you mean {closest}" in info.value.one_line()


def test_an_unknown_name_in_dotenv_names_the_file(cwd: Path) -> None:
    (cwd / ".env").write_text("PROD_API=key\nBOXOFFICE_HTTP_TIMEOUT=3\n", encoding="utf-8")
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, environ={}, env_file=Path(".env"))
    assert "BOXOFFICE_HTTP_TIMEOUT (.env)" in info.value.one_line()


def test_env_names_read_on_purpose_are_not_typos(cwd: Path) -> None:
    environ = {name: "x" for name in Settings.extra_env_names if name != "BOXOFFICE_CONFIG"}
    environ.update(
        {
            "BOXOFFICE_STATE_DIR": "/s",
            "BOXOFFICE_DB_URL": "postgresql://u@h/d",
            "BOXOFFICE_WATCH_TYPE": "VIP",
            "BOXOFFICE_WATCH_TYPE_PATTERN": "VIP",
            "BOXOFFICE_SYNC_TARGETS": '{"prod": "https://h"}',
            "OTHER_TOOL_SETTING": "1",
        }
    )
    s = load_settings(Settings, environ=environ, env_file=None)
    assert s.watch.type_pattern == "VIP"


def test_every_boxoffice_env_name_the_repo_uses_is_known() -> None:
    """Names the code, tests, scripts and benches read must not be refused as typos."""
    root = Path(__file__).resolve().parents[3]
    used: set[str] = set()
    for folder in ("src", "tests", "scripts", "bench"):
        for path in (root / folder).rglob("*.py"):
            used.update(re.findall(r"BOXOFFICE_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    from boxoffice.core.config import valid_env_names

    known = set(valid_env_names(Settings)) | set(Settings.extra_env_names)
    # prefixes in docs/messages (BOXOFFICE_WATCH_<KEY>) end in '_' and are not matched above
    typos_in_tests = {
        "BOXOFFICE_WATCH_MAXPRICE",
        "BOXOFFICE_BOOK_TIMEZON",
        "BOXOFFICE_STATEDIR",
        "BOXOFFICE_HTTP_TIMEOUT",
        "BOXOFFICE_WACTH",
    }
    assert used - known - typos_in_tests == set()


def test_cli_refuses_the_typo_with_exit_2(cwd: Path) -> None:
    path = cwd / "c.toml"
    path.write_text("[watch]\nmaxprice = 3\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["--config", str(path), "watch", "run", "--url", "http://127.0.0.1:9", "--event", "e"]
    )
    assert isinstance(result.exception, ConfigurationError)
    assert "maxprice" in str(result.exception)
