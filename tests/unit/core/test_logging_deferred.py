"""structlog loads with the first record to show: what the level hides costs no import, and
what it shows — our records and third-party ones — is rendered as before."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import io, json, logging, sys
from boxoffice.core.logging import add_secrets, configure, get_logger
out = io.StringIO()
configure(json={json}, verbosity=0, stream=out)
log = get_logger("boxoffice.probe")
log.debug("hidden debug")
{hidden_info}
before = "structlog" in sys.modules
add_secrets(["s3cr3t-value"])
log.warning("shown", token="s3cr3t-value")
logging.getLogger("somelib").warning("library line %s", 42)
print(json.dumps({{"before": before, "after": "structlog" in sys.modules, "out": out.getvalue()}}))
"""


def run(*, as_json: bool) -> dict[str, object]:
    hidden_info = "" if as_json else 'log.info("hidden info")'
    code = PROBE.format(json=as_json, hidden_info=hidden_info)
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_hidden_records_load_nothing_and_shown_ones_render_redacted() -> None:
    result = run(as_json=False)
    assert result["before"] is False  # debug and info are below the console's level
    assert result["after"] is True
    out = str(result["out"])
    assert "hidden" not in out
    assert "shown" in out
    assert "library line 42" in out
    assert "s3cr3t-value" not in out
    assert "***" in out


def test_json_lines_after_the_deferred_set_up() -> None:
    result = run(as_json=True)
    assert result["before"] is False
    lines = [line for line in str(result["out"]).splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert [r["event"] for r in records] == ["shown", "library line 42"]
    assert records[0]["token"] == "***"
    assert records[0]["level"] == "warning"
