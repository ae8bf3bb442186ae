"""Cart-add outcomes from redirect chains; rate limits; a marketplace that went away."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from boxoffice.platforms.pretix.interpret import (
    Hop,
    interpret_cart_chain,
    interpret_throttle,
    marketplace_gone,
)

E = "https://tickets.example.com/org/99x1"


def test_redirect_to_checkout_is_success_even_with_the_same_302() -> None:
    hops = [
        Hop("POST", f"{E}/secondhand/buy/7/", 302, f"{E}/checkout/start"),
        Hop("GET", f"{E}/checkout/start", 302, f"{E}/checkout/questions/"),
        Hop("GET", f"{E}/checkout/questions/", 200, body="<title>Step 1 of 4</title>"),
    ]
    outcome = interpret_cart_chain(hops)
    assert outcome.ok
    assert outcome.checkout_url == f"{E}/checkout/questions/"
    assert outcome.statuses == (302, 302, 200)


def test_checkout_location_alone_is_enough() -> None:
    outcome = interpret_cart_chain([Hop("POST", f"{E}/secondhand/buy/7/", 302, f"{E}/checkout/")])
    assert outcome.ok
    assert outcome.checkout_url == f"{E}/checkout/"


def test_redirect_back_to_the_marketplace_means_taken() -> None:
    hops = [
        Hop("POST", f"{E}/secondhand/buy/7/", 302, f"{E}/secondhand/"),
        Hop(
            "GET",
            f"{E}/secondhand/",
            200,
            body='<div class="alert alert-danger">Sorry, this ticket is no longer available.</div>',
        ),
    ]
    outcome = interpret_cart_chain(hops)
    assert outcome.result == "taken"
    assert outcome.message == "Sorry, this ticket is no longer available."


def test_csrf_refusal_is_forbidden() -> None:
    hop = Hop("POST", f"{E}/secondhand/buy/7/", 403, body="<h1>CSRF verification failed.</h1>")
    assert interpret_cart_chain([hop]).result == "forbidden"


def test_shop_failure_redirect_to_the_event_page_is_an_error_with_the_alert() -> None:
    hops = [
        Hop("POST", f"{E}/cart/add", 302, f"{E}/"),
        Hop("GET", f"{E}/", 200, body='<div class="alert alert-danger">Sold out.</div>'),
    ]
    outcome = interpret_cart_chain(hops)
    assert outcome.result == "error"
    assert outcome.message == "Sold out."


@pytest.mark.parametrize(
    ("status", "retry_after", "reason", "seconds"),
    [
        (429, None, "rate_limited", None),
        (429, "12", "rate_limited", 12.0),
        (409, "0.3", "locked", 0.3),
        (503, "5", "server_error", 5.0),
    ],
)
def test_throttles(
    status: int, retry_after: str | None, reason: str, seconds: float | None
) -> None:
    throttle = interpret_throttle(Hop("GET", E, status, retry_after=retry_after))
    assert throttle is not None
    assert (throttle.reason, throttle.retry_after) == (reason, seconds)


def test_html_rate_limit_page_from_a_proxy_is_a_rate_limit() -> None:
    body = "<html><title>Error</title><h1>Too Many Requests</h1></html>"
    throttle = interpret_throttle(Hop("GET", E, 503, body=body))
    assert throttle is not None
    assert throttle.reason == "rate_limited"
    assert interpret_throttle(Hop("GET", E, 200, body=body)) is None
    assert interpret_throttle(Hop("GET", E, 404)) is None


def test_cart_add_rate_limited() -> None:
    outcome = interpret_cart_chain([Hop("POST", f"{E}/secondhand/buy/7/", 409, retry_after="2")])
    assert outcome.result == "rate_limited"
    assert outcome.throttle is not None
    assert outcome.throttle.retry_after == 2.0


def test_marketplace_gone() -> None:
    assert marketplace_gone(Hop("GET", f"{E}/secondhand/", 404))
    assert marketplace_gone(Hop("GET", f"{E}/secondhand/", 302, f"{E}/"))
    assert not marketplace_gone(Hop("GET", f"{E}/secondhand/", 302, f"{E}/secondhand/"))
    assert not marketplace_gone(Hop("GET", f"{E}/secondhand/", 200))


@given(
    st.binary(max_size=64),
    st.sampled_from(
        [
            "text/html; charset=utf-8",
            "text/html;charset=UTF-8",
            'text/html; charset="utf-8"',
            "text/html",
            "text/html; charset=latin-1",
            "text/html; charset=utf-8; x=y",
            "application/json",
        ]
    ),
)
def test_a_page_is_read_as_httpx_reads_it(body: bytes, content_type: str) -> None:
    def answer() -> httpx.Response:
        return httpx.Response(
            200,
            headers={"content-type": content_type},
            content=body,
            request=httpx.Request("GET", f"{E}/secondhand/"),
        )

    assert Hop.from_response(answer()).body == answer().text
