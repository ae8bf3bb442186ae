"""`watch run` never loses a carted ticket to a folder it cannot write.

- Before the first poll: a save dir (page archive, cookie export) or state dir that cannot be
  written is one line, exit 2, and nothing is polled.
- After the cart add: when the save dir breaks in between, the cookies go to the state dir
  (0600); when that breaks too, the cookie values themselves are shown. Either way the
  checkout link and the session reach the terminal and the notification channel, exit 0.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from tests.e2e._cli import CliRun, run_cli

from boxoffice.core.http import CookieJar
from boxoffice.sandbox.pretix_marketplace import create_app
from boxoffice.sandbox.server import SandboxServer

FAST = ["--interval", "0.2", "--i-know-what-i-am-doing", "--headless", "--max-polls", "20"]


@pytest.fixture
def cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., CliRun]:
    """``boxoffice …`` in this process, in tmp_path (the server thread can change the disk
    exactly between the cart add and what follows)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "200")

    def invoke(*args: str) -> CliRun:
        return run_cli(capsys, monkeypatch, *args)

    return invoke


class BreakOnBuy:
    """ASGI wrapper: when the buy POST arrives, turn these folders into plain files."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.folders: list[Path] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "/secondhand/buy/" in scope["path"]:
            for folder in self.folders:
                if folder.exists():
                    folder.rename(folder.with_name(folder.name + ".moved"))
                folder.parent.mkdir(parents=True, exist_ok=True)
                folder.write_text("not a folder any more\n")
        await self.app(scope, receive, send)


@pytest.fixture
def shop() -> Iterator[tuple[Any, BreakOnBuy, str, str, list[dict[str, Any]]]]:
    """(marketplace app, its wrapper, base URL, webhook URL, webhook messages)."""
    app = create_app()
    wrapper = BreakOnBuy(app)
    received: list[dict[str, Any]] = []

    async def hook(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
    with SandboxServer({"m": wrapper, "hook": receiver}) as urls:
        yield app, wrapper, urls["m"], urls["hook"] + "/hook", received


def state_dir() -> Path:
    return Path(os.environ["BOXOFFICE_STATE_DIR"])


@pytest.mark.parametrize("broken", ["save", "state"])
def test_an_unwritable_folder_is_one_line_and_exit_2_before_any_poll(
    shop: tuple[Any, BreakOnBuy, str, str, list[dict[str, Any]]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
) -> None:
    app, _, base, _, _ = shop
    app.state.market.add_listing("Ticket – Standard", "95")
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    args = ["watch", "run", "--url", base, "--event", "demo/99x1", *FAST]
    if broken == "save":
        args += ["--save-responses", str(blocker / "live-responses")]
    else:
        monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(blocker / "state"))
    proc = cli(*args)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, proc.stderr
    assert f"{blocker} is not a folder" in errors[0]
    assert ("--save-responses" if broken == "save" else "BOXOFFICE_STATE_DIR") in errors[0]
    assert app.state.market.polls == 0  # found out before the race, not after winning it
    assert app.state.market.buys == 0


def test_save_dir_broken_after_the_cart_add_cookies_go_to_the_state_dir(
    shop: tuple[Any, BreakOnBuy, str, str, list[dict[str, Any]]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
) -> None:
    app, wrapper, base, hook, received = shop
    app.state.market.add_listing("Ticket – Standard", "95", after_polls=1)
    wrapper.folders = [tmp_path / "live-responses"]
    proc = cli(
        "watch", "run", "--url", base, "--event", "demo/99x1", *FAST, "--webhook", hook, "--json"
    )
    assert proc.returncode == 0, proc.stderr
    (watch,) = json.loads(proc.stdout)["watches"]
    assert watch["status"] == "carted"
    assert "cookie export failed" in proc.stderr
    cookie_file = Path(watch["cookie_file"])
    assert cookie_file.parent == state_dir() / "watch"
    assert stat.S_IMODE(cookie_file.stat().st_mode) == 0o600
    session = CookieJar.load(cookie_file).get("pretix_session")
    assert session is not None
    assert session in app.state.market.carts  # the carted session itself
    assert f"checkout: {watch['checkout_url']}" in proc.stderr
    assert f"cookies: {cookie_file}" in proc.stderr
    assert watch["notified"] is True
    (message,) = received
    assert message["url"] == watch["checkout_url"]
    assert message["data"]["fields"]["cookie_file"] == str(cookie_file)


def test_no_folder_writable_after_the_cart_add_shows_the_cookie_values_and_says_where(
    shop: tuple[Any, BreakOnBuy, str, str, list[dict[str, Any]]],
    cli: Callable[..., CliRun],
    tmp_path: Path,
) -> None:
    app, wrapper, base, hook, received = shop
    app.state.market.add_listing("Ticket – Standard", "95", after_polls=1)
    wrapper.folders = [tmp_path / "live-responses", state_dir() / "watch"]
    proc = cli("watch", "run", "--url", base, "--event", "demo/99x1", *FAST, "--webhook", hook)
    assert proc.returncode == 0, proc.stderr
    (session,) = app.state.market.carts
    assert f"pretix_session={session}" in proc.stdout  # on the terminal …
    assert "checkout: " in proc.stdout
    (message,) = received
    assert "/checkout/" in message["url"]
    # … but a notification never carries session cookie values (a push service or a shared
    # topic would hand the cart to whoever reads it): it says where they are
    assert session not in json.dumps(message)
    assert "session cookies (" in message["body"]
    assert "pretix_session" in message["body"]
    assert "printed on the terminal" in message["body"]
