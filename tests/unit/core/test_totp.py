"""TOTP for every secret length authenticators use (80-bit 16-character secrets included)."""

from __future__ import annotations

import base64

import pyotp
import pytest

from boxoffice.core import totp

RFC4226_KEY = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314",
                 "254676", "287922", "162583", "399871", "520489"]  # fmt: skip


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_CODES)))
def test_hotp_matches_the_rfc_4226_test_vectors(counter: int, expected: str) -> None:
    assert totp.hotp(RFC4226_KEY, counter) == expected


def test_totp_matches_rfc_6238_at_its_test_times() -> None:
    secret = base64.b32encode(RFC4226_KEY).decode()
    # RFC 6238 appendix B, SHA-1, 8 digits: 94287082 at 59 s; the last 6 digits are the 6-digit code
    assert totp.code(secret, 59) == "287082"
    assert totp.code(secret, 1111111109) == "081804"


def test_same_codes_as_pyotp_for_long_secrets() -> None:
    secret = pyotp.random_base32()
    for at in (0, 59, 1_700_000_000, 2_000_000_000):
        assert totp.code(secret, at) == pyotp.TOTP(secret).at(at)


@pytest.mark.parametrize("secret", ["JBSWY3DPEHPK3PXP", "jbsw y3dp ehpk 3pxp", "JBSWY3DP"])
def test_short_secrets_that_pyotp_refuses_work(secret: str) -> None:
    with pytest.raises(ValueError, match="112 bits"):
        pyotp.TOTP(secret.replace(" ", "").upper()).now()
    code = totp.code(secret, 1_700_000_000)
    assert len(code) == 6
    assert totp.verify(secret, code, 1_700_000_000 + 29)
    assert not totp.verify(secret, code, 1_700_000_000 + 300)


@pytest.mark.parametrize("secret", ["", "   ", "not-base32!!", "0189"])
def test_a_malformed_secret_is_a_value_error(secret: str) -> None:
    with pytest.raises(ValueError, match=r"empty|base32|no bytes"):
        totp.code(secret)
    assert not totp.verify(secret, "123456")
