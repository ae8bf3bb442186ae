"""TOTP codes (RFC 6238 over RFC 4226 HOTP), for every secret length authenticators use.

pyotp refuses secrets shorter than 112 bits (NIST's advice for *new* secrets), but the common
16-character base32 secrets of many 2FA set-ups are 80 bits, and RFC 4226 sets no floor the
authenticator apps enforce. Here any base32 secret that decodes to at least one byte works;
spaces, lower case and missing ``=`` padding are accepted as authenticator apps accept them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time

STEP = 30
DIGITS = 6


def decode_secret(secret: str) -> bytes:
    """The key bytes of a base32 secret; ``ValueError`` when it is empty or not base32."""
    text = "".join(secret.split()).upper().rstrip("=")
    if not text:
        raise ValueError("the secret is empty")
    try:
        key = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error as exc:
        raise ValueError(f"not base32 ({exc})") from exc
    if not key:
        raise ValueError("the secret decodes to no bytes")
    return key


def hotp(key: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 HOTP with SHA-1 (what TOTP authenticators compute)."""
    mac = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    number = struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


def code(secret: str, at: float | None = None, *, step: int = STEP, digits: int = DIGITS) -> str:
    """The TOTP code of ``secret`` at ``at`` (Unix seconds; default now)."""
    moment = time.time() if at is None else at
    return hotp(decode_secret(secret), int(moment // step), digits)


def verify(
    secret: str, candidate: str, at: float | None = None, *, window: int = 1, step: int = STEP
) -> bool:
    """Whether ``candidate`` is the code of ``secret`` at ``at`` ± ``window`` steps."""
    try:
        key = decode_secret(secret)
    except ValueError:
        return False
    moment = time.time() if at is None else at
    counter = int(moment // step)
    given = candidate.strip()
    if len(given) != DIGITS or not given.isdigit():
        return False
    return any(
        hmac.compare_digest(hotp(key, counter + delta), given)
        for delta in range(-window, window + 1)
    )
