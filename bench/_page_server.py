"""A minimal keep-alive HTTP/1.1 server for the watch CPU bench, run as its own process:
``python -m bench._page_server PORTFILE``. It serves the real-structure pages of
``bench/_pretix_pages.py`` at ``/<org>/<event>/secondhand/`` (``/p14/…``: 14 KB with 3
listings, ``/p48/…``: 48 KB with 30) with a fresh CSRF token in every answer (as Django
masks it per response), an event page linking there, and the csrftoken cookie."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import sys
from pathlib import Path

from bench._pretix_pages import EVENT, TOKEN, page

SHAPES = {"p14": (3, 14), "p48": (30, 48)}


def _variants(listings: int, kib: float, prefix: str) -> list[bytes]:
    """A few renderings differing only in their tokens; the buy URLs on this server."""
    out = []
    for _ in range(8):
        html = page(listings, kib, token=secrets.token_urlsafe(48)[:64])
        html = html.replace("https://tickets.example.com/" + EVENT, prefix)
        out.append(html.encode())
    return out


def _answer(body: bytes, *, cookie: bool) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
    )
    if cookie:
        head += f"Set-Cookie: pretix_csrftoken={TOKEN[:32]}; Path=/; SameSite=Lax\r\n"
    return (head + "\r\n").encode() + body


async def main(port_file: Path) -> None:
    pages = {
        name: itertools.cycle(_variants(n, k, f"/{name}/ev")) for name, (n, k) in SHAPES.items()
    }
    events = {
        name: f'<html><body><a href="/{name}/ev/secondhand/">Resale</a></body></html>'.encode()
        for name in SHAPES
    }

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                path = head.split(b" ", 2)[1].decode()
                name = path.split("/")[1]
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                cookie = b"pretix_csrftoken=" not in head
                if name in SHAPES and "/secondhand/" in path:
                    writer.write(_answer(next(pages[name]), cookie=cookie))
                elif name in SHAPES:
                    writer.write(_answer(events[name], cookie=cookie))
                else:
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.to_thread(port_file.write_text, str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
