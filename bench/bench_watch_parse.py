"""watch parser figures on pages in the real pretix structure (``bench/_pretix_pages.py``):
14 KB with 1 and 3 listings (goal ≤ 15 µs), 48 KB with 30 (goal ≤ 80 µs), the cost of each
listing beyond the first (goal ≤ 2 µs: the 48 KB page with 30 listings against the same page
with 1), the empty page, a page of 30 listings none of which was read before (the one-pass
read remembers the rows it has read; tokens are read every time) and the DOM fallback — for
the parser now, the parser of the baseline commit (``bench/_before_pretix_parser.py``,
frozen) and the plain script's regex (``bench/_plain_watcher.py``). Rounds interleave the
three, back to back on the same page.

Run: ``python -m bench watch_parse``. Prints the figures and records the goal ones (now, with
the plain script's regex as the baseline of the ratio) for ``bench/results.json``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from bench import _before_pretix_parser as before
from bench._plain_watcher import parse as plain_parse
from bench._pretix_pages import URL, page
from bench._results import record
from boxoffice.platforms.pretix import parser
from boxoffice.platforms.pretix.parser import parse_marketplace, parse_marketplace_dom

PAGES = {
    "14 KB, 1 listing": (1, 14),
    "14 KB, 3 listings": (3, 14),
    "48 KB, 1 listing": (1, 48),
    "48 KB, 30 listings": (30, 48),
    "14 KB, empty": (0, 14),
}
GOALS = {  # recorded figures: page → goal in µs
    "14 KB, 1 listing": 15.0,
    "14 KB, 3 listings": 15.0,
    "48 KB, 30 listings": 80.0,
    "each listing beyond the first": 2.0,
}
ROUNDS = 40
BATCH = 200


def _batch_us(fn: Callable[[], object], batch: int = BATCH) -> float:
    start = time.perf_counter()
    for _ in range(batch):
        fn()
    return (time.perf_counter() - start) / batch * 1e6


def interleaved(fns: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median µs per call of each function, timed in alternating batches."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(ROUNDS):
        for name, fn in fns.items():
            samples[name].append(_batch_us(fn))
    return {name: statistics.median(values) for name, values in samples.items()}


def main() -> None:
    results: dict[str, dict[str, float]] = {}
    for label, (listings, kib) in PAGES.items():
        html = page(listings, kib)
        now = parse_marketplace(html, URL)
        assert now.parser == "fast"
        assert len(now.listings) == listings
        assert now == before.parse_marketplace(html, URL)  # same listings, same state
        results[label] = interleaved(
            {
                "now": lambda h=html: parse_marketplace(h, URL),
                "baseline": lambda h=html: before.parse_marketplace(h, URL),
                "plain": lambda h=html: plain_parse(h, URL),
            }
        )
    print(f"{'page':<22}{'now':>9}{'baseline':>10}{'plain':>9}   now/baseline  now/plain (µs)")
    for label, r in results.items():
        print(
            f"{label:<22}{r['now']:>9.1f}{r['baseline']:>10.1f}{r['plain']:>9.1f}"
            f"   {r['now'] / r['baseline']:>9.2f}×  {r['now'] / r['plain']:>8.2f}×"
        )
    extra = {
        name: (results["48 KB, 30 listings"][name] - results["48 KB, 1 listing"][name]) / 29
        for name in ("now", "baseline", "plain")
    }
    print(
        f"{'per listing beyond 1st':<22}{extra['now']:>9.2f}{extra['baseline']:>10.2f}"
        f"{extra['plain']:>9.2f}   {extra['now'] / extra['baseline']:>9.2f}×"
    )
    print("goals: ≤ 15 µs (14 KB, 1–3 listings), ≤ 80 µs (48 KB, 30), ≤ 2 µs per extra listing")
    for label, goal in GOALS.items():
        now, plain = (
            (extra["now"], extra["plain"])
            if label not in results
            else (results[label]["now"], results[label]["plain"])
        )
        record(
            "watch",
            f"parse, {label} (median µs per call)",
            now,
            "µs",
            goal=f"≤ {goal:g} µs",
            met=now <= goal,
            baseline="plain httpx script's regex",
            ratio=now / plain,
        )
    html = page(30, 48)
    rows = parser._CHAINS[URL].rows  # the one-pass read's memo of the rows it has read
    fresh = interleaved(
        {
            "now": lambda: (rows.clear(), parse_marketplace(html, URL)),
            "plain": lambda: plain_parse(html, URL),
        }
    )
    print(
        f"48 KB, 30 listings never seen before (rows read by their exact pattern): "
        f"{fresh['now']:.1f} µs (plain {fresh['plain']:.1f} µs, "
        f"{fresh['now'] / fresh['plain']:.2f}×)"
    )
    html = page(3, 14)
    dom = interleaved({"dom": lambda: parse_marketplace_dom(html, URL)})["dom"]
    print(f"DOM fallback (selectolax), 14 KB, 3 listings: {dom:.1f} µs")
    calib = interleaved({"calib": lambda: sum(range(1000))})["calib"]
    print(
        f"CPU calibration: sum(range(1000)) = {calib:.1f} µs "
        "(≈ 8–10 µs on an idle core; scale the absolute figures above by that)"
    )


if __name__ == "__main__":
    main()
