"""Run every ``bench/bench_*.py`` script in turn and print their figures.

``python -m bench [NAME …]`` runs the scripts whose name contains a NAME. The figures each script
records go to ``bench/results.json`` (see ``bench/_results.py``), from which
``scripts/gen_benchmarks_page.py`` writes the table of docs/benchmarks.md.
"""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

from bench import _results


def main() -> int:
    here = Path(__file__).parent
    only = sys.argv[1:]
    failed = 0
    for script in sorted(here.glob("bench_*.py")):
        if only and not any(o in script.stem for o in only):
            continue
        print(f"\n=== {script.stem} ===", flush=True)
        calib = _results.calibration()
        _results.take()
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as exc:
            if exc.code not in (0, None):
                failed += 1
                continue
        figures = _results.take()
        if figures:
            _results.update(script.stem, figures, calib)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
