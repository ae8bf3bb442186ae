"""Async HTTP client factory and its companions (CONTRACT — being implemented).

Public API (jobs and platforms code against exactly this):

``HttpOptions`` (dataclass): connect_timeout=5.0, total_timeout=10.0, keepalive_expiry=60.0,
    http2=True, verify: bool | str = True (CA file path allowed), user_agent="boxoffice/<ver>",
    max_connections=100.  ``HttpOptions.from_settings(settings.http)``.

``create_client(*, options=None, transport=None, base_url="", cookies: CookieJar | None = None,
    metrics: MetricsRecorder | None = None, headers=None, follow_redirects=False)
    -> httpx.AsyncClient``
    HTTP/2 via h2, keep-alive expiry, timeouts (total_timeout enforced as a per-request
    deadline), event hooks feeding ``metrics``; ``transport`` injectable (MockTransport, …).
    Cookies set by responses land in ``cookies`` (a CookieJar wrapping the client's jar).

``CookieJar``: persistent jar. ``CookieJar.load(path)``, ``.save(path)`` (mode 0600, atomic),
    ``.httpx_cookies`` (the httpx.Cookies the client uses), ``.items() -> list[CookieRecord]``
    where CookieRecord has name, value, domain (exact host for ``__Host-``), path, secure,
    http_only, expires. ``__Host-`` cookies keep their exact host and path "/".

``RequestMetrics`` (dataclass): method, url, status, http_version, ttfb_ms, ttlb_ms,
    bytes_received, started_at.  ``MetricsRecorder``: ``.last``, ``.all``, callback hook
    ``on_metrics(callable)``; attaches a ``RequestMetrics`` to ``response.extensions["metrics"]``.

``ResponseArchive(directory, secrets: Iterable[str] = ())``: ``.save(response, label) -> Path``
    writes request line, redacted headers and body (mode 0600); redacts Cookie, Set-Cookie,
    Authorization, CSRF tokens (csrfmiddlewaretoken, CSRF_TOKEN, X-CSRF* headers, csrftoken
    cookies) and every configured secret value.

``async request(client, method, url, **kw) -> httpx.Response``: sends, mapping httpx errors
    into ``boxoffice.errors`` via ``map_exception`` (NetworkError, …).
"""

from __future__ import annotations
