"""Playwright browser handoff: put a session's cookies into a real browser and open a page.

Public API:

``to_playwright_cookies(records: Iterable[CookieRecord]) -> list[dict]`` (pure): ``__Host-``
    cookies with ``url`` only (no domain/path); others with domain, path="/", secure, httpOnly.
``find_browser(configured: Path | None = None) -> Path``: config path, then /usr/bin/chromium,
    chromium-browser, google-chrome, macOS app bundles…; BrowserError listing where it looked.
``async handoff(cookies, url, *, executable=None, cdp_url=None, headless=False,
    keep_open=True) -> HandoffResult``: launch (or attach over CDP), add cookies, open ``url``;
    HandoffResult(ok, method: "launch"|"cdp"|"manual", url, title, detail).
``chromium_args(headless: bool) -> list[str]``: the flags that avoid hangs on a closed network.
``manual_instructions(records, url) -> str``: the printed fallback (JS snippet for
    non-``__Host-`` cookies, values to paste for ``__Host-`` ones).
``async with playwright_driver() as pw``: Playwright with a private temp dir, removed after.

How ``handoff`` opens the page:

* ``cdp_url`` given: attach to the user's running browser (started with
  ``--remote-debugging-port``), add the cookies to its default profile, open ``url`` in a new
  tab, then detach — the browser and the tab stay (with ``keep_open=False`` the tab is closed).
* ``keep_open=True`` (the default, for a person who will finish the checkout): start the found
  Chromium/Chrome as an independent process with a fresh private profile and a DevTools port,
  attach over CDP as above, and detach. The window outlives boxoffice; ``HandoffResult.pid``
  names the process.
* ``keep_open=False``: Playwright launches the browser, loads the page, reads its title and
  closes everything (used by checks and tests).
* Anything failing (no browser, no display, launch or navigation error) gives, by default,
  ``HandoffResult(ok=False, method="manual", detail=<why + manual_instructions>)``;
  ``fallback=False`` raises :class:`~boxoffice.errors.BrowserError` instead.

Playwright's own browser download is never used: we always pass ``executable_path``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from playwright._impl._api_structures import SetCookieParam
from playwright.async_api import Browser, BrowserContext, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError

from boxoffice.core import pacing
from boxoffice.core.http import CookieJar, CookieRecord
from boxoffice.core.logging import get_logger
from boxoffice.errors import BrowserError

__all__ = [
    "DEFAULT_SEARCH",
    "HandoffResult",
    "chromium_args",
    "default_search",
    "find_browser",
    "handoff",
    "install_hint",
    "manual_instructions",
    "playwright_driver",
    "to_playwright_cookies",
]

log = get_logger(__name__)

HandoffMethod = Literal["launch", "cdp", "manual"]

#: Where :func:`find_browser` looks, in order, on Linux and other Unixes: bare names go through
#: ``PATH``, paths are tried as they are (``~`` expanded).
UNIX_SEARCH: tuple[str, ...] = (
    "/usr/bin/chromium",
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "/usr/bin/chromium-browser",
    "/snap/bin/chromium",
    "/usr/bin/google-chrome",
    "/usr/bin/google-chrome-stable",
    "/opt/google/chrome/chrome",
)
#: The same on macOS: the app bundles first, then the command-line names.
MACOS_SEARCH: tuple[str, ...] = (
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "/Applications/Chromium.app/Contents/MacOS/Chromium",
    "~/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    "~/Applications/Chromium.app/Contents/MacOS/Chromium",
    "/Applications/Google Chrome Canary.app/Contents/MacOS/Google Chrome Canary",
    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
    "chromium",
    "google-chrome",
)


def default_search(platform: str = sys.platform) -> tuple[str, ...]:
    """Where to look on ``platform`` (``sys.platform``): no macOS paths on Linux, nor back."""
    return MACOS_SEARCH if platform == "darwin" else UNIX_SEARCH


#: This machine's search list.
DEFAULT_SEARCH: tuple[str, ...] = default_search()


def install_hint(platform: str = sys.platform, os_release: str | None = None) -> str:
    """How to install Chromium here, in one phrase (``os_release``: /etc/os-release's text)."""
    if platform == "darwin":
        return "install Google Chrome, or Chromium with `brew install --cask chromium`"
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8", errors="replace")
        except OSError:
            os_release = ""
    ids: set[str] = set()
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids.update(value.strip().strip('"').lower().split())
    if "ubuntu" in ids:
        return "install it with `sudo snap install chromium`"
    if "debian" in ids:
        return "install it with `sudo apt-get install chromium`"
    if ids & {"fedora", "rhel", "centos"}:
        return "install it with `sudo dnf install chromium`"
    if "arch" in ids:
        return "install it with `sudo pacman -S chromium`"
    if ids & {"suse", "opensuse"}:
        return "install it with `sudo zypper install chromium`"
    return "install Chromium or Google Chrome from your system's packages"


_SAME_SITE = {"lax": "Lax", "strict": "Strict", "none": "None"}


@dataclass(frozen=True)
class HandoffResult:
    """What the handoff did.

    ``ok``: cookies were added and the page loaded. ``method``: how ("manual" = nothing could
    be automated; ``detail`` then holds the reason and the instructions to print). ``pid``: the
    browser process left running for the user (``keep_open`` launch), if any, and
    ``profile_dir`` its private profile (holding the session; deleted when that browser exits).
    """

    ok: bool
    method: HandoffMethod
    url: str
    title: str | None = None
    detail: str = ""
    cookies_added: int = 0
    pid: int | None = None
    cdp_url: str | None = None
    profile_dir: Path | None = None


# --------------------------------------------------------------------------------------------
# pure parts


def _records(cookies: CookieJar | Iterable[CookieRecord]) -> list[CookieRecord]:
    return cookies.items() if isinstance(cookies, CookieJar) else list(cookies)


def to_playwright_cookies(records: Iterable[CookieRecord]) -> list[SetCookieParam]:
    """Cookies in the shape ``BrowserContext.add_cookies`` takes.

    ``__Host-`` cookies are given by ``url`` (``https://<exact host>/``) and never with
    ``domain``/``path`` — Chromium then stores them host-only with path "/", as the prefix
    demands. Other cookies get ``domain`` (a leading dot only for domain cookies), ``path="/"``,
    ``secure`` and ``httpOnly``. Expiry and SameSite are kept when known.
    """
    out: list[SetCookieParam] = []
    for record in records:
        param: SetCookieParam = {"name": record.name, "value": record.value}
        if record.is_host_prefixed:
            host = f"[{record.host}]" if ":" in record.host else record.host  # IPv6 literal
            param["url"] = f"https://{host}/"
        else:
            param["domain"] = record.host if record.host_only else "." + record.host
            param["path"] = "/"
            param["secure"] = record.secure
        param["httpOnly"] = record.http_only
        if record.expires is not None:
            param["expires"] = float(record.expires)
        same_site = _SAME_SITE.get((record.same_site or "").lower())
        if same_site == "Lax":
            param["sameSite"] = "Lax"
        elif same_site == "Strict":
            param["sameSite"] = "Strict"
        elif same_site == "None" and (record.secure or record.is_host_prefixed):
            param["sameSite"] = "None"  # Chromium refuses SameSite=None without Secure
        out.append(param)
    return out


def chromium_args(headless: bool) -> list[str]:
    """Flags for Chromium that keep it from hanging or phoning home on a closed network.

    ``--no-sandbox`` is added when headless or when running as root (Chromium refuses to start
    as root otherwise); a visible browser for a normal user keeps its sandbox.
    """
    args = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-quic",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
    ]
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if headless or is_root:
        args.insert(0, "--no-sandbox")
    if headless:
        args += ["--headless", "--disable-gpu"]
    return args


def _js_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def manual_instructions(records: Iterable[CookieRecord], url: str) -> str:
    """Step-by-step text for moving the session into a browser by hand.

    Cookie values are shown in clear on purpose: the person reading this needs them. Do not log
    this text; print it to the user's terminal only.
    """
    items = _records(records)
    plain = [r for r in items if not r.is_host_prefixed]
    host_prefixed = [r for r in items if r.is_host_prefixed]
    lines = [
        "Open the session in your browser by hand:",
        f"1. Open {url} once (the cookies must be set on that site).",
    ]
    step = 2
    if plain:
        lines.append(
            f"{step}. Open the developer tools (F12 / ⌥⌘I), tab Console, paste and press Enter:"
        )
        for r in plain:
            attrs = ["path=/"]
            if not r.host_only:
                attrs.append(f"domain={r.domain}")
            if r.secure:
                attrs.append("secure")
            cookie = f"{r.name}={r.value}; " + "; ".join(attrs)
            lines.append(f"   document.cookie = {_js_string(cookie)};")
        step += 1
    if host_prefixed:
        lines.append(
            f"{step}. In the developer tools, tab Application → Cookies → "
            "the site, add (Path /, Secure ticked):"
        )
        for r in host_prefixed:
            lines.append(f"   {r.name} = {r.value}    (host {r.host})")
        step += 1
    lines.append(f"{step}. Reload {url}.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# discovery


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_browser(configured: Path | None = None, *, search: Sequence[str] | None = None) -> Path:
    """The Chromium/Chrome to drive: ``configured`` if given, else the first found of
    ``search`` (default :data:`DEFAULT_SEARCH`).

    Raises :class:`BrowserError` naming every place it looked.
    """
    if configured is not None:
        path = configured.expanduser()
        if _is_executable(path):
            return path
        found = shutil.which(str(configured))
        if found:
            return Path(found)
        if path.is_dir():
            raise BrowserError(
                f"the configured browser {configured} is a directory",
                hint="give the browser's executable (e.g. /usr/bin/chromium), not its folder",
            )
        raise BrowserError(
            f"the configured browser {configured} does not exist or is not executable",
            hint="fix browser.executable (BOXOFFICE_BROWSER_EXECUTABLE) or leave it empty "
            "to search for Chromium/Chrome",
        )
    names: list[str] = []
    paths: list[str] = []
    for entry in DEFAULT_SEARCH if search is None else search:
        if "/" in entry:
            path = Path(entry).expanduser()
            paths.append(str(path))
            if _is_executable(path):
                return path
        else:
            names.append(entry)
            found = shutil.which(entry)
            if found:
                return Path(found)
    log.info("no browser found", on_path=names, paths=paths)  # every place, with -v
    where = [f"PATH for {', '.join(names)}"] if names else []
    if paths:
        where.append(f"{len(paths)} usual install path{'s' if len(paths) != 1 else ''}")
    raise BrowserError(
        f"no Chromium or Chrome found (searched {' and '.join(where) or 'nowhere'})",
        hint=f"{install_hint()}, or set browser.executable (BOXOFFICE_BROWSER_EXECUTABLE)",
    )


# --------------------------------------------------------------------------------------------
# handoff


def _normalize_cdp(cdp_url: str) -> str:
    if "://" not in cdp_url:
        cdp_url = "http://" + (cdp_url if ":" in cdp_url else f"127.0.0.1:{cdp_url}")
    return cdp_url


def _check_display(headless: bool) -> None:
    if headless or not sys.platform.startswith("linux"):
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise BrowserError(
            "no display to open a browser window on (DISPLAY is not set)",
            hint="run on a desktop session, attach to a running browser with --cdp, "
            "or use headless mode",
        )


async def _open(
    context: BrowserContext, params: list[SetCookieParam], url: str, timeout_ms: float
) -> tuple[Page, str | None, str | None]:
    """Add cookies, open ``url`` in a new tab; returns (page, title, navigation error)."""
    await context.add_cookies(params)
    page = await context.new_page()
    try:
        response = await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    except PlaywrightError as exc:
        return page, None, _first_line(exc)
    title = await page.title()
    if response is not None and response.status >= 400:
        return page, title, f"the page answered HTTP {response.status}"
    return page, title, None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@asynccontextmanager
async def playwright_driver() -> AsyncIterator[Playwright]:
    """``async_playwright()`` whose driver keeps its temp files in a private dir, removed after.

    The driver makes a ``playwright-artifacts-*`` dir for every browser it attaches to over CDP
    and removes it only when it closes that browser — which a handoff never does (closing a
    CDP-attached browser would end the user's window). The driver reads TMPDIR when it starts,
    so it is set for that moment only.
    """
    private = tempfile.mkdtemp(prefix="boxoffice-playwright-")
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = private
    manager = async_playwright()
    try:
        pw = await manager.__aenter__()
    except BaseException:
        shutil.rmtree(private, ignore_errors=True)
        raise
    finally:
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
    try:
        yield pw
    finally:
        try:
            await manager.__aexit__(None, None, None)
        finally:
            shutil.rmtree(private, ignore_errors=True)


async def _via_cdp(
    endpoint: str,
    params: list[SetCookieParam],
    url: str,
    *,
    keep_open: bool,
    timeout_ms: float,
    method: HandoffMethod,
    pid: int | None = None,
) -> HandoffResult:
    async with playwright_driver() as pw:
        try:
            browser: Browser = await pw.chromium.connect_over_cdp(endpoint, timeout=timeout_ms)
        except PlaywrightError as exc:
            raise BrowserError(
                f"cannot attach to the browser at {endpoint}: {_first_line(exc)}",
                hint="start Chrome/Chromium with --remote-debugging-port=9222 and pass "
                "--cdp http://127.0.0.1:9222",
            ) from exc
        context = browser.contexts[0] if browser.contexts else await browser.new_context()
        page, title, error = await _open(context, params, url, timeout_ms)
        if not keep_open:
            await page.close()
        # leaving the block disconnects; a browser we attached to keeps running
    return HandoffResult(
        ok=error is None,
        method=method,
        url=url,
        title=title,
        detail=error or f"opened in the browser at {endpoint}",
        cookies_added=len(params),
        pid=pid,
        cdp_url=endpoint,
    )


def _popen(
    args: list[str], executable: Path, *, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    try:
        proc = subprocess.Popen(
            args,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # not killed with boxoffice, nor by its Ctrl-C
        )
    except OSError as exc:
        raise BrowserError(f"cannot start {executable}: {exc.strerror or exc}") from exc
    # the browser is meant to outlive this call: a daemon thread reaps it when the user closes it
    threading.Thread(target=proc.wait, name="boxoffice-browser-reaper", daemon=True).start()
    return proc


#: Run by a small detached Python process: wait until the browser process is gone, then
#: delete its profile (it holds the session's cookies). argv: pid, profile dir.
_REMOVE_PROFILE_WHEN_GONE = """
import os, shutil, sys, time
pid, profile = int(sys.argv[1]), sys.argv[2]
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    time.sleep(0.5)
shutil.rmtree(profile, ignore_errors=True)
"""


def _remove_profile_when_gone(pid: int, profile: Path) -> None:
    """Delete ``profile`` once process ``pid`` has exited, even after boxoffice has exited."""
    if os.name != "posix":  # os.kill(pid, 0) is a liveness check only on POSIX
        return
    python = Path(sys.executable)
    try:  # detached and reaped like the browser itself
        _popen([str(python), "-c", _REMOVE_PROFILE_WHEN_GONE, str(pid), str(profile)], python)
    except BrowserError as exc:
        log.warning(
            "the browser profile will not be deleted", profile=str(profile), error=exc.message
        )


async def _spawn_detached(
    executable: Path, *, headless: bool, ignore_https_errors: bool, timeout: float
) -> tuple[subprocess.Popen[bytes], str, Path]:
    """Start the browser as its own process with a DevTools port.

    Returns (process, DevTools endpoint, profile dir).
    """
    profile = Path(tempfile.mkdtemp(prefix="boxoffice-browser-"))
    args = [
        str(executable),
        *chromium_args(headless),
        f"--user-data-dir={profile}",
        "--remote-debugging-address=127.0.0.1",
        "--remote-debugging-port=0",
    ]
    if ignore_https_errors:
        args.append("--ignore-certificate-errors")
    args.append("about:blank")
    # Chromium puts its singleton socket dir (org.chromium.Chromium.*) in TMPDIR and leaves it
    # when it is killed: inside the profile, it goes when the profile is deleted.
    private_tmp = profile / "tmp"
    private_tmp.mkdir()
    proc = _popen(args, executable, env={**os.environ, "TMPDIR": str(private_tmp)})
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            shutil.rmtree(profile, ignore_errors=True)
            raise BrowserError(
                f"{executable} exited at once (code {proc.returncode})",
                hint="run it by hand to see why; as root it needs --no-sandbox",
            )
        try:
            port = int(port_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            await pacing.sleep(0.05)
            continue
        return proc, f"http://127.0.0.1:{port}", profile
    proc.terminate()
    shutil.rmtree(profile, ignore_errors=True)
    raise BrowserError(f"{executable} did not open its DevTools port within {timeout:g} s")


async def _launch_and_close(
    executable: Path,
    params: list[SetCookieParam],
    url: str,
    *,
    headless: bool,
    ignore_https_errors: bool,
    timeout_ms: float,
) -> HandoffResult:
    async with playwright_driver() as pw:
        try:
            browser = await pw.chromium.launch(
                executable_path=str(executable),
                headless=headless,
                args=chromium_args(headless),
                chromium_sandbox=False,
                timeout=timeout_ms,
            )
        except PlaywrightError as exc:
            raise BrowserError(f"cannot launch {executable}: {_first_line(exc)}") from exc
        try:
            context = await browser.new_context(ignore_https_errors=ignore_https_errors)
            _, title, error = await _open(context, params, url, timeout_ms)
        finally:
            await browser.close()
    return HandoffResult(
        ok=error is None,
        method="launch",
        url=url,
        title=title,
        detail=error or f"loaded with {executable} and closed",
        cookies_added=len(params),
    )


async def handoff(
    cookies: CookieJar | Iterable[CookieRecord],
    url: str,
    *,
    executable: Path | None = None,
    cdp_url: str | None = None,
    headless: bool = False,
    keep_open: bool = True,
    ignore_https_errors: bool = False,
    fallback: bool = True,
    timeout: float = 30.0,
) -> HandoffResult:
    """Put ``cookies`` into a browser and open ``url`` (see the module docstring).

    ``executable``: the configured browser (else :func:`find_browser` searches).
    ``ignore_https_errors``: accept self-signed certificates (test servers, sandboxes).
    ``timeout``: seconds for attaching/launching and for loading the page.
    """
    records = _records(cookies)
    params = to_playwright_cookies(records)
    timeout_ms = timeout * 1000
    try:
        if cdp_url:
            return await _via_cdp(
                _normalize_cdp(cdp_url),
                params,
                url,
                keep_open=keep_open,
                timeout_ms=timeout_ms,
                method="cdp",
            )
        browser_path = find_browser(executable)
        _check_display(headless)
        if not keep_open:
            return await _launch_and_close(
                browser_path,
                params,
                url,
                headless=headless,
                ignore_https_errors=ignore_https_errors,
                timeout_ms=timeout_ms,
            )
        proc, endpoint, profile = await _spawn_detached(
            browser_path,
            headless=headless,
            ignore_https_errors=ignore_https_errors,
            timeout=timeout,
        )
        try:
            result = await _via_cdp(
                endpoint,
                params,
                url,
                keep_open=True,
                timeout_ms=timeout_ms,
                method="launch",
                pid=proc.pid,
            )
            _remove_profile_when_gone(proc.pid, profile)
            return dataclasses.replace(result, profile_dir=profile)
        except BaseException:
            proc.terminate()
            shutil.rmtree(profile, ignore_errors=True)
            raise
    except (BrowserError, PlaywrightError) as exc:
        error = exc if isinstance(exc, BrowserError) else BrowserError(_first_line(exc))
        if not fallback:
            raise error from exc
        log.warning("browser handoff failed, falling back to manual steps", error=error.message)
        return HandoffResult(
            ok=False,
            method="manual",
            url=url,
            detail=f"{error.one_line()}\n\n{manual_instructions(records, url)}",
        )
