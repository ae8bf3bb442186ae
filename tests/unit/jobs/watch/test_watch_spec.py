"""Watch specs: interval floor, filters, several watches from the config file."""

from __future__ import annotations

from decimal import Decimal

import pytest

from boxoffice.errors import ConfigurationError
from boxoffice.jobs.watch.spec import (
    WatchSpec,
    check_interval,
    compile_type,
    specs_from_settings,
)
from boxoffice.platforms.pretix.models import Listing
from boxoffice.settings.watch import WatchEntry, WatchSettings


def listing(ticket_type: str = "Standard", price: str = "95.00") -> Listing:
    return Listing(ticket_type, price, "EUR", "https://t/e/secondhand/buy/1/", "tok")


def test_interval_floor() -> None:
    with pytest.raises(ConfigurationError, match="below the 2 s floor"):
        check_interval(1.5, allow_fast=False)
    assert check_interval(1.5, allow_fast=True) is not None  # allowed, still warned
    warning = check_interval(4, allow_fast=False)
    assert warning is not None
    assert "below 5 s" in warning
    assert check_interval(5, allow_fast=False) is None


def test_filters() -> None:
    spec = WatchSpec(
        "w", "https://t", "e", max_price=Decimal("100"), type_pattern=compile_type("std|stand")
    )
    assert spec.matches(listing())
    assert not spec.matches(listing(price="100.01"))
    assert spec.matches(listing(price="100.00"))
    assert not spec.matches(listing("VIP"))
    assert not spec.matches(listing(price=""))  # no price shown: not bought under a cap
    assert WatchSpec("w", "https://t", "e").matches(listing("VIP", ""))


def test_bad_type_regex_is_one_line() -> None:
    with pytest.raises(ConfigurationError, match="not a valid regular expression"):
        compile_type("([")


def test_single_watch_from_flags_inherits_the_defaults() -> None:
    settings = WatchSettings(interval=30, max_price=Decimal("80"), type_pattern="Standard")
    (spec,) = specs_from_settings(settings, url="https://t.example.com", event="org/99x1")
    assert (spec.name, spec.interval, spec.max_price) == ("org/99x1", 30, Decimal("80"))
    assert spec.type_pattern is not None
    assert spec.event_url == "https://t.example.com/org/99x1/"


def test_several_watches_from_the_config_each_with_its_own_settings() -> None:
    settings = WatchSettings(
        interval=20,
        watches=[
            WatchEntry(url="https://a.example.com", event="99x1", max_price=Decimal("50")),
            WatchEntry(url="https://b.example.com", event="org/fest", interval=60, type="VIP"),
            WatchEntry(url="https://c.example.com", event="99x1"),
        ],
    )
    specs = specs_from_settings(settings)
    assert [s.interval for s in specs] == [20, 60, 20]
    assert specs[0].max_price == Decimal("50")
    assert specs[1].type_pattern is not None
    assert len({s.name for s in specs}) == 3  # same event twice gets distinct names


def test_nothing_to_watch_or_half_a_target() -> None:
    with pytest.raises(ConfigurationError, match="nothing to watch"):
        specs_from_settings(WatchSettings())
    with pytest.raises(ConfigurationError, match="go together"):
        specs_from_settings(WatchSettings(), url="https://t.example.com")
    with pytest.raises(ConfigurationError, match="not an http"):
        specs_from_settings(WatchSettings(), url="t.example.com", event="99x1")
