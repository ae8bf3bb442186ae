"""How far in time an option may reach: about ten years, either way.

A window of ``--days 99999999`` or a bucket of ``100000000 weeks`` is a typo, not a question
(and past ``datetime``'s range it cannot even be computed): it is refused with one line,
exit 2, before anything runs.
"""

from __future__ import annotations

import math

from boxoffice.errors import ConfigurationError

MAX_DAYS = 3653
"""Ten years of days: the longest window, bucket or look-ahead an option may give."""


def check_days(value: float, what: str, *, away: bool = False) -> float:
    """``value`` (a number of days) if it is finite and at most :data:`MAX_DAYS`, else the
    :class:`ConfigurationError` naming ``what`` (the option, e.g. ``"--days 99999"``).

    ``away``: ``value`` is how far a date lies from today (the line says so), not a span.
    """
    if not math.isfinite(value) or abs(value) > MAX_DAYS:
        if away:
            raise ConfigurationError(
                f"{what} is more than 10 years away", hint="give a date within 10 years"
            )
        raise ConfigurationError(
            f"{what} spans more than 10 years ({MAX_DAYS} days)", hint="give a shorter span"
        )
    return value
