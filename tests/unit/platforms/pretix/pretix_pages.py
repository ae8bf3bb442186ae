"""Marketplace pages in the real structure (as the pretix plugin template renders them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

TOKEN = "Xq8TzLr0aVbK3mNpQ2sT9uVwXyZ1a2b3c4d5e6f7g8h9i0jKLMNOPQRSTUVWXYZ"

HEAD = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Secondhand marketplace :: Demo Festival</title>
<link rel="stylesheet" href="/static/CACHE/css/main.3f2a9c.css?version=2026.8.0">
<script src="/static/jsi18n/en/presale.js?version=1732230000" nonce="r4nd0mN0nce"></script>
</head><body>
<div class="container">
<div class="panel panel-default cart-panel"><div class="panel-heading">
<h3 class="panel-title">Your cart</h3></div><div class="panel-body">Empty</div></div>
<h2>Secondhand marketplace</h2>
<div class="panel panel-info">
  <div class="panel-heading"><h3 class="panel-title">How it works</h3></div>
  <div class="panel-body"><p>Fans resell tickets at face value.</p></div>
</div>
"""

FOOT = """<footer>Listed 2026-11-22 02:00 · powered by pretix</footer></div></body></html>"""


def listing_html(
    ticket_type: str, price: str, listing_id: int, token: str = TOKEN, *, event: str = "org/99x1"
) -> str:
    """One listing panel exactly like the plugin template."""
    return f"""
<div class="panel panel-default">
    <div class="panel-heading">
        <h3 class="panel-title">{ticket_type}</h3>
    </div>
    <div class="panel-body">
        <h2 class="text-primary">{price}</h2>
        <p class="text-muted">Listed 11/22/2026 2:00 a.m.</p>
        <form method="post" action="/{event}/secondhand/buy/{listing_id}/">
            <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
            <button type="submit" class="btn btn-primary">Buy</button>
        </form>
    </div>
</div>
"""


EMPTY_BODY = (
    '<div class="alert alert-info">No tickets available at the moment. '
    "Please check back later.</div>"
)

PageFactory = Callable[[Sequence[tuple[str, str]]], str]


def make_page(listings: Sequence[tuple[str, str]], token: str = TOKEN) -> str:
    """A marketplace page with ``(ticket_type, price)`` listings (ids 101, 102, …)."""
    if not listings:
        return HEAD + EMPTY_BODY + FOOT
    body = "".join(listing_html(t, p, 101 + i, token) for i, (t, p) in enumerate(listings))
    return HEAD + body + FOOT


def listing_html_two_line(
    ticket_type: str, price: str, listing_id: int, token: str = TOKEN, *, indent: int = 16
) -> str:
    """One listing panel as pretix renders it with an absolute buy URL: the form tag is
    written over two lines, ``<form method="post"`` ⏎ ``action="https://…/buy/<id>/">``."""
    pad = " " * indent
    return f"""
{pad[8:]}<div class="panel panel-default">
{pad[4:]}<div class="panel-heading">
{pad}<h3 class="panel-title">{ticket_type}</h3>
{pad[4:]}</div>
{pad[4:]}<div class="panel-body">
{pad}<h2 class="text-primary">{price}</h2>
{pad}<p class="text-muted">Listed 2026-12-02 21:59</p>
{pad}<form method="post"
{pad}      action="https://tickets.example.com/org/99x1/secondhand/buy/{listing_id}/">
{pad}    <input type="hidden" name="csrfmiddlewaretoken" value="{token}">
{pad}    <button type="submit" class="btn btn-primary">Buy</button>
{pad}</form>
{pad[4:]}</div>
{pad[8:]}</div>
"""


def make_two_line_page(listings: Sequence[tuple[str, str]], *, indents: Sequence[int] = ()) -> str:
    """Like :func:`make_page` with :func:`listing_html_two_line` panels (``indents[i]``: the
    indentation of panel ``i``, default 16)."""
    body = "".join(
        listing_html_two_line(t, p, 101 + i, indent=indents[i] if i < len(indents) else 16)
        for i, (t, p) in enumerate(listings)
    )
    return HEAD + body + FOOT
