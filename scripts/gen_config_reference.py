"""Print the configuration reference (every setting) as a Markdown table, from the settings model.

Usage: ``.venv/bin/python scripts/gen_config_reference.py`` prints it;
``… --write`` puts it into docs/configuration.md between its two marker comments
(tests/unit/test_readme_config.py checks the page holds exactly this table).
"""

from __future__ import annotations

import sys
from pathlib import Path

from boxoffice.settings import reference


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table() -> str:
    """The Markdown table: env name, TOML key, type, default, description."""
    lines = [
        "| env | TOML | type | default | description |",
        "|---|---|---|---|---|",
    ]
    for row in reference():
        default = f"`{row['default']}`" if row["default"] else ""
        secret = " (secret)" if row["secret"] else ""
        lines.append(
            f"| `{row['env']}` | `{_cell(row['toml'])}` | {_cell(row['type'])} | "
            f"{_cell(default)} | {_cell(row['description'])}{secret} |"
        )
    return "\n".join(lines) + "\n"


PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def write(page: Path = PAGE) -> None:
    """Replace the table between the markers of ``page``."""
    text = page.read_text(encoding="utf-8")
    head, found, rest = text.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"{page}: markers {START} … {END} not found")
    _, _, tail = rest.partition(END)
    page.write_text(f"{head}{START}\n{table()}{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        sys.stdout.write(table())
