"""Playwright browser handoff (CONTRACT — being implemented).

Public API:

``to_playwright_cookies(records: Iterable[CookieRecord]) -> list[dict]`` (pure): ``__Host-``
    cookies with ``url`` only (no domain/path); others with domain, path="/", secure, httpOnly.
``find_browser(configured: Path | None = None) -> Path``: config path, then /usr/bin/chromium,
    chromium-browser, google-chrome, macOS app bundles…; BrowserError listing where it looked.
``async handoff(cookies, url, *, executable=None, cdp_url=None, headless=False,
    keep_open=True) -> HandoffResult``: launch (or attach over CDP), add cookies, open ``url``;
    HandoffResult(ok, method: "launch"|"cdp"|"manual", url, title, detail).
``chromium_args(headless: bool) -> list[str]``: the flags that avoid hangs on a closed network.
``manual_instructions(records, url) -> str``: the printed fallback (JS snippet for
    non-``__Host-`` cookies, values to paste for ``__Host-`` ones).
"""

from __future__ import annotations
