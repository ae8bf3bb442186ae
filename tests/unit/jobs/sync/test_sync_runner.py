"""Which delivery client `sync push` uses: aiohttp by default, httpx when asked or injected."""

from __future__ import annotations

import httpx
import pytest

from boxoffice.core.posting import AiohttpPoster, HttpxPoster
from boxoffice.jobs.sync.runner import webhook_http
from boxoffice.settings import Settings
from boxoffice.settings.sync import SyncSettings


@pytest.mark.parametrize(
    ("client", "transport", "expected"),
    [
        ("aiohttp", False, AiohttpPoster),
        ("httpx", False, HttpxPoster),
        ("aiohttp", True, HttpxPoster),  # an injected transport (tests) means httpx
    ],
)
async def test_webhook_client_choice(client: str, transport: bool, expected: type) -> None:
    settings = Settings(sync=SyncSettings(webhook_client=client, concurrency=4, timeout=3))
    mock = httpx.MockTransport(lambda r: httpx.Response(204)) if transport else None
    async with webhook_http(settings, mock) as poster:
        assert isinstance(poster, expected)
        if isinstance(poster, AiohttpPoster):
            assert poster.options.max_connections == 5
            assert poster.options.total_timeout == 3
        if mock is not None:
            assert (await poster.post("http://r.example/h", b"{}", {})).status == 204


def test_unknown_webhook_client_is_a_settings_error() -> None:
    with pytest.raises(ValueError, match="webhook_client"):
        SyncSettings(webhook_client="curl")
