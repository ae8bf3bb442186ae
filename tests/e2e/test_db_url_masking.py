"""`doctor --json` and `--log-json` never show part of a database password, however written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PASSWORD = "pa@ck:pw/1"


def _run(args: list[str], env_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {
        **os.environ,
        "BOXOFFICE_DB_URL": env_url,
        "BOXOFFICE_BROWSER_EXECUTABLE": "/nonexistent",
    }
    return subprocess.run(
        [sys.executable, "-m", "boxoffice.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://track:{PASSWORD}@127.0.0.1:1/prices",
        "postgresql://track:pa%40ck%3Apw%2F1@127.0.0.1:1/prices",
    ],
)
def test_doctor_json_and_log_json_hide_the_whole_password(url: str, tmp_path: Path) -> None:
    doctor = _run(["doctor", "--json"], url, tmp_path)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)}
    failed = checks["config"] if not checks["config"]["ok"] else checks["database"]
    assert not failed["ok"]
    logged = _run(["--log-json", "track", "show-events"], url, tmp_path)
    record = json.loads(logged.stderr.strip().splitlines()[-1])
    assert record["level"] == "error"
    for text in (doctor.stdout, doctor.stderr, logged.stderr):
        for fragment in ("ck:pw", "pw/1", "pw%2F1", "pa%40ck"):
            assert fragment not in text
