"""core.browser: cookie conversion, browser discovery, flags, manual fallback."""

from __future__ import annotations

import json
import re
import stat
import sys
from pathlib import Path

import pytest

from boxoffice.core import browser
from boxoffice.core.browser import (
    chromium_args,
    find_browser,
    handoff,
    manual_instructions,
    to_playwright_cookies,
)
from boxoffice.core.http import CookieJar, CookieRecord
from boxoffice.errors import BrowserError

HOST_SESSION = CookieRecord(
    "__Host-pretix_session",
    "sess-1",
    "tickets.example.com",
    secure=True,
    http_only=True,
    same_site="Lax",
)
HOST_CSRF = CookieRecord("__Host-pretix_csrftoken", "csrf-2", "tickets.example.com", secure=True)
FRONT = CookieRecord("__QXSESSION", "front-3", "tickets.example.com", http_only=True)
WIDE = CookieRecord(
    "tracking_ok", "wide-4", ".example.com", secure=True, host_only=False, expires=4_000_000_000
)


def fake_executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


# --------------------------------------------------------------------------------------------
# to_playwright_cookies


def test_host_prefixed_cookies_are_given_by_url_only() -> None:
    (param,) = to_playwright_cookies([HOST_SESSION])
    assert param["url"] == "https://tickets.example.com/"
    assert "domain" not in param
    assert "path" not in param
    assert (param["name"], param["value"]) == ("__Host-pretix_session", "sess-1")
    assert param["httpOnly"] is True
    assert param["sameSite"] == "Lax"


def test_host_prefixed_cookie_on_an_ip_literal() -> None:
    v4, v6 = to_playwright_cookies(
        [
            CookieRecord("__Host-a", "1", "127.0.0.1", secure=True),
            CookieRecord("__Host-b", "2", "::1", secure=True),
        ]
    )
    assert v4["url"] == "https://127.0.0.1/"
    assert v6["url"] == "https://[::1]/"


def test_other_cookies_get_domain_root_path_and_flags() -> None:
    front, wide = to_playwright_cookies([FRONT, WIDE])
    assert front == {
        "name": "__QXSESSION",
        "value": "front-3",
        "domain": "tickets.example.com",  # host-only: no leading dot
        "path": "/",
        "secure": False,
        "httpOnly": True,
    }
    assert wide["domain"] == ".example.com"
    assert wide["secure"] is True
    assert wide["expires"] == 4_000_000_000
    assert "url" not in wide


def test_cookie_path_is_widened_to_root_and_samesite_none_needs_secure() -> None:
    scoped = CookieRecord("cart", "c", "shop.test", path="/org/ev/", same_site="None")
    (param,) = to_playwright_cookies([scoped])
    assert param["path"] == "/"
    assert "sameSite" not in param  # Chromium would refuse SameSite=None without Secure


def test_a_jar_converts_as_saved_and_loaded(tmp_path: Path) -> None:
    jar = CookieJar.from_records([HOST_SESSION, HOST_CSRF, FRONT])
    loaded = CookieJar.load(jar.save(tmp_path / "jar.json"))
    params = {p["name"]: p for p in to_playwright_cookies(loaded.items())}
    assert params["__Host-pretix_csrftoken"]["url"] == "https://tickets.example.com/"
    assert params["__QXSESSION"]["domain"] == "tickets.example.com"


# --------------------------------------------------------------------------------------------
# chromium_args


def test_headless_flags_avoid_hangs_on_a_closed_network() -> None:
    args = chromium_args(headless=True)
    for flag in (
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-quic",
        "--disable-sync",
        "--headless",
    ):
        assert flag in args


def test_visible_browser_keeps_its_sandbox_unless_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    args = chromium_args(headless=False)
    assert "--headless" not in args
    assert "--no-sandbox" not in args
    assert "--disable-background-networking" in args
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    assert "--no-sandbox" in chromium_args(headless=False)


# --------------------------------------------------------------------------------------------
# find_browser


def test_configured_browser_wins(tmp_path: Path) -> None:
    exe = fake_executable(tmp_path / "my chrome")
    assert find_browser(exe, search=[]) == exe


def test_configured_but_missing_browser_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match="configured browser") as info:
        find_browser(tmp_path / "nope")
    assert "browser.executable" in info.value.one_line()


def test_configured_file_that_is_not_executable_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "chrome.txt"
    path.write_text("not a program")
    with pytest.raises(BrowserError):
        find_browser(path)


def test_search_finds_names_on_path_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = tmp_path / "bin"
    exe = fake_executable(bin_dir / "google-chrome-stable")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert find_browser(search=["chromium", "google-chrome-stable"]) == exe
    absolute = fake_executable(tmp_path / "Applications" / "Chromium")
    assert find_browser(search=[str(tmp_path / "missing"), str(absolute)]) == absolute


def test_nothing_found_is_one_short_line_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(browser, "install_hint", lambda: "install it with `sudo apt-get …`")
    with pytest.raises(BrowserError) as info:
        find_browser(search=["chromium", "google-chrome", str(tmp_path / "a"), str(tmp_path / "b")])
    assert info.value.one_line() == (
        "no Chromium or Chrome found (searched PATH for chromium, google-chrome and 2 usual "
        "install paths) — install it with `sudo apt-get …`, or set browser.executable "
        "(BOXOFFICE_BROWSER_EXECUTABLE)"
    )


def test_each_platform_searches_its_own_places() -> None:
    linux, mac = browser.default_search("linux"), browser.default_search("darwin")
    assert linux[0] == "/usr/bin/chromium"
    for name in ("chromium-browser", "google-chrome", "google-chrome-stable"):
        assert name in linux
    assert not [p for p in linux if p.startswith(("/Applications", "~/Applications"))]
    assert mac[0] == "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome"
    assert not [p for p in mac if p.startswith(("/usr", "/snap", "/opt"))]
    assert browser.default_search(sys.platform) == browser.DEFAULT_SEARCH


@pytest.mark.parametrize(
    ("platform", "os_release", "expected"),
    [
        ("linux", 'ID=debian\nVERSION_ID="12"\n', "sudo apt-get install chromium"),
        ("linux", "ID=ubuntu\nID_LIKE=debian\n", "sudo snap install chromium"),
        ("linux", 'ID="fedora"\n', "sudo dnf install chromium"),
        ("linux", "ID=manjaro\nID_LIKE=arch\n", "sudo pacman -S chromium"),
        ("linux", "", "from your system's packages"),
        ("darwin", "", "brew install --cask chromium"),
    ],
)
def test_install_hint_fits_the_system(platform: str, os_release: str, expected: str) -> None:
    assert expected in browser.install_hint(platform, os_release)


# --------------------------------------------------------------------------------------------
# manual fallback


def test_manual_instructions_have_a_js_snippet_and_host_values() -> None:
    url = "https://tickets.example.com/org/ev/checkout/start"
    tricky = CookieRecord("quoted", 'a"b;c', "tickets.example.com", secure=True)
    text = manual_instructions([HOST_SESSION, HOST_CSRF, FRONT, WIDE, tricky], url)
    assert url in text
    snippets = re.findall(r"document\.cookie = (.*);$", text, flags=re.MULTILINE)
    assert len(snippets) == 3  # the non-__Host- ones
    cookies = [json.loads(s) for s in snippets]  # valid JS string literals
    assert cookies[0] == "__QXSESSION=front-3; path=/"
    assert cookies[1] == "tracking_ok=wide-4; path=/; domain=.example.com; secure"
    assert cookies[2].startswith('quoted=a"b;c;')
    assert "__Host-pretix_session = sess-1" in text
    assert "__Host-pretix_csrftoken = csrf-2" in text
    assert "__Host-" not in "".join(snippets)


def test_manual_instructions_without_cookies_still_say_where_to_go() -> None:
    text = manual_instructions([], "https://x.test/checkout/")
    assert "https://x.test/checkout/" in text
    assert "document.cookie" not in text


# --------------------------------------------------------------------------------------------
# handoff failure paths (the real browser runs in tests/integration)


async def test_missing_browser_falls_back_to_manual_steps(tmp_path: Path) -> None:
    result = await handoff(
        [HOST_SESSION, FRONT],
        "https://tickets.example.com/checkout/",
        executable=tmp_path / "no-such-browser",
    )
    assert not result.ok
    assert result.method == "manual"
    assert "configured browser" in result.detail
    assert "__Host-pretix_session = sess-1" in result.detail
    assert "document.cookie" in result.detail


async def test_without_fallback_the_error_is_raised(tmp_path: Path) -> None:
    with pytest.raises(BrowserError, match="configured browser"):
        await handoff([FRONT], "https://x.test/", executable=tmp_path / "nope", fallback=False)


async def test_visible_browser_without_a_display_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    exe = fake_executable(tmp_path / "chromium")
    result = await handoff([FRONT], "https://x.test/", executable=exe, headless=False)
    assert result.method == "manual"
    assert "no display" in result.detail
    assert "--cdp" in result.detail


def leftovers(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def test_a_browser_that_dies_at_once_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    exe = tmp_path / "broken-chrome"
    exe.write_text("#!/bin/sh\nexit 3\n")
    exe.chmod(0o755)
    profiles = tmp_path / "tmp"
    profiles.mkdir()
    monkeypatch.setattr(browser.tempfile, "tempdir", str(profiles))
    with pytest.raises(BrowserError, match=r"exited at once \(code 3\)"):
        await handoff([FRONT], "https://x.test/", executable=exe, headless=True, fallback=False)
    assert leftovers(profiles) == []  # its private profile was removed
