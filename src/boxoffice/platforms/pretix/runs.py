"""A run of listing panels that all share one learned shape, read by one ``findall``.

The parser's marker-driven loop reads a listing in about a dozen bytecode-level steps (finds,
one anchored match, lookups, one tuple): ~2 µs a listing. When every panel of a page has the
shape already learned for that page URL — pretix renders them from one template — the whole
run is one C-level ``findall`` of a *chain* pattern: the panel's shape, the text after its
token up to ``</form``, then either the exact text up to the next panel's anchor or the end of
the run. :func:`read_run` returns the run's columns only when it can prove that the loop would
read exactly the same listings (see there); otherwise None, and the loop reads the page.
"""

from __future__ import annotations

import re
from itertools import chain as chained
from typing import NamedTuple

BUY_MARKER = "secondhand/buy/"
PANEL_ANCHOR = "panel panel-default"
# the learned shape's action and note, as the parser writes them into its pattern
SHAPE_ACTION = '([^"<]*)'
SHAPE_NOTE = '<p class="text-muted">[^<]*</p>'
# in the chain: the action must hold the marker ("<" in it is refused after the match: a
# [^"<] class costs twice a [^"] one per character), the note is captured (its length counts)
_CHAIN_ACTION = '([^"]*' + re.escape(BUY_MARKER) + '[^"]*)'
_CHAIN_NOTE = '<p class="text-muted">([^<]*)</p>'
_SEPARATOR = "\x00"  # joins the captured groups: no marker or anchor spans it


class Chain(NamedTuple):
    """A chain pattern learned from one page, and the figures its proof needs."""

    shape: re.Pattern[str]  # the panel shape it was made from (stale once that one changes)
    pattern: re.Pattern[str]
    fixed: int  # characters a unit matches outside its groups, the joining text excluded
    gap: int  # length of the joining text between two units
    groups: int


def learn(html: str, shape: re.Pattern[str], start: int, last: int) -> Chain | None:
    """The chain of the panel at ``start`` (read by ``shape``) and the next one, which starts
    before the marker at ``last``; None when there is no such panel or the text between the
    two holds a marker or an anchor."""
    first = shape.match(html, start)
    if first is None:
        return None
    close = html.find("</form", first.end(), last)
    after_start = html.find(PANEL_ANCHOR, close, last) if close != -1 else -1
    if after_start == -1:
        return None
    after, gap = html[first.end() : close], html[close:after_start]
    if any(word in after + _SEPARATOR + gap for word in (BUY_MARKER, PANEL_ANCHOR)):
        return None
    source = shape.pattern
    if source.count(SHAPE_ACTION) != 1 or source.count(SHAPE_NOTE) > 1:
        return None
    unit = source.replace(SHAPE_ACTION, _CHAIN_ACTION).replace(SHAPE_NOTE, _CHAIN_NOTE)
    pattern = re.compile(unit + re.escape(after) + "(?:" + re.escape(gap) + r"|\Z)")
    own = pattern.match(html, start)
    if own is None or own.end() != after_start:
        return None
    fixed = own.end() - start - len(gap) - sum(map(len, own.groups()))
    return Chain(shape, pattern, fixed, len(gap), pattern.groups)


Columns = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]


def read_run(html: str, run: Chain, start: int, last: int) -> Columns | None:
    """(titles, prices, actions, tokens) of every listing of ``html``, or None when the page
    is not one run of ``run``'s units (``start``: the panel anchor before the page's first buy
    marker, ``last``: its last buy marker).

    Taken only when the units found tile the span from the anchor before the first marker to
    the ``</form`` after the last one (their lengths add up to it), the groups together hold
    one marker per unit and no anchor, and no action or token holds a ``<``: then every marker
    and anchor of the page is a unit's own, and the loop reads the same panels with the same
    shape (each ``[^X]*`` of it is followed by an ``X``: a unit matches one way only).
    """
    end = html.find("</form", last)
    if end == -1:
        return None
    found: list[tuple[str, ...]] = run.pattern.findall(html, start, end)
    n = len(found)
    if not n:
        return None
    joined = _SEPARATOR.join(chained.from_iterable(found))
    covered = len(joined) - (run.groups * n - 1) + n * run.fixed + (n - 1) * run.gap
    if covered != end - start or "<" in joined:
        return None
    if joined.count(BUY_MARKER) != n or PANEL_ANCHOR in joined:
        return None
    columns = tuple(zip(*found, strict=True))
    return columns[0], columns[1], columns[-2], columns[-1]
