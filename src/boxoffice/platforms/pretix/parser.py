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
forms does it fall back to a full DOM parse (:func:`parse_marketplace_dom`, selectolax). A page
of two or more listings whose panels all have the shape learned for its URL is read in one pass
instead (``runs.py``: one ``findall``, one comparison, the rows already seen looked up), taken
only when it reads what the loop would.
"""

from __future__ import annotations

import functools
import hashlib
import html as htmllib
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin, urlsplit

from boxoffice.platforms.pretix import runs
from boxoffice.platforms.pretix.models import Listing, MarketplacePage
from boxoffice.platforms.pretix.runs import BUY_MARKER as BUY_MARKER
from boxoffice.platforms.pretix.runs import PANEL_ANCHOR as PANEL_ANCHOR

if TYPE_CHECKING:  # selectolax is loaded by the DOM parse, which a watch rarely needs
    from selectolax.lexbor import LexborNode

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
# where an _INACTIVE match can start: the full pattern is tried only there
_INACTIVE_WORDS = (b"marketplace", b"resale", b"secondhand")
_INACTIVE_VERDICTS = (b"not", b"inactive", b"closed", b"disabled", b"deactivated")
_FOLDED = ("ſ", "ı", "İ", "\u212a")  # re.I matches these to s, i, i, k; lower() does not all
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


def _inactive(html: str) -> re.Match[str] | None:
    """Where the page says the marketplace is not active: ``_INACTIVE`` searched in the
    page's text outside ``<script>`` elements (an i18n catalog there holds such phrases on
    every page), tried only where one of the pattern's leading words starts.

    The words are found with ``bytes.find`` in an ASCII-lowered copy of the same length (so
    the same offsets); the full search runs instead when the page holds a character the
    pattern's case folding matches to one of those ASCII letters ("ſ", "ı", "İ", "K").
    """
    text = _without_scripts(html)
    if any(char in text for char in _FOLDED):
        return _INACTIVE.search(text)
    lowered = text.encode("ascii", "replace").lower()
    attempt, find = _INACTIVE.match, lowered.find
    for at in sorted(at for word in _INACTIVE_WORDS for at in _offsets(lowered, word)):
        # the verdict word follows in the same text (no tag between), within 60 characters
        end = find(b"<", at, at + 90)
        segment = lowered[at : end if end != -1 else at + 90]
        if any(verdict in segment for verdict in _INACTIVE_VERDICTS):
            match = attempt(text, at)
            if match is not None:
                return match
    return None


def _without_scripts(html: str) -> str:
    """``html`` with each ``<script …>…</script>`` cut down to ``<script>``."""
    find = html.find
    at = find("<script")
    if at == -1:
        return html
    parts: list[str] = []
    done = 0
    while at != -1:
        parts.append(html[done:at])
        parts.append("<script>")
        end = find("</script>", at)
        done = len(html) if end == -1 else end + 9
        at = find("<script", done)
    parts.append(html[done:])
    return "".join(parts)


def _offsets(text: bytes, word: bytes) -> list[int]:
    found: list[int] = []
    at = text.find(word)
    while at != -1:
        found.append(at)
        at = text.find(word, at + 1)
    return found


def _empty_or_other(html: str) -> MarketplacePage:
    for marker in EMPTY_MARKERS:
        if marker in html:
            return MarketplacePage("empty", (), "fast", f"marker {marker!r}")
    match = _inactive(html)
    if match is not None:
        return MarketplacePage("inactive", (), "fast", _clean(match.group(0))[:120])
    return MarketplacePage("unknown", (), "none", "no listings, no empty marker")


def _plain_suffix(suffix: str) -> bool:
    """Whether the text after an action's buy marker cannot change how the part before it
    resolves: letters, digits, ``-``/``_``, one trailing slash."""
    bare = suffix[:-1] if suffix[-1:] == "/" else suffix
    return bare.isascii() and bare.replace("-", "").replace("_", "").isalnum()


# (page URL, action up to and including the buy marker) → that prefix made absolute: a
# watch polls one URL whose buy forms share one prefix, so urljoin runs once per page shape
_PREFIXES: dict[tuple[str, str], str] = {}


def _buy_url(page_url: str, action: str) -> str:
    """``action`` made absolute against ``page_url`` — ``urljoin(page_url, action)``.

    The part after ``secondhand/buy/`` (pretix writes a listing id and a slash) is appended
    to the resolved prefix when it cannot change how the prefix resolves (letters, digits,
    ``-``/``_``, one trailing slash); anything else goes through ``urljoin`` whole.
    """
    if not page_url:
        return action
    cut = action.find(BUY_MARKER)
    if cut == -1:
        return urljoin(page_url, action)
    cut += len(BUY_MARKER)
    suffix = action[cut:]
    if not _plain_suffix(suffix):
        return urljoin(page_url, action)
    key = (page_url, action[:cut])
    prefix = _PREFIXES.get(key)
    if prefix is None:
        if len(_PREFIXES) >= 256:
            _PREFIXES.clear()
        prefix = _PREFIXES[key] = urljoin(page_url, key[1])
        if not prefix.endswith(BUY_MARKER):  # "..", a query or fragment in the prefix
            _PREFIXES.pop(key)
            return urljoin(page_url, action)
    return prefix + suffix


_H3 = '<h3 class="panel-title">'
_H2 = '<h2 class="text-primary">'
_CSRF_NAME = 'name="csrfmiddlewaretoken"'
_H3_LEN, _H2_LEN = len(_H3), len(_H2)


# pretix's own rendering of a buy form: action and token in one anchored match
# (one line or two: ``<form method="post"⏎ action="https://host/…/buy/17/">``)
_PRETIX_FORM = re.compile(
    r'<form method="post"\s+action="([^"]*)"\s*>\s*'
    r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)"\s*/?>'
)


# pretix's own listing panel, from the panel anchor to the form's token (the title and the
# price hold no tag, the action no "<": so nothing this skips could hold what the searches
# in _scan look for)
_PRETIX_PANEL = re.compile(
    r'panel panel-default">\s*<div class="panel-heading">\s*'
    r'<h3 class="panel-title">([^<]*)</h3>\s*</div>\s*<div class="panel-body">\s*'
    r'<h2 class="text-primary">([^<]*)</h2>\s*(?:<p class="text-muted">[^<]*</p>\s*)?'
    r'<form method="post"\s+action="([^"<]*)"\s*>\s*'
    r'<input type="hidden" name="csrfmiddlewaretoken" value="([^"]*)"\s*/?>'
)

# page URL → its panels' exact shape: _PRETIX_PANEL with the whitespace the page uses written
# out (a literal match costs about a third of the \s* loops). It matches a subset of what
# _PRETIX_PANEL matches, with the same groups; a panel it does not match is read by the
# general pattern, which then learns that panel's shape instead.
_SHAPES: dict[str, re.Pattern[str]] = {}


def _learn_shape(page_url: str, panel: re.Match[str]) -> Callable[[str, int], re.Match[str] | None]:
    html, at = panel.string, panel.start()
    between = [html[panel.end(n) : panel.start(n + 1)] for n in range(1, 4)]
    before_form = re.escape(between[1])
    note = between[1].find('<p class="text-muted">')
    if note != -1:
        note_end = between[1].find("</p>", note) + 4
        before_form = (
            re.escape(between[1][:note]) + runs.SHAPE_NOTE + re.escape(between[1][note_end:])
        )
    pattern = (
        re.escape(html[at : panel.start(1)])
        + "([^<]*)"
        + re.escape(between[0])
        + "([^<]*)"
        + before_form
        + runs.SHAPE_ACTION
        + re.escape(between[2])
        + '([^"]*)'
        + re.escape(html[panel.end(4) : panel.end()])
    )
    if len(_SHAPES) >= 64:
        _SHAPES.clear()
    shape = _SHAPES[page_url] = re.compile(pattern)
    return shape.match


# (title, price) as written → (ticket type, amount, currency): a watch re-reads the same few
# titles and prices poll after poll (bounded: cleared when it grows past a few thousand)
_DESCRIBED: dict[tuple[str, str], tuple[str, str, str | None]] = {}


def _describe(title: str, price: str) -> tuple[str, str, str | None]:
    if len(_DESCRIBED) >= 4096:
        _DESCRIBED.clear()
    shown = _DESCRIBED[title, price] = (_clean_title(title), *parse_price(price))
    return shown


def _unescape_action(action: str) -> str:
    return htmllib.unescape(action) if "&" in action else action


# page URL → {action as written → absolute buy URL}: the same few actions come back poll
# after poll (bounded: cleared when it grows past a few thousand entries)
_RESOLVED: dict[str, dict[str, str]] = {}


def _urls_for(page_url: str) -> dict[str, str]:
    urls = _RESOLVED.get(page_url)
    if urls is None or len(urls) > 4096:
        if len(_RESOLVED) >= 64:
            _RESOLVED.clear()
        urls = _RESOLVED[page_url] = {}
    return urls


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


# page URL → the chain of its panels (runs.py), learned from the first two of a page
_CHAINS: dict[str, runs.Chain] = {}


def _whole(
    html: str, page_url: str, shape: re.Pattern[str], buy: int, last: int
) -> tuple[Listing, ...] | None:
    """Every listing of a page that is one run of panels of the learned ``shape``
    (:func:`runs.read_run`: one ``findall`` and one comparison, C loops; ``buy``/``last``:
    the first and last buy marker); None: the loop reads the page."""
    start = html.rfind(PANEL_ANCHOR, 0, buy)
    if start == -1:
        return None
    run = _CHAINS.get(page_url)
    if run is None or run.shape is not shape:
        run = runs.learn(html, shape, start, last)
        if run is None:
            return None
        if len(_CHAINS) >= 64:
            _CHAINS.clear()
        _CHAINS[page_url] = run
    found = runs.read_run(html, run, start, last)
    if found is None:
        return None
    row_of, new = run.rows.get, tuple.__new__
    listings: list[Listing] = []
    for row, token in found:
        known = row_of(row)
        if known is None:
            known = _first_sight(run, page_url, row)
            if known is None:
                return None
        listings.append(new(Listing, (*known, token)))
    return tuple(listings)


def _first_sight(
    run: runs.Chain, page_url: str, row: str
) -> tuple[str, str, str | None, str] | None:
    """A run's row read for the first time (:func:`runs.read_row`): the listing it describes
    without its token, remembered for the next polls (bounded); None: the loop reads it."""
    fields = runs.read_row(run, row)
    if fields is None:
        return None
    title, price, action = fields
    if len(run.rows) >= 4096:
        run.rows.clear()
    plain = "&" not in action and "&" not in run.prefix  # nothing to unescape
    base = _PREFIXES.get((page_url, run.prefix)) if plain else None
    if base is not None and _plain_suffix(action):  # what _buy_url makes of it, quicker
        url = base + action
    else:
        url = _buy_url(page_url, _unescape_action(run.prefix + action))
    shown = _DESCRIBED.get((title, price)) or _describe(title, price)
    known = run.rows[row] = (*shown, url)
    return known


def _scan(
    html: str, page_url: str, *, panels: bool = True, whole: bool = True
) -> tuple[tuple[Listing, ...] | None, bool]:
    """:func:`parse_marketplace_fast`'s result, and whether the page holds the buy marker.

    ``panels=False`` skips the whole-panel matches, ``whole=False`` the one-findall pass of
    :func:`_whole` (the tests compare the ways).
    """
    buy = html.find(BUY_MARKER)
    if buy == -1:
        return (), False
    # the forward searches stop at the last marker (one backward scan of the page's tail
    # instead of one forward scan after the last listing)
    last = html.rfind(BUY_MARKER)
    shape = _SHAPES.get(page_url)
    if last != buy and shape is not None and panels and whole:
        every = _whole(html, page_url, shape, buy, last)
        if every is not None:
            return every, True
    return _loop(html, page_url, shape, buy, last + len(BUY_MARKER), panels=panels), True


def _loop(
    html: str, page_url: str, shape: re.Pattern[str] | None, buy: int, stop: int, *, panels: bool
) -> tuple[Listing, ...] | None:
    """The listings read one by one, from the marker at ``buy``; the forward searches stop at
    ``stop`` (the end of the last marker). None: the page is not shaped as expected."""
    find, rfind, pretix_form, pretix_panel = (
        html.find,
        html.rfind,
        _PRETIX_FORM.match,
        _PRETIX_PANEL.match,
    )
    urls = _urls_for(page_url)
    learned: Callable[[str, int], re.Match[str] | None] | None = (
        shape.match if shape is not None else None
    )
    described = _DESCRIBED.get
    new_listing = tuple.__new__  # Listing(...) without the NamedTuple's Python-level __new__
    found: list[Listing] = []
    done = 0  # everything before this offset belongs to a listing already read
    while buy != -1:
        start = rfind(PANEL_ANCHOR, done, buy)
        panel = None
        if start != -1 and panels:
            panel = learned(html, start) if learned is not None else None
            if panel is None:
                panel = pretix_panel(html, start)
                if panel is not None:
                    learned = _learn_shape(page_url, panel)
            elif "<" in panel[3]:
                panel = None  # what _PRETIX_PANEL's action refuses too
        if panel is not None:
            action_at, action_end = panel.span(3)
            if action_at <= buy < action_end:
                # pretix's own panel: title, price, form and token in one anchored match
                # (what the searches below would find in it, without them)
                title, price, action, token = panel.groups()
                done = panel.end()
                url = urls.get(action)
                if url is None:
                    url = urls[action] = _buy_url(page_url, _unescape_action(action))
                shown = described((title, price))
                if shown is None:
                    shown = _describe(title, price)
                found.append(new_listing(Listing, (*shown, url, token)))
                buy = find(BUY_MARKER, done, stop)
                continue
        form_at = rfind("<form", done, buy)
        match = pretix_form(html, form_at) if form_at != -1 else None
        if match is not None and buy < match.end(1):  # pretix's own form: one match
            fields: tuple[str, str, int] | Literal[False] | None = (
                match[1],
                match[2],
                match.end(),
            )
        else:
            fields = _form_fields(html, form_at, buy) if form_at != -1 else False
        start = rfind(PANEL_ANCHOR, done, form_at) if fields else -1
        if fields is None:
            return None
        if fields is False or start == -1:
            buy = find(BUY_MARKER, buy + 15, stop)  # a link, a GET form or outside a panel
            continue
        action, token, done = fields
        price_at = find(_H2, start, form_at)
        price_end = find("</h2>", price_at, form_at)
        title_at = find(_H3, start, price_at)
        title_end = find("</h3>", title_at, price_at)
        if price_at == -1 or price_end == -1 or title_at == -1 or title_end == -1:
            return None
        title = html[title_at + _H3_LEN : title_end]
        price = html[price_at + _H2_LEN : price_end]
        url = urls.get(action)
        if url is None:
            url = urls[action] = _buy_url(page_url, _unescape_action(action))
        shown = described((title, price))
        if shown is None:
            shown = _describe(title, price)
        found.append(new_listing(Listing, (*shown, url, token)))
        buy = find(BUY_MARKER, done, stop)
    return tuple(found)


def parse_marketplace_fast(html: str, page_url: str = "") -> tuple[Listing, ...] | None:
    """The fast path: listings from ``panel panel-default`` blocks, or None if incomplete.

    Driven by the buy-form marker, so the page is scanned about once: for each
    ``secondhand/buy/`` occurrence the panel before it is read by one anchored match when it
    is pretix's own markup; otherwise the enclosing ``<form>`` is read (one anchored match
    for pretix's form, plain ``str.find`` otherwise), then the price, panel and title are
    searched backwards from it. A marker in a link, a GET form or outside a panel is skipped.
    None means "this page is not shaped as expected" (a panel with a buy form but no title,
    price or token): the caller then falls back to the DOM parser.
    """
    return _scan(html, page_url)[0]


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
    from selectolax.lexbor import LexborHTMLParser

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
    fast, marker = _scan(html, page_url)
    if fast:  # MarketplacePage(...) without the NamedTuple's Python-level __new__
        return tuple.__new__(MarketplacePage, ("listings", fast, "fast", ""))
    if fast is not None and not marker:
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
