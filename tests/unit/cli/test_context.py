"""AppContext: flags given on the command line win; flags not given do not mask other sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.cli.context import AppContext
from boxoffice.core.logging import clear_secrets, redact_text


def test_flags_not_given_leave_lower_sources_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOXOFFICE_HTTP_TOTAL_TIMEOUT", "42")
    monkeypatch.setenv("BOXOFFICE_NOTIFY_APPRISE", "json://env.example/hook")
    ctx = AppContext()
    settings = ctx.settings(
        {"http": {"total_timeout": None, "connect_timeout": 1.5}, "notify": {"apprise": []}}
    )
    assert settings.http.total_timeout == 42.0  # None = flag not given
    assert settings.http.connect_timeout == 1.5  # given: wins over everything
    assert settings.notify.apprise == ["json://env.example/hook"]  # empty repeatable = not given


def test_config_file_from_the_global_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "c.toml"
    config.write_text("[http]\nuser_agent = 'from-file'\n")
    assert AppContext(config_file=config).settings().http.user_agent == "from-file"


def test_loaded_secrets_are_registered_for_redaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOXOFFICE_BOOK_PASSWORD", "pa55-word-xyz")
    clear_secrets()
    try:
        AppContext().settings()
        assert redact_text("login with pa55-word-xyz") == "login with ***"
    finally:
        clear_secrets()
