"""CLI start-up: `boxoffice --version` and `boxoffice watch --help` against `python -c pass`.

Each figure is the median of N whole-process runs, interleaved with the baseline in the same
run; printed as seconds and as the ratio to the baseline. Goals: --version <= 0.25 s,
watch --help <= 0.5 s on the build machine. A bare two-command Typer app's ``--help`` is timed
in the same rounds: the floor under any help Typer prints (Typer, click, rich and pydantic),
so ``watch --help`` over it is what boxoffice itself adds.

The figures are for every start but the first: Python's bytecode cache in place, as pip leaves
an install, `make setup` (``uv sync --compile-bytecode``) the dependencies, and Python itself
boxoffice's sources on their first import. The bench compiles boxoffice's bytecode first (the
shell here may set ``PYTHONDONTWRITEBYTECODE``) and also times ``watch --help`` without any
bytecode cache (``PYTHONPYCACHEPREFIX`` at an empty folder: every module compiled from source,
as on the first start of an install that compiled nothing).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boxoffice
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


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    began = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - began


def main() -> None:
    py = sys.executable
    package = Path(boxoffice.__file__).resolve().parent
    subprocess.run([py, "-m", "compileall", "-q", str(package)], check=True)
    empty_cache = tempfile.mkdtemp(prefix="bench-no-pyc-")
    no_cache = {**os.environ, "PYTHONPYCACHEPREFIX": empty_cache, "PYTHONDONTWRITEBYTECODE": "1"}
    commands: dict[str, tuple[list[str], dict[str, str] | None]] = {
        "python -c pass": ([py, "-c", "pass"], None),
        "--version": ([py, "-m", "boxoffice", "--version"], None),
        "watch --help": ([py, "-m", "boxoffice", "watch", "--help"], None),
        "Typer app --help": ([py, "-c", TYPER_APP], None),
        "watch --help, no bytecode cache": ([py, "-m", "boxoffice", "watch", "--help"], no_cache),
    }
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for argv, env in commands.values():  # warm the page cache once
        timed(argv, env)
    for _ in range(RUNS):
        for name, (argv, env) in commands.items():
            samples[name].append(timed(argv, env))
    os.rmdir(empty_cache)
    base = statistics.median(samples["python -c pass"])
    floor = statistics.median(samples["Typer app --help"])
    print(f"{'command':<32} {'median s':>9} {'ratio':>7} {'goal s':>7}")
    for name, values in samples.items():
        median = statistics.median(values)
        goal = GOALS.get(name)
        shown = f"{goal:.2f}" if goal else "-"
        print(f"{name:<32} {median:9.3f} {median / base:7.1f} {shown:>7}")
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
    cold = statistics.median(samples["watch --help, no bytecode cache"])
    record(
        "cli",
        f"`boxoffice watch --help` without any bytecode cache (median of {RUNS}): every module, "
        "the standard library's too, compiled from source",
        cold,
        "s",
        baseline="python -c pass",
        ratio=cold / base,
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
