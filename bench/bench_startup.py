"""CLI start-up: `boxoffice --version` and `boxoffice watch --help` against `python -c pass`.

Each figure is the median of N whole-process runs, interleaved with the baseline in the same
run; printed as seconds and as the ratio to the baseline. Goals: --version <= 0.25 s,
watch --help <= 0.5 s on the build machine. A bare two-command Typer app's ``--help`` is timed
in the same rounds: the floor under any help Typer prints (Typer, click, rich and pydantic),
so ``watch --help`` over it is what boxoffice itself adds.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from bench._results import record

RUNS = 15
GOALS = {"--version": 0.25, "watch --help": 0.5}
TYPER_APP = """
import typer
app = typer.Typer(rich_markup_mode="rich")
@app.command()
def run(count: int = 1, name: str = "a") -> None: ...
@app.command()
def other() -> None: ...
app(["run", "--help"], prog_name="app")
"""


def timed(argv: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def main() -> None:
    py = sys.executable
    commands = {
        "python -c pass": [py, "-c", "pass"],
        "--version": [py, "-m", "boxoffice", "--version"],
        "watch --help": [py, "-m", "boxoffice", "watch", "--help"],
        "Typer app --help": [py, "-c", TYPER_APP],
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the page cache once
        timed(argv)
    for _ in range(RUNS):
        for name, argv in commands.items():
            samples[name].append(timed(argv))
    base = statistics.median(samples["python -c pass"])
    floor = statistics.median(samples["Typer app --help"])
    print(f"{'command':<16} {'median s':>9} {'ratio':>7} {'goal s':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        goal = GOALS.get(name)
        shown = f"{goal:.2f}" if goal else "-"
        print(f"{name:<16} {median:9.3f} {median / base:7.1f} {shown:>7}")
        if goal:
            record(
                "cli",
                f"`boxoffice {name}`, whole process (median of {RUNS})",
                median,
                "s",
                goal=f"≤ {goal} s",
                met=median <= goal,
                baseline="python -c pass",
                ratio=median / base,
            )
    watch_help = statistics.median(samples["watch --help"])
    print(f"watch --help over the bare Typer app's --help: {watch_help / floor:.2f}×")
    record(
        "cli",
        f"a bare two-command Typer app's `--help`, whole process (median of {RUNS}): the floor "
        "under any Typer help",
        floor,
        "s",
        baseline="python -c pass",
        ratio=floor / base,
    )
    record(
        "cli",
        "`boxoffice watch --help` over the bare Typer app's `--help` (same rounds)",
        watch_help / floor,
        "×",
        baseline="Typer app --help",
    )


if __name__ == "__main__":
    main()
