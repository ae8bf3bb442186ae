"""What the user sees: request lines and the live status table."""

from __future__ import annotations

import io

from rich.console import Console

from boxoffice.jobs.watch.report import ConsoleReporter, RequestLine


def line(**changes: object) -> RequestLine:
    values: dict[str, object] = {
        "watch": "99x1",
        "number": 12,
        "method": "GET",
        "path": "/org/99x1/secondhand/",
        "status": 200,
        "http_version": "HTTP/2",
        "ttfb_ms": 3.14,
        "ttlb_ms": 4.5,
        "size": 14_336,
        "session": "3HqdZ6…",
        "result": "no tickets",
    }
    values.update(changes)
    return RequestLine(**values)  # type: ignore[arg-type]


def test_request_line_shows_every_field() -> None:
    assert line().render() == (
        "[99x1] #12 GET /org/99x1/secondhand/ 200 HTTP/2 ttfb 3.1 ms ttlb 4.5 ms 14.0 KB "
        "session 3HqdZ6… → no tickets"
    )
    failed = line(status=None, http_version="", ttfb_ms=None, ttlb_ms=None, size=None)
    assert "--- - ttfb - ms ttlb - ms -" in failed.render()


def test_console_reporter_prints_lines_events_and_a_live_table() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=160, color_system=None)
    with ConsoleReporter(console, live=True) as reporter:
        reporter.status("99x1", "polling", next_in=14.2)
        reporter.request(line())
        reporter.event("99x1", "success", "IN CART: Standard")
        table = reporter._table()
        reporter.console.print(table)
    text = out.getvalue()
    assert "#12 GET /org/99x1/secondhand/ 200" in text
    assert "[99x1] IN CART: Standard" in text
    assert "polling" in text
    assert "next poll" in text
    assert reporter.rows["99x1"].requests == 12


def test_the_live_tables_next_poll_counts_down_between_refreshes() -> None:
    now = [1000.0]
    console = Console(file=io.StringIO(), force_terminal=True, width=160, color_system=None)
    reporter = ConsoleReporter(console, live=True, clock=lambda: now[0])
    reporter.status("99x1", "waiting", next_in=14.0)
    reporter.status("a/b", "backing off", next_in=60.0)
    live = reporter._live
    assert live is not None

    def shown() -> str:  # what the next refresh of the live display draws
        with console.capture() as capture:
            console.print(live.renderable)
        return capture.get()

    first = shown()
    now[0] += 3.5  # no new poll, no status change: only time passed
    second = shown()
    assert "in 14.0 s" in first
    assert "in 60.0 s" in first
    assert "in 10.5 s" in second
    assert "in 56.5 s" in second
    assert "in 14.0 s" not in second
