"""Shared fixtures: isolated state/config dirs for every test, instant waits on demand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boxoffice.core import pacing

pytest_plugins = ["tests.monitoring"]  # local_monitor: notification inbox + heartbeat monitor


@pytest.fixture(autouse=True)
def _isolated_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No test touches the user's real state, data or config dirs."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(base / "state"))
    monkeypatch.setenv("BOXOFFICE_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    monkeypatch.delenv("BOXOFFICE_CONFIG", raising=False)
    monkeypatch.delenv("BOXOFFICE_DB_URL", raising=False)


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A test that configured logging (a CLI run does) leaves no level filter and no
    registered secret behind for the next one: structlog back to its defaults, our stdlib
    handler removed, the redaction list emptied."""
    yield
    import logging

    import structlog

    from boxoffice.core.logging import clear_secrets

    clear_secrets()

    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "boxoffice":
            root.removeHandler(handler)


@pytest.fixture
def instant_waits() -> Iterator[None]:
    """Every pacing.sleep returns at once inside the test."""
    with pacing.instant():
        yield


@pytest.fixture
def tmp_state(tmp_path: Path) -> Path:
    """A fresh state dir path."""
    path = tmp_path / "state"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    """Debian's Chromium (installed by .ci/run). Missing is a failure, not a skip."""
    import shutil

    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return Path(found)
    pytest.fail("no Chromium found: install Debian's `chromium` (bash .ci/run does)")
