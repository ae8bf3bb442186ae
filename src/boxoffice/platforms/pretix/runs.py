"""A run of listing panels that all share one learned shape, read by one ``findall``.

The parser's marker-driven loop reads a listing in about a dozen bytecode-level steps (finds,
one anchored match, lookups, one tuple): ~2 µs a listing. When every panel of a page has the
shape already learned for that page URL — pretix renders them from one template — the whole
run is read at C speed instead, in two steps:

1. One ``findall`` of a *skeleton* pattern: the panel anchor, then for each field (title,
   price, the note if the shape has one, the action after its buy marker, the token) a jump
   over the template text before it (``.{n}``, no character compared) and the field itself
   (``[^<]*+`` or ``[^"]*+``, a tight C loop). Most of a panel is template text, so this reads
   a panel several times faster than a pattern that compares that text.
2. A proof that the jumps landed where the template says: the template text and the fields
   found, joined, equal the page's text from the first panel to the last form — one
   ``join`` and one ``startswith``, both C loops over memory.

:func:`read_run` returns the run's columns only when that proof holds and no field holds a
buy marker, a panel anchor or a ``<`` (then the loop would read exactly the same listings,
see there); otherwise None, and the loop reads the page.
"""

from __future__ import annotations

import re
from itertools import chain
from typing import NamedTuple

BUY_MARKER = "secondhand/buy/"
PANEL_ANCHOR = "panel panel-default"
# the learned shape's action and note, as the parser writes them into its pattern
SHAPE_ACTION = '([^"]*+)'  # the loop refuses an action with a "<" after the match
SHAPE_NOTE = '<p class="text-muted">[^<]*</p>'
_NOTE_OPEN = '<p class="text-muted">'
_SEPARATOR = "\x00"  # joins the fields for the checks: no marker or anchor spans it


class Chain(NamedTuple):
    """The skeleton of a run learned from one page, and the template text around its fields."""

    shape: re.Pattern[str]  # the panel shape it was made from (stale once that one changes)
    pattern: re.Pattern[str]  # anchor, then jump + field for each field, then the tail
    first: tuple[str, ...]  # the template text before each field of the run's first panel
    later: tuple[str, ...]  # the same for each later panel (its first one starts with the
    # previous panel's tail and the text between two panels)
    tail: str  # the template text after the last field, up to the form's "</form"
    prefix: str  # every action's text up to and including the buy marker
    fields: int  # fields a panel has: title, price, [note,] action after the marker, token
    urls: dict[str, str]  # action after the marker → absolute buy URL (filled by the parser)


def _jump(length: int) -> str:
    return f"(?s:.{{{length}}})" if length else ""


def learn(html: str, shape: re.Pattern[str], start: int, last: int) -> Chain | None:
    """The skeleton of the panel at ``start`` (read by ``shape``) and the text up to the next
    panel, which starts before the marker at ``last``; None when there is no such panel or the
    template text holds a marker or an anchor other than each panel's own."""
    source = shape.pattern
    if source.count(SHAPE_ACTION) != 1 or source.count(SHAPE_NOTE) > 1:
        return None
    first = shape.match(html, start)
    if first is None:
        return None
    action_at, action_end = first.span(3)
    cut = html.find(BUY_MARKER, action_at, action_end)
    if cut == -1:
        return None
    cut += len(BUY_MARKER)
    spans = [first.span(1), first.span(2)]
    if SHAPE_NOTE in source:
        note = html.find(_NOTE_OPEN, first.end(2), action_at) + len(_NOTE_OPEN)
        spans.append((note, html.find("</p>", note, action_at)))
    spans += [(cut, action_end), first.span(4)]
    close = html.find("</form", first.end(), last)
    after_start = html.find(PANEL_ANCHOR, close, last) if close != -1 else -1
    if after_start == -1:
        return None
    text = [html[start : spans[0][0]]]
    text += [html[spans[n - 1][1] : spans[n][0]] for n in range(1, len(spans))]
    tail, gap = html[spans[-1][1] : close], html[close:after_start]
    template = _SEPARATOR.join([*text, tail + gap])
    if template.count(BUY_MARKER) != 1 or template.count(PANEL_ANCHOR) != 1:
        return None
    fields = [r"([^<]*+)"] * (len(spans) - 2) + [r'([^"]*+)'] * 2
    pattern = (
        re.escape(PANEL_ANCHOR)
        + _jump(len(text[0]) - len(PANEL_ANCHOR))
        + "".join(
            field + _jump(len(after))
            for field, after in zip(fields, [*text[1:], tail], strict=True)
        )
        + "(?:"
        + _jump(len(gap))
        + r"|\Z)"
    )
    later = (tail + gap + text[0], *text[1:])
    return Chain(
        shape, re.compile(pattern), tuple(text), later, tail, html[action_at:cut], len(spans), {}
    )


def read_run(html: str, run: Chain, start: int, last: int) -> list[tuple[str, ...]] | None:
    """The fields of every panel of ``html`` (title, price, [note,] the action after its
    marker, token), or None when the page is not one run of ``run``'s panels (``start``: the
    panel anchor before the page's first buy marker, ``last``: its last buy marker).

    Taken only when the template text and the fields found, joined, are exactly the page's
    text from ``start`` to the ``</form`` after the last marker. Then every anchor and marker
    of that text outside the fields is a panel's own (one anchor opening it, one marker in its
    action's template prefix), and the loop reads the same panels with the same shape (each
    field is followed by the character its class stops at: a panel matches one way only) —
    provided no title, price or note holds a marker or an anchor and no action a ``<``, which
    the caller checks (:func:`safe`).
    """
    end = html.find("</form", last)
    if end == -1:
        return None
    found: list[tuple[str, ...]] = run.pattern.findall(html, start, end)
    if not found:
        return None
    count = run.fields * len(found)
    # the template text before each field, then the field; the tail closes the run
    pieces = [run.tail] * (2 * count + 1)
    pieces[0 : 2 * count : 2] = run.first + run.later * (len(found) - 1)
    pieces[1 : 2 * count : 2] = chain.from_iterable(found)
    joined = "".join(pieces)
    if len(joined) != end - start or not html.startswith(joined, start):
        return None
    return found


def safe(shown: tuple[str, ...]) -> bool:
    """Whether a panel's title, price and note (``shown``) leave the loop's searches as they
    are: no buy marker and no panel anchor in any of them."""
    return not any(BUY_MARKER in text or PANEL_ANCHOR in text for text in shown)
