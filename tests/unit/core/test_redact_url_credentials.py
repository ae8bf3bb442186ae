"""A password that is not percent-encoded (holding @ / ? #) is masked whole, never shown in part;
the settings refuse such a database URL and say how to encode it."""

from __future__ import annotations

from pathlib import Path

import pytest

from boxoffice.core.config import load_settings
from boxoffice.core.logging import redact_url, url_password
from boxoffice.errors import ConfigurationError
from boxoffice.settings import Settings

PASSWORD = "pa@ck:pw/1"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            f"postgresql://track:{PASSWORD}@127.0.0.1:5432/prices",
            "postgresql://track:***@127.0.0.1:5432/prices",
        ),
        ("postgresql://track:p/ss@db.example/x", "postgresql://track:***@db.example/x"),
        (
            "postgresql://track:p?s#s@db.example/x?sslmode=require",
            "postgresql://track:***@db.example/x",
        ),
        ("postgresql://track:a@b@[::1]:5432/x", "postgresql://track:***@[::1]:5432/x"),
        ("postgresql://me@uni.example:pw@db/x", "postgresql://***@db/x"),
        ("https://host.example/users/@me", "https://host.example/users/@me"),
    ],
)
def test_the_whole_credential_part_is_masked_whatever_its_shape(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_host_only_skips_an_unencoded_password_too() -> None:
    assert redact_url(f"json://u:{PASSWORD}@hooks.example.org/p", host_only=True) == (
        "json://hooks.example.org/…"
    )


def test_the_password_is_found_for_redaction() -> None:
    assert url_password(f"postgresql://track:{PASSWORD}@127.0.0.1/db") == PASSWORD
    assert url_password("postgresql://track@127.0.0.1/db") is None


def test_settings_refuse_an_unencoded_password_and_say_how_to_encode(tmp_path: Path) -> None:
    url = f"postgresql://track:{PASSWORD}@127.0.0.1:5432/prices"
    with pytest.raises(ConfigurationError) as info:
        load_settings(Settings, environ={"BOXOFFICE_DB_URL": url}, env_file=None)
    line = info.value.one_line()
    assert "percent-encode" in line
    assert "@ → %40" in line
    assert "BOXOFFICE_DB_URL" in line
    for fragment in ("ck:pw", "pw/1", PASSWORD):
        assert fragment not in line


def test_an_encoded_password_is_accepted_and_registered_for_redaction() -> None:
    url = "postgresql://track:pa%40ck%3Apw%2F1@127.0.0.1:5432/prices"
    s = load_settings(Settings, environ={"BOXOFFICE_DB_URL": url}, env_file=None)
    assert "pa%40ck%3Apw%2F1" in s.secret_values()
    assert redact_url(url) == "postgresql://track:***@127.0.0.1:5432/prices"
