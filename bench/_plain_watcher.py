"""The baseline for the watch benches: the single-purpose script a user would otherwise run —
plain ``httpx.AsyncClient`` (its own transport, HTTP/2 enabled, cookies in its jar) and one
regex over the page, POST the first buy form with its token and a Referer, follow to the
checkout. No fair-play logic, no reports, no archive: only what the race needs.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urljoin

import httpx

_BUY = re.compile(
    r'<h2 class="text-primary">([^<]*)</h2>.*?<form[^>]*action="([^"]*secondhand/buy/[^"]*)"'
    r'.*?name="csrfmiddlewaretoken" value="([^"]*)"',
    re.S,
)


def parse(html: str, page_url: str) -> list[tuple[str, str, str]]:
    """(price text, absolute buy URL, token) of every listing."""
    return [(p, urljoin(page_url, a), t) for p, a, t in _BUY.findall(html)]


async def race(client: httpx.AsyncClient, page_url: str, max_polls: int) -> float | None:
    """Poll until a listing shows, buy it, follow to the checkout; ms page → checkout."""
    origin = f"{client.base_url.scheme}://{client.base_url.netloc.decode()}"
    for _ in range(max_polls):
        page = await client.get(page_url)
        seen = time.perf_counter()
        found = parse(page.text, page_url)
        if not found:
            continue
        _, buy_url, token = found[0]
        answer = await client.post(
            buy_url,
            data={"csrfmiddlewaretoken": token},
            headers={"Referer": page_url, "Origin": origin},
        )
        while answer.is_redirect:
            answer = await client.get(urljoin(str(answer.url), answer.headers["location"]))
        return (time.perf_counter() - seen) * 1000
    return None
