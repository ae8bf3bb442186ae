"""Parse pretix secondhand marketplace pages and event pages. Never raises on any input.

Marketplace markup (DESIGN §3)::

    <div class="panel panel-info"> … How it works … </div>           (skipped)
    <div class="panel panel-default">                                 (one per listing)
      <h3 class="panel-title">Ticket – Standard</h3>
      <h2 class="text-primary">€95.00</h2>
      <form method="post" action="/org/event/secondhand/buy/17/">
        <input type="hidden" name="csrfmiddlewaretoken" value="…">
        <button type="submit">Buy</button>
      </form>
    </div>

States: ``listings`` (at least one buy form parsed), ``empty`` (the "No tickets available"
marker), ``inactive`` (the page says the marketplace is not active/closed), ``unknown``
(anything else — the caller archives the page).

:func:`parse_marketplace` tries the fast path (string search + small anchored regexes inside
each ``panel panel-default`` block); only when it finds nothing but the page still holds buy
forms does it fall back to a full DOM parse (:func:`parse_marketplace_dom`, selectolax).
"""

from __future__ import annotations

import functools
import hashlib
import html as htmllib
import re
from typing import Literal
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from boxoffice.platforms.pretix.models import Listing, MarketplacePage

BUY_MARKER = "secondhand/buy/"
PANEL_ANCHOR = "panel panel-default"
EMPTY_MARKERS = ("No tickets available", "Keine Tickets verfügbar")

_TITLE = re.compile(r'<h3 class="panel-title">(.*?)</h3>', re.S)
_PRICE = re.compile(r'<h2 class="text-primary">(.*?)</h2>', re.S)
_BUY_FORM = re.compile(r'<form\b[^>]*?\baction="([^"]*secondhand/buy/[^"]*)"[^>]*>', re.I)
_CSRF_INPUT = re.compile(r'<input\b[^>]*?\bname="csrfmiddlewaretoken"[^>]*>', re.I)
_VALUE = re.compile(r'\bvalue="([^"]*)"', re.I)
_METHOD_POST = re.compile(r'\bmethod\s*=\s*["\']?post\b', re.I)
_TAG = re.compile(r"<[^>]*>")
_INACTIVE = re.compile(
    r"(?:marketplace|resale|secondhand)[^<]{0,60}?\b(?:not\s+(?:currently\s+)?"
    r"(?:active|available|open|enabled)|inactive|closed|disabled|deactivated)",
    re.I,
)
_MARKET_LINK = re.compile(
    r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']*secondhand/[^"']*)["']""", re.I | re.S
)
_CURRENCY_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD", "¥": "JPY", "₹": "INR", "Fr.": "CHF"}
_PRICE_TEXT = re.compile(
    r"(?P<pre>[€£$¥₹]|\b[A-Z]{3}\b|Fr\.)?\s*(?P<num>\d[\d.,\u00a0\u202f' ]*\d|\d)"
    r"\s*(?P<post>[€£$¥₹]|\b[A-Z]{3}\b)?"
)


def _clean(fragment: str) -> str:
    if "<" in fragment:
        fragment = _TAG.sub(" ", fragment)
    if "&" in fragment:
        fragment = htmllib.unescape(fragment)
    return " ".join(fragment.split())


# a watch re-reads the same few titles and prices on every poll: both are pure functions
_clean_title = functools.lru_cache(maxsize=4096)(_clean)


def _normalize_number(text: str) -> str:
    digits = text.replace("\u00a0", "").replace("\u202f", "").replace("'", "").replace(" ", "")
    if "," in digits and "." in digits:
        if digits.rfind(",") > digits.rfind("."):
            digits = digits.replace(".", "").replace(",", ".")
        else:
            digits = digits.replace(",", "")
    elif "," in digits:
        head, _, tail = digits.rpartition(",")
        digits = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else digits.replace(",", "")
    elif digits.count(".") > 1:
        head, _, tail = digits.rpartition(".")
        digits = f"{head.replace('.', '')}.{tail}" if len(tail) != 3 else digits.replace(".", "")
    return digits


_SIMPLE_SYMBOLS = {"€": "EUR", "£": "GBP", "$": "USD"}


def _simple_price(text: str) -> tuple[str, str] | None:
    """pretix's usual English rendering, ``"€95.00"`` / ``"€ 95"``, without the regex engine."""
    currency = _SIMPLE_SYMBOLS.get(text[:1])
    if currency is None:
        return None
    number = text[2:] if text[1:2] == " " else text[1:]
    whole, dot, cents = number.partition(".")
    if number.isascii() and whole.isdigit() and (not dot or (len(cents) == 2 and cents.isdigit())):
        return number, currency
    return None


@functools.lru_cache(maxsize=4096)
def parse_price(text: str) -> tuple[str, str | None]:
    """``"€1,234.50"`` → ``("1234.50", "EUR")``; ``"95,00 €"`` → ``("95.00", "EUR")``.

    Returns ``("", None)`` when the text holds no number. Memoized (a watch sees the same
    prices poll after poll).
    """
    text = text.strip()
    simple = _simple_price(text)
    if simple is not None:
        return simple
    if "<" in text or "&" in text:
        text = _clean(text)
    match = _PRICE_TEXT.search(text)
    if match is None:
        return "", None
    number = _normalize_number(match.group("num"))
    code = match.group("pre") or match.group("post")
    currency = _CURRENCY_SYMBOLS.get(code, code) if code else None
    return number, currency


def _looks_post(form_tag: str) -> bool:
    return _METHOD_POST.search(form_tag) is not None


def _empty_or_other(html: str) -> MarketplacePage:
    for marker in EMPTY_MARKERS:
        if marker in html:
            return MarketplacePage("empty", (), "fast", f"marker {marker!r}")
    match = _INACTIVE.search(html)
    if match is not None:
        return MarketplacePage("inactive", (), "fast", _clean(match.group(0))[:120])
    return MarketplacePage("unknown", (), "none", "no listings, no empty marker")


@functools.lru_cache(maxsize=64)
def _origin(page_url: str) -> str:
    if not page_url.startswith(("http://", "https://")):
        return ""
    slash = page_url.find("/", page_url.find("//") + 2)
    return page_url if slash == -1 else page_url[:slash]


def _absolute(page_url: str, origin: str, action: str) -> str:
    if not page_url:
        return action
    if origin and action.startswith("/") and not action.startswith("//"):
        return origin + action  # the usual case, without urljoin's cost
    return urljoin(page_url, action)


_H3 = '<h3 class="panel-title">'
_H2 = '<h2 class="text-primary">'
_CSRF_NAME = 'name="csrfmiddlewaretoken"'
_H3_LEN, _H2_LEN = len(_H3), len(_H2)


# pretix's own rendering of a buy form: action and token in one anchored match
_PRETIX_FORM = re.compile(
    r'<form method="post" action="([^"]*)">\s*'
    r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)">'
)


def _form_fields(html: str, form_at: int, buy: int) -> tuple[str, str, int] | Literal[False] | None:
    """(action, token, end of form) of the POST form at ``form_at`` holding the marker at ``buy``
    — any attribute order (pretix's own markup is read by one ``_PRETIX_FORM`` match before).

    False: not a POST buy form (a GET form, or the marker is outside the tag) — skip it.
    None: a POST buy form without a readable token — the page is not shaped as expected.
    """
    find, rfind = html.find, html.rfind
    tag_end = find(">", buy)
    if (
        tag_end == -1
        or rfind(">", form_at, buy) != -1
        or (
            find('method="post"', form_at, tag_end) == -1
            and _METHOD_POST.search(html, form_at, tag_end) is None
        )
    ):
        return False
    quote_at = rfind('"', form_at, buy)
    quote_end = find('"', buy, tag_end)
    form_end = find("</form", tag_end)
    csrf = find(_CSRF_NAME, tag_end, form_end) if form_end != -1 else -1
    input_end = find(">", csrf) if csrf != -1 else -1
    value_at = find('value="', rfind("<", tag_end, csrf), input_end) if input_end != -1 else -1
    value_end = find('"', value_at + 7, input_end) if value_at != -1 else -1
    if quote_at == -1 or quote_end == -1 or value_end == -1:
        return None
    return html[quote_at + 1 : quote_end], html[value_at + 7 : value_end], form_end


def parse_marketplace_fast(html: str, page_url: str = "") -> tuple[Listing, ...] | None:
    """The fast path: listings from ``panel panel-default`` blocks, or None if incomplete.

    Driven by the buy-form marker, so the page is scanned about once: for each
    ``secondhand/buy/`` occurrence the enclosing ``<form>`` is read (one anchored match for
    pretix's own markup, plain ``str.find`` otherwise), then the price, panel and title are
    searched backwards from it. A marker in a link, a GET form or outside a panel is skipped.
    None means "this page is not shaped as expected" (a panel with a buy form but no title,
    price or token): the caller then falls back to the DOM parser.
    """
    find, rfind, pretix_form = html.find, html.rfind, _PRETIX_FORM.match
    origin = _origin(page_url)
    found: list[Listing] = []
    done = 0  # everything before this offset belongs to a listing already read
    buy = find(BUY_MARKER)
    while buy != -1:
        form_at = rfind("<form", done, buy)
        match = pretix_form(html, form_at) if form_at != -1 else None
        if match is not None and buy < match.end(1):  # pretix's own markup: one match
            fields: tuple[str, str, int] | Literal[False] | None = (match[1], match[2], match.end())
        else:
            fields = _form_fields(html, form_at, buy) if form_at != -1 else False
        start = rfind(PANEL_ANCHOR, done, form_at) if fields else -1
        if fields is None:
            return None
        if fields is False or start == -1:
            buy = find(BUY_MARKER, buy + 15)  # a link, a GET form or outside a panel
            continue
        action, token, done = fields
        price_at = find(_H2, start, form_at)
        price_end = find("</h2>", price_at, form_at)
        title_at = find(_H3, start, price_at)
        title_end = find("</h3>", title_at, price_at)
        if price_at == -1 or price_end == -1 or title_at == -1 or title_end == -1:
            return None
        if "&" in action:
            action = htmllib.unescape(action)
        amount, currency = parse_price(html[price_at + _H2_LEN : price_end])
        found.append(
            Listing(
                _clean_title(html[title_at + _H3_LEN : title_end]),
                amount,
                currency,
                origin + action
                if origin and action[:1] == "/" and action[:2] != "//"
                else _absolute(page_url, origin, action),
                token,
            )
        )
        buy = find(BUY_MARKER, done)
    return tuple(found)


_HEADINGS = "h1, h2, h3, h4, h5, h6"


def _node_text(node: LexborNode) -> str:
    return " ".join((node.text(separator=" ") or "").split())


def _is_title(text: str) -> bool:
    number, _ = parse_price(text)
    return bool(text) and (not number or len(text) > len(number) + 4)


def _container_of(form: LexborNode) -> LexborNode:
    """The nearest ancestor holding a title-like heading (the listing's card)."""
    node: LexborNode | None = form.parent
    fallback: LexborNode | None = None
    for _ in range(8):
        if node is None or node.tag in ("body", "html"):
            break
        headings = node.css(_HEADINGS)
        if headings:
            fallback = fallback or node
            if any(_is_title(_node_text(h)) for h in headings):
                return node
        node = node.parent
    return fallback or form.parent or form


def parse_marketplace_dom(html: str, page_url: str = "") -> tuple[Listing, ...]:
    """The fallback: a full DOM parse; every POST form whose action contains secondhand/buy/."""
    tree = LexborHTMLParser(html)
    page_token = ""
    first_token = tree.css_first('input[name="csrfmiddlewaretoken"]')
    if first_token is not None:
        page_token = first_token.attributes.get("value") or ""
    found: list[Listing] = []
    for form in tree.css("form"):
        action = form.attributes.get("action") or ""
        method = (form.attributes.get("method") or "get").strip().lower()
        if BUY_MARKER not in action or method != "post":
            continue
        token_node = form.css_first('input[name="csrfmiddlewaretoken"]')
        token = (token_node.attributes.get("value") or "") if token_node else page_token
        card = _container_of(form)
        ticket_type, price_text = "", ""
        preferred = card.css_first("h2.text-primary, .price, [class*=price]")
        if preferred is not None:
            price_text = _node_text(preferred)
        for heading in card.css(_HEADINGS):
            text = _node_text(heading)
            if not text:
                continue
            number, _ = parse_price(text)
            if number and not price_text and any(c in text for c in "€£$¥₹"):
                price_text = text
            elif not ticket_type and _is_title(text):
                ticket_type = text
        if not price_text:
            card_text = _node_text(card)
            match = re.search(r"[€£$¥₹]\s*\d[\d.,]*|\d[\d.,]*\s*(?:[€£$¥₹]|[A-Z]{3}\b)", card_text)
            price_text = match.group(0) if match else ""
        amount, currency = parse_price(price_text)
        found.append(
            Listing(
                ticket_type=ticket_type,
                price=amount,
                currency=currency,
                buy_url=urljoin(page_url, action) if page_url else action,
                csrf_token=token,
            )
        )
    return tuple(found)


def parse_marketplace(html: str, page_url: str = "") -> MarketplacePage:
    """Parse a marketplace page (fast path, then DOM fallback). Never raises.

    ``page_url`` makes buy URLs absolute (pass the URL the page was fetched from).
    """
    fast = parse_marketplace_fast(html, page_url)
    if fast:
        return MarketplacePage("listings", fast, "fast")
    if fast is not None and BUY_MARKER not in html:
        return _empty_or_other(html)
    dom = parse_marketplace_dom(html, page_url)
    if dom:
        return MarketplacePage("listings", dom, "dom", "fast path found no listing panels")
    other = _empty_or_other(html)
    if other.state != "unknown":
        return other
    return MarketplacePage("unknown", (), "dom", "buy links present but no POST buy form")


def find_marketplace_link(html: str, page_url: str) -> str | None:
    """The marketplace URL linked from an event page (an ``<a href>`` containing secondhand/).

    Buy links are ignored; the marketplace must be on the same host as the event page.
    """
    host = urlsplit(page_url).netloc
    for match in _MARKET_LINK.finditer(html):
        href = htmllib.unescape(match.group(1)).strip()
        if BUY_MARKER in href:
            continue
        absolute = urljoin(page_url, href)
        parts = urlsplit(absolute)
        if parts.scheme not in ("http", "https") or (host and parts.netloc != host):
            continue
        path = parts.path
        cut = path.find("secondhand/")
        base = path[: cut + len("secondhand/")]
        return f"{parts.scheme}://{parts.netloc}{base}"
    return None


_VOLATILE = (
    re.compile(r'(name="csrfmiddlewaretoken"[^>]*?value=")[^"]*', re.I),
    re.compile(r'(value=")[^"]*("[^>]*name="csrfmiddlewaretoken")', re.I),
    re.compile(r'(\b(?:nonce|data-csrf[\w-]*)=")[^"]*', re.I),
    re.compile(r"([?&](?:v|version|ver|t|ts|_|cb)=)[\w.-]+", re.I),
    re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:?\d\d)?"),
    re.compile(r"\b\d\d:\d\d(?::\d\d)?\b"),
    re.compile(r"\b[0-9a-f]{24,}\b", re.I),
    re.compile(r"\b[A-Za-z0-9_-]{40,}\b"),
)


def page_fingerprint(html: str) -> str:
    """Hash of a page with timestamps, CSRF tokens, nonces and cache-busters stripped.

    Two polls of an unchanged page give the same fingerprint; a new layout does not.
    """
    text = html
    for pattern in _VOLATILE:
        text = pattern.sub(lambda m: "".join(g or "" for g in m.groups()), text)
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]
