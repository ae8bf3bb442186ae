"""The prepared cart POST carries exactly what ``client.post(url, data=…, headers=…)`` would:
headers, body and the Cookie header of the jar as it is when the POST leaves."""

from __future__ import annotations

import time
from http.cookiejar import Cookie

import httpx

from boxoffice.core.http import CookieJar, create_client
from boxoffice.platforms.pretix.client import PretixClient
from boxoffice.platforms.pretix.models import Listing
from boxoffice.platforms.pretix.requests import FORM_CONTENT_TYPE

BASE = "https://t.example.com"
PAGE = f"{BASE}/org/99x1/secondhand/?sort=price_asc"


def listing(n: int) -> Listing:
    return Listing("Standard", "95.00", "EUR", f"{BASE}/org/99x1/secondhand/buy/{n}/", "tok+/=")


def cookie(name: str, value: str, *, path: str = "/", expires: int | None = None) -> Cookie:
    return Cookie(
        0, name, value, None, False, "t.example.com", False, False, path, True, True,
        expires, expires is None, None, None, {},
    )  # fmt: skip


def sent(request: httpx.Request) -> tuple[str, str, bytes, dict[str, str]]:
    headers = {k.lower(): v for k, v in request.headers.items()}
    return request.method, str(request.url), request.content, headers


async def test_the_prepared_post_is_the_post_httpx_would_build() -> None:
    async with create_client(cookies=CookieJar()) as http:
        http.cookies.jar.set_cookie(cookie("__Host-pretix_csrftoken", "c1"))
        http.cookies.jar.set_cookie(cookie("pretix_session", "s1"))
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        client.prepare_buy(PAGE)
        ours = client._buy_request(listing(7), PAGE)
        theirs = http.build_request(
            "POST",
            listing(7).buy_url,
            data={"csrfmiddlewaretoken": "tok+/="},
            headers={"Referer": PAGE, "Origin": BASE, "Content-Type": FORM_CONTENT_TYPE},
        )
    assert sent(ours) == sent(theirs)
    assert "__Host-pretix_csrftoken=c1" in ours.headers["cookie"]
    assert ours.extensions["timeout"] == theirs.extensions["timeout"]


async def test_a_cookie_arriving_after_the_preparation_goes_with_the_post() -> None:
    async with create_client(cookies=CookieJar()) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        http.cookies.jar.set_cookie(cookie("pretix_csrftoken", "old"))
        client.prepare_buy(PAGE)
        http.cookies.jar.set_cookie(cookie("pretix_csrftoken", "new"))
        http.cookies.jar.set_cookie(cookie("pretix_session", "s2"))
        header = client._buy_request(listing(7), PAGE).headers["cookie"]
    assert sorted(header.split("; ")) == ["pretix_csrftoken=new", "pretix_session=s2"]


async def test_path_bound_and_expired_cookies_are_judged_per_listing() -> None:
    async with create_client(cookies=CookieJar()) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        http.cookies.jar.set_cookie(cookie("all", "1"))
        http.cookies.jar.set_cookie(cookie("only7", "1", path="/org/99x1/secondhand/buy/7/"))
        http.cookies.jar.set_cookie(cookie("gone", "1", expires=int(time.time()) - 10))
        client.prepare_buy(PAGE)
        seven = client._buy_request(listing(7), PAGE).headers["cookie"]
        eight = client._buy_request(listing(8), PAGE).headers["cookie"]
    assert sorted(seven.split("; ")) == ["all=1", "only7=1"]
    assert eight == "all=1"


async def test_cookies_set_by_answers_or_removed_change_the_next_post() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/set/"):
            return httpx.Response(200, headers={"SET-COOKIE": "pretix_session=s3; Path=/"})
        return httpx.Response(200, text="no cookie here")

    async with create_client(cookies=CookieJar(), transport=httpx.MockTransport(answer)) as http:
        client = PretixClient(http, base_url=BASE, event="org/99x1")
        http.cookies.jar.set_cookie(cookie("pretix_csrftoken", "c1"))
        client.prepare_buy(PAGE)
        await http.get(f"{BASE}/org/99x1/secondhand/")  # sets nothing: the jar stays
        assert client._buy_request(listing(7), PAGE).headers["cookie"] == "pretix_csrftoken=c1"
        await http.get(f"{BASE}/org/99x1/set/")
        header = client._buy_request(listing(7), PAGE).headers["cookie"]
        assert sorted(header.split("; ")) == ["pretix_csrftoken=c1", "pretix_session=s3"]
        http.cookies.delete("pretix_csrftoken")
        assert client._buy_request(listing(7), PAGE).headers["cookie"] == "pretix_session=s3"
