"""Outcome mapping from German/English scheduler messages and status codes."""

from __future__ import annotations

import pytest

from boxoffice.platforms.booked.messages import classify
from boxoffice.platforms.booked.models import Outcome


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Es ist nur eine Reservierung zur selben Zeit möglich", Outcome.ONE_AT_A_TIME),
        ("Only one reservation at a time is allowed", Outcome.ONE_AT_A_TIME),
        ("Quota limit exceeded.", Outcome.ONE_AT_A_TIME),  # LibreBooking 2.8's quota rule
        ("Kontingentgrenze überschritten.", Outcome.ONE_AT_A_TIME),
        (
            "This reservation cannot be made this far in the future. The latest date and time"
            " that can be reserved is 12/05/2026 10:00 am.",
            Outcome.WINDOW_NOT_OPEN,
        ),
        (
            "Die Reservierung liegt zu weit in der Zukunft. Der späteste Zeitpunkt ist "
            "24.11.2026 00:00.",
            Outcome.WINDOW_NOT_OPEN,
        ),
        (
            "This reservation is too far in the future. The latest date and time is 11/24/2026.",
            Outcome.WINDOW_NOT_OPEN,
        ),
        ("Es gibt in Konflikt stehende Reservierungen: Desk 240", Outcome.SLOT_TAKEN),
        ("There are conflicting reservations on 2026-12-01", Outcome.SLOT_TAKEN),
        ("Ihre Sitzung ist abgelaufen", Outcome.SESSION_EXPIRED),
        ("Sitzung abgelaufen, bitte melden Sie sich an", Outcome.SESSION_EXPIRED),
        ("You do not have permission to book this resource", Outcome.FORBIDDEN),
    ],
)
def test_known_messages_map_to_outcomes(message: str, expected: Outcome) -> None:
    outcome, shown = classify([message])
    assert outcome is expected
    assert shown == message


def test_unknown_message_is_kept_verbatim() -> None:
    outcome, shown = classify(["Ressource ist in Wartung (Code 17)"], status_code=200)
    assert outcome is Outcome.ERROR
    assert shown == "Ressource ist in Wartung (Code 17)"


def test_known_message_wins_over_a_later_unknown_one() -> None:
    outcome, shown = classify(["something odd", "There are conflicting reservations"])
    assert outcome is Outcome.SLOT_TAKEN
    assert shown == "something odd; There are conflicting reservations"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (401, Outcome.SESSION_EXPIRED),
        (403, Outcome.FORBIDDEN),
        (409, Outcome.SLOT_TAKEN),
        (500, Outcome.ERROR),
    ],
)
def test_status_codes_without_message(status: int, expected: Outcome) -> None:
    outcome, shown = classify([], status_code=status)
    assert outcome is expected
    assert str(status) in shown
