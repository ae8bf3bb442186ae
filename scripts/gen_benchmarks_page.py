"""Write the table of docs/benchmarks.md from bench/results.json (written by `make bench`).

Usage: ``.venv/bin/python scripts/gen_benchmarks_page.py`` (``--check`` exits 1 when the page
differs from what the results file gives; a test runs that).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.json"
PAGE = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench-table:start -->", "<!-- bench-table:end -->"


def _number(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(doc: dict[str, Any]) -> str:
    """One row per figure: job, figure, goal, measured, ratio to its baseline, machine state."""
    lines = [
        "| job | figure | goal | measured | met | ratio (baseline) | machine | bench |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = []
    for bench, entry in doc.get("benches", {}).items():
        calib = entry.get("calibration", {})
        machine = f"{calib.get('sum_range_1000_us', '?')} µs, load {calib.get('load_1min', '?')}"
        for f in entry.get("figures", []):
            ratio = ""
            if f.get("ratio") is not None:
                ratio = f"{_number(f['ratio'])}× ({_cell(f.get('baseline', ''))})"
            met = {True: "yes", False: "**no**", None: ""}[f.get("met")]
            rows.append(
                (
                    f["job"],
                    f"| {f['job']} | {_cell(f['figure'])} | {_cell(f.get('goal', ''))} | "
                    f"{_number(f['measured'])} {f['unit']} | {met} | {ratio} | {machine} | "
                    f"`{bench}` |",
                )
            )
    order = {"cli": 0, "watch": 1, "book": 2, "sync": 3, "track": 4}
    rows.sort(key=lambda r: order.get(r[0], 9))
    lines += [r[1] for r in rows]
    return "\n".join(lines) + "\n"


def render(page_text: str, doc: dict[str, Any]) -> str:
    head, found, rest = page_text.partition(START)
    if not found or END not in rest:
        raise SystemExit(f"{PAGE}: markers {START} … {END} not found")
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table(doc)}{END}{tail}"


def main(argv: list[str]) -> int:
    doc = json.loads(RESULTS.read_text(encoding="utf-8"))
    text = PAGE.read_text(encoding="utf-8")
    new = render(text, doc)
    if argv == ["--check"]:
        return 0 if new == text else 1
    PAGE.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
