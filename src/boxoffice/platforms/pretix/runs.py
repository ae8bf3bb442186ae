"""A run of listing panels that all share one learned shape, read at C speed.

The parser's marker-driven loop reads a listing in about a dozen bytecode-level steps (finds,
one anchored match, lookups, one tuple): ~2 µs a listing. When every panel of a page has the
shape already learned for that page URL — pretix renders them from one template — the run is
read in three steps instead:

1. One ``findall`` of a *skeleton* pattern. Per panel it checks the anchor, jumps over the
   template text (``.{n}``: no character compared) and runs a tight C loop over each field
   (``[^<]*+``, ``[^"]*+``). It captures two strings: the panel's *row* (from the title to the
   end of the action: title, price, note and buy URL with the template between them) and
   its token. Most of a panel is template text, so this is several times quicker than a
   pattern that compares that text.
2. A proof that the jumps outside the rows landed where the template says: the template
   text, rows and tokens joined equal the page's text from the first panel to the last form
   — one ``join`` and one ``startswith`` (:func:`read_run`).
3. Each row is looked up in the rows already read (the same listings come back poll after
   poll; tokens change). A row seen for the first time is read by the exact pattern of a row
   (:func:`read_row`), which proves the template text inside it.

So the loop would read exactly the same listings (see :func:`read_run`); when any step does
not hold, None, and the loop reads the page.
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
_SEPARATOR = "\x00"  # joins texts for the checks: no marker or anchor spans it

Row = tuple[str, str, str]  # title, price, the action after its marker


class Chain(NamedTuple):
    """The skeleton of a run learned from one page, and the template text around its fields."""

    shape: re.Pattern[str]  # the panel shape it was made from (stale once that one changes)
    pattern: re.Pattern[str]  # anchor, jumps and field loops; groups: row, token
    row: re.Pattern[str]  # a row exactly: title, price[, note], action after the marker
    first: tuple[str, str]  # the template text before the row and before the token, first panel
    later: tuple[str, str]  # the same for each later panel (the first one starts with the
    # previous panel's tail and the text between two panels)
    tail: str  # the template text after the token, up to the form's "</form"
    prefix: str  # every action's text up to and including the buy marker
    rows: dict[str, tuple[str, str, str | None, str]]  # row → listing without its token
    # (filled by the parser; only rows :func:`read_row` read)


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
    spans.append((cut, action_end))
    row_at, token_at, token_end = first.start(1), first.start(4), first.end(4)
    close = html.find("</form", first.end(), last)
    after_start = html.find(PANEL_ANCHOR, close, last) if close != -1 else -1
    if after_start == -1:
        return None
    inner = [html[spans[n - 1][1] : spans[n][0]] for n in range(1, len(spans))]
    before, between = html[start:row_at], html[action_end:token_at]
    tail, gap = html[token_end:close], html[close:after_start]
    template = _SEPARATOR.join([before, *inner, between + _SEPARATOR + tail + gap])
    if template.count(BUY_MARKER) != 1 or template.count(PANEL_ANCHOR) != 1:
        return None
    loops = [r"[^<]*+"] * (len(spans) - 1) + [r'[^"]*+']
    # title, price, [note,] action
    exact = [r"([^<]*)"] * (len(spans) - 1) + [r'([^"]*)']
    row = "".join(part + re.escape(text) for part, text in zip(exact, [*inner, ""], strict=True))
    pattern = (
        re.escape(PANEL_ANCHOR)
        + _jump(len(before) - len(PANEL_ANCHOR))
        + "("
        + "".join(part + _jump(len(text)) for part, text in zip(loops, [*inner, ""], strict=True))
        + ")"
        + _jump(len(between))
        + r'([^"]*+)'
        + _jump(len(tail))
        + "(?:"
        + _jump(len(gap))
        + r"|\Z)"
    )
    return Chain(
        shape,
        re.compile(pattern),
        re.compile(row),
        (before, between),
        (tail + gap + before, between),
        tail,
        html[action_at:cut],
        {},
    )


def read_run(html: str, run: Chain, start: int, last: int) -> list[tuple[str, str]] | None:
    """The (row, token) of every panel of ``html``, or None when the page is not one run of
    ``run``'s panels (``start``: the panel anchor before the page's first buy marker,
    ``last``: its last buy marker).

    Taken only when the template text, rows and tokens joined are exactly the page's text
    from ``start`` to the ``</form`` after the last marker. When each row is also one that
    :func:`read_row` reads (the caller's part), every anchor and marker of that text outside
    the fields is a panel's own (one anchor opening it, one marker in its action's template
    prefix), and the loop reads the same panels with the same shape (each field is followed
    by the character its class stops at: a panel matches one way only).
    """
    end = html.find("</form", last)
    if end == -1:
        return None
    found: list[tuple[str, str]] = run.pattern.findall(html, start, end)
    if not found:
        return None
    count = 2 * len(found)
    # the template text before each field, then the field; the tail closes the run
    pieces = [run.tail] * (2 * count + 1)
    pieces[0 : 2 * count : 2] = run.first + run.later * (len(found) - 1)
    pieces[1 : 2 * count : 2] = chain.from_iterable(found)
    joined = "".join(pieces)
    if len(joined) != end - start or not html.startswith(joined, start):
        return None
    return found


def read_row(run: Chain, row: str) -> Row | None:
    """(title, price, action after the marker) of a panel's row, or None when the row is not
    the template's, or it holds what would change the loop's searches: a buy marker or panel
    anchor before the action's marker (in the title, price or note), a ``<`` in the action."""
    exact = run.row.fullmatch(row)
    if exact is None:
        return None
    fields = exact.groups()
    shown = _SEPARATOR.join(fields[:-1])  # title, price[, note]
    if BUY_MARKER in shown or PANEL_ANCHOR in shown or "<" in fields[-1]:
        return None
    return fields[0], fields[1], fields[-1]
