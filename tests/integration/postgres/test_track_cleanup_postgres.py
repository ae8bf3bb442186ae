"""track on a real PostgreSQL store: the cleanup emptiness guard, --delete, windows end at now."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.e2e import track_scenarios

pytestmark = pytest.mark.postgres


def test_cleanup_refuses_an_empty_source_and_a_total_wipe_unless_forced(
    postgres_url: str, tmp_path: Path
) -> None:
    track_scenarios.empty_sheet_is_refused_unless_forced(postgres_url, tmp_path)


def test_cleanup_delete_removes_events_marked_untracked_earlier(
    postgres_url: str, tmp_path: Path
) -> None:
    track_scenarios.delete_after_mark_removes_already_untracked(postgres_url, tmp_path)


def test_history_windows_end_at_now_on_postgres(postgres_url: str) -> None:
    track_scenarios.history_window_ends_at_now(postgres_url)
