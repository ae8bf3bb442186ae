"""Map scheduler messages (German or English) and status codes to typed outcomes.

Both dialects share the rule texts of Booked's language packs; messages that match nothing
become :attr:`Outcome.ERROR` with the server's text kept verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from boxoffice.platforms.booked.models import Outcome

# Order matters: the first rule whose pattern matches wins.
_RULES: tuple[tuple[Outcome, re.Pattern[str]], ...] = (
    (
        Outcome.WINDOW_NOT_OPEN,
        re.compile(
            r"zu weit in der zukunft|spätest\w* zeitpunkt|too far in the future"
            r"|latest date and time|cannot be made this far",
            re.I,
        ),
    ),
    (
        Outcome.ONE_AT_A_TIME,
        re.compile(
            r"nur (eine|\d+) reservierung\w* zur selben zeit|zur selben zeit möglich"
            r"|one reservation at a time|reservations? at the same time"
            r"|only \d+ reservations?.*same time|quota limit exceeded|kontingent\w* überschritten"
            r"|quote überschritten",
            re.I,
        ),
    ),
    (
        Outcome.SLOT_TAKEN,
        re.compile(
            r"in konflikt stehende reservierung|konflikt|conflicting reservation|conflict"
            r"|already (been )?(booked|reserved)|bereits (gebucht|reserviert)",
            re.I,
        ),
    ),
    (
        Outcome.SESSION_EXPIRED,
        re.compile(
            r"session (has )?expired|sitzung (ist )?abgelaufen|not authenticated"
            r"|nicht angemeldet|please log ?in|bitte melden sie sich an",
            re.I,
        ),
    ),
    (
        Outcome.FORBIDDEN,
        re.compile(
            r"not allowed|no permission|permission denied|do(es)? not have permission"
            r"|keine berechtigung|nicht berechtigt|nicht erlaubt|forbidden",
            re.I,
        ),
    ),
)


def classify_message(message: str) -> Outcome | None:
    """The outcome a server message means, or None if it is not a known one."""
    for outcome, pattern in _RULES:
        if pattern.search(message):
            return outcome
    return None


def classify(messages: Iterable[str], *, status_code: int | None = None) -> tuple[Outcome, str]:
    """Outcome and the message to show for a failed create (never BOOKED).

    Known messages win over status codes; an unknown message is kept verbatim as ERROR.
    """
    texts = [m.strip() for m in messages if m and m.strip()]
    joined = "; ".join(texts)
    for text in texts:
        found = classify_message(text)
        if found is not None:
            return found, joined
    if status_code == 401:
        return Outcome.SESSION_EXPIRED, joined or "HTTP 401 (session expired)"
    if status_code == 403:
        return Outcome.FORBIDDEN, joined or "HTTP 403 (forbidden)"
    if status_code == 409:
        return Outcome.SLOT_TAKEN, joined or "HTTP 409 (conflict)"
    if not joined and status_code is not None:
        joined = f"HTTP {status_code}"
    return Outcome.ERROR, joined or "unknown error"
