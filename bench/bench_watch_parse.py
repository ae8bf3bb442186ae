"""watch parser figures: fast-path parse of a 14 KB marketplace page with 3 listings, and its
ratio to the DOM fallback on the same page (goals: ≤ 30 µs median, ≥ 20×).

Run: ``python -m bench watch_parse``. Prints figures only.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from boxoffice.platforms.pretix.parser import parse_marketplace, parse_marketplace_dom
from boxoffice.sandbox.pretix_marketplace import MarketState, render_marketplace

URL = "https://tickets.example.com/demo/99x1/secondhand/?sort=price_asc"


def page() -> str:
    state = MarketState(seed=1)
    items = [state.add_listing(f"Ticket – Type {i}", 80 + 15 * i) for i in range(3)]
    return render_marketplace(state, items, "x" * 64)


def median_us(fn: Callable[[], object], *, batch: int, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - start) / batch * 1e6)
    return statistics.median(samples)


def main() -> None:
    html = page()
    result = parse_marketplace(html, URL)
    assert result.parser == "fast"
    assert len(result.listings) == 3
    assert len(parse_marketplace_dom(html, URL)) == 3
    fast = median_us(lambda: parse_marketplace(html, URL), batch=200, rounds=40)
    dom = median_us(lambda: parse_marketplace_dom(html, URL), batch=20, rounds=30)
    empty = render_marketplace(MarketState(seed=1), [], "x" * 64)
    empty_us = median_us(lambda: parse_marketplace(empty, URL), batch=500, rounds=30)
    print(f"page size                     {len(html.encode()) / 1024:.1f} KB, 3 listings")
    print(f"fast path (parse_marketplace) {fast:.1f} µs median   (goal ≤ 30 µs)")
    print(f"DOM fallback (selectolax)     {dom:.1f} µs median")
    print(f"ratio DOM / fast              {dom / fast:.1f}×          (goal ≥ 20×)")
    print(f"empty page (marker only)      {empty_us:.2f} µs median")
    calib = median_us(lambda: sum(range(1000)), batch=200, rounds=20)
    print(
        f"CPU calibration               sum(range(1000)) = {calib:.1f} µs "
        "(≈ 8–10 µs on an idle core; scale the absolute figures above by that)"
    )


if __name__ == "__main__":
    main()
