"""Parsers for Booked Scheduler 3.x HTML pages (login, passcode, CSRF) and its JSON answers."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from boxoffice.platforms.booked.models import Reservation, parse_when

_INPUT = re.compile(r"<input\b[^>]*>", re.I | re.S)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.S)
_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.I | re.S)
_ERROR = re.compile(
    r"<div[^>]*class=\"[^\"]*(?:error|alert-danger|validationSummary)[^\"]*\"[^>]*>(.*?)</div>",
    re.I | re.S,
)
_TAGS = re.compile(r"<[^>]+>")


def _attrs(tag: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for match in _ATTR.finditer(tag):
        name = match.group(1).lower()
        value = next((g for g in match.groups()[1:] if g is not None), "")
        out[name] = html.unescape(value)
    return out


def inputs(page: str) -> dict[str, str]:
    """``name → value`` of every ``<input>`` on the page (first wins)."""
    out: dict[str, str] = {}
    for tag in _INPUT.findall(page):
        attrs = _attrs(tag)
        name = attrs.get("name")
        if name and name not in out:
            out[name] = attrs.get("value", "")
    return out


def csrf_token(page: str) -> str | None:
    """The value of ``<input name="CSRF_TOKEN">``, if the page has one."""
    value = inputs(page).get("CSRF_TOKEN")
    return value or None


def is_login_page(page: str) -> bool:
    """A page carrying the email/password login form."""
    names = inputs(page)
    return "password" in names and ("email" in names or "login" in names)


@dataclass(frozen=True)
class PasscodeForm:
    """The 2FA step: where to post the OTP and the CSRF token to send with it."""

    action: str
    csrf_token: str | None


def passcode_form(page: str) -> PasscodeForm | None:
    """The passcode (TOTP) form if the page asks for one."""
    for attrs_text, body in _FORM.findall(page):
        if re.search(r"name\s*=\s*[\"']?OTP\b", body):
            action = _attrs(attrs_text).get("action", "")
            return PasscodeForm(action=action, csrf_token=csrf_token(body) or csrf_token(page))
    return None


def error_text(page: str) -> str | None:
    """The visible error box of a page (login refused, passcode refused), as plain text."""
    match = _ERROR.search(page)
    if not match:
        return None
    text = " ".join(html.unescape(_TAGS.sub(" ", match.group(1))).split())
    return text or None


def user_id(page: str) -> str | None:
    """The logged-in user's id if the page exposes it (``data-user-id`` or a hidden input)."""
    match = re.search(r"data-user-id\s*=\s*[\"'](\d+)", page)
    if match:
        return match.group(1)
    names = inputs(page)
    for key in ("userId", "USER_ID", "ownerId"):
        if names.get(key, "").isdigit():
            return names[key]
    return None


def _pick(item: dict[str, Any], *keys: str) -> Any:
    lowered = {k.lower(): v for k, v in item.items()}
    for key in keys:
        if key.lower() in lowered and lowered[key.lower()] is not None:
            return lowered[key.lower()]
    return None


def reservations(data: Any, tz: ZoneInfo) -> list[Reservation]:
    """Reservations from ``schedule.php?dr=reservations`` (a JSON list; blackouts skipped).

    Key spellings vary between versions (``resourceId``/``ResourceId``/``rid``, …); naive
    times are in the schedule's zone ``tz``.
    """
    items = data.get("reservations", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        return []
    out: list[Reservation] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        if _pick(item, "isReservation", "IsReservation") is False:
            continue
        rid = _pick(item, "resourceId", "rid", "ResourceId")
        start = _pick(item, "startDate", "start", "StartDate", "startDateTime")
        end = _pick(item, "endDate", "end", "EndDate", "endDateTime")
        if rid is None or start is None or end is None:
            continue
        user = _pick(item, "userId", "ownerId", "UserId", "OwnerId")
        out.append(
            Reservation(
                reference=str(_pick(item, "referenceNumber", "ReferenceNumber", "id") or ""),
                resource_id=int(rid),
                start=parse_when(start, tz),
                end=parse_when(end, tz),
                user_id=None if user is None else str(user),
                title=str(_pick(item, "title", "Title") or ""),
            )
        )
    return out


_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)


def describe_page(content_type: str, text: str) -> str:
    """What a page that is not Booked's login page is, in a few words, for the error line."""
    kind = content_type.split(";")[0].strip().lower() or "no content type"
    body = text.strip()
    if not body:
        return f"an empty {kind} body"
    if "LibreBooking API" in body or "/Web/Services/" in body:
        return "the LibreBooking API (use --dialect librebooking)"
    if "json" in kind or body[:1] in "[{":
        return f"a JSON answer ({' '.join(body[:60].split())!r})"
    title = _TITLE.search(body)
    if "pretix" in body.lower() and "csrfmiddlewaretoken" in body:
        what = "a pretix page"
    elif title:
        name = " ".join(html.unescape(_TAGS.sub(" ", title.group(1))).split())
        what = f"a {kind} page titled {name!r}"
    else:
        snippet = " ".join(html.unescape(_TAGS.sub(" ", body)).split())[:60]
        what = f"a {kind} page ({snippet!r})"
    if "password" not in inputs(body):
        what += " without a login form"
    return what
