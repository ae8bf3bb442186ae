"""Generated parts of the docs stay in step: the settings table and the benchmarks table.

Regenerate the settings table with ``.venv/bin/python scripts/gen_config_reference.py --write``
whenever a setting is added, renamed or re-described, and the benchmarks table with
``.venv/bin/python scripts/gen_benchmarks_page.py`` after ``make bench``.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from boxoffice.settings import reference

ROOT = Path(__file__).resolve().parents[2]


def _generator() -> object:
    spec = importlib.util.spec_from_file_location(
        "gen_config_reference", ROOT / "scripts" / "gen_config_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_page_holds_the_generated_table() -> None:
    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    table: str = _generator().table()  # type: ignore[attr-defined]
    missing = [row["env"] for row in reference() if row["env"] not in page]
    assert not missing, f"docs/configuration.md lacks {', '.join(missing)}"
    assert table.strip() in page, (
        "docs/configuration.md's settings table differs from the settings model — regenerate "
        "it with `.venv/bin/python scripts/gen_config_reference.py`"
    )


def test_generator_prints_one_row_per_setting() -> None:
    text = _generator().table()  # type: ignore[attr-defined]
    rows = reference()
    lines = text.strip().splitlines()
    assert len(lines) == 2 + len(rows)
    for row, line in zip(rows, lines[2:], strict=True):
        assert line.startswith(f"| `{row['env']}` |")
        assert row["description"].replace("|", "\\|") in line


def test_the_benchmarks_page_shows_the_results_file() -> None:
    """docs/benchmarks.md's table is what bench/results.json (written by `make bench`) gives."""
    script = ROOT / "scripts" / "gen_benchmarks_page.py"
    spec = importlib.util.spec_from_file_location("gen_benchmarks_page", script)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0, (
        "docs/benchmarks.md is out of date — run .venv/bin/python scripts/gen_benchmarks_page.py"
    )
