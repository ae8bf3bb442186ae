"""`boxoffice demo` end to end: the summary's facts, not just the exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def demo_summary(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    cwd = tmp_path_factory.mktemp("demo-cwd")
    tmp = tmp_path_factory.mktemp("demo-tmp")
    proc = subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert proc.returncode == 0, f"demo failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    summary: dict[str, dict[str, object]] = json.loads(proc.stdout)
    # nothing left behind without --keep: neither in the current dir nor in the temp dir
    assert not list(Path(cwd).iterdir())
    assert not list(Path(tmp).iterdir())
    return summary


def test_every_job_ran_and_succeeded(demo_summary: dict[str, dict[str, object]]) -> None:
    assert set(demo_summary) == {"watch", "book", "sync", "track"}
    for job, facts in demo_summary.items():
        assert facts["ok"] is True, (job, facts)


def test_watch_reached_checkout_and_notified(demo_summary: dict[str, dict[str, object]]) -> None:
    watch = demo_summary["watch"]
    assert "/checkout/" in str(watch["checkout_url"])
    assert watch["notified"] is True


def test_book_won_and_released_surplus(demo_summary: dict[str, dict[str, object]]) -> None:
    book = demo_summary["book"]
    assert book["won"]
    assert isinstance(book["cancelled"], list)
    assert len(book["cancelled"]) >= 1
    assert abs(float(str(book["offset_ms"])) - 2500) < 100


def test_sync_delivered_everything_exactly_once(
    demo_summary: dict[str, dict[str, object]],
) -> None:
    sync = demo_summary["sync"]
    assert sync["lost"] == 0
    assert sync["duplicates_accepted"] == 0
    assert sync["receiver_accepted"] == sync["to_send"]
    assert int(str(sync["to_send"])) > 0


def test_track_recorded_snapshots(demo_summary: dict[str, dict[str, object]]) -> None:
    track = demo_summary["track"]
    assert int(str(track["snapshots"])) >= 3
    assert int(str(track["rows"])) > 0


def _readme_summary_keys() -> dict[str, list[str]]:
    """Job → fact names, from the demo summary shown in README.md."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = text[text.index("boxoffice demo — summary") :].split("```")[0]
    keys: dict[str, list[str]] = {}
    job = ""
    for line in block.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if len(cells) != 4:
            continue
        job = cells[0] or job
        if " = " in cells[2]:
            keys.setdefault(job, []).append(cells[2].split(" = ")[0])
    return keys


def test_the_readme_shows_the_summary_a_real_run_prints(
    demo_summary: dict[str, dict[str, object]],
) -> None:
    """Same jobs, same facts in the same order as this run's summary table (values differ)."""
    from boxoffice.cli.demo import shown_facts

    shown = {job: list(shown_facts(f, keep=False)) for job, f in demo_summary.items()}
    assert _readme_summary_keys() == shown
