"""Print the configuration reference (every setting) as a Markdown table, from the settings model.

Usage: ``uv run python scripts/gen_config_reference.py > /tmp/table.md`` and paste it into the
README's configuration section (tests/unit/test_readme_config.py checks nothing is missing).
"""

from __future__ import annotations

import sys

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


if __name__ == "__main__":
    sys.stdout.write(table())
