"""Signatures and envelopes: what a receiver checks and deduplicates on."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

from boxoffice.platforms.vivenu.envelope import build_envelope, encode, envelope_id
from boxoffice.platforms.vivenu.signing import (
    signature_headers,
    standard_signature,
    verify_vivenu,
    vivenu_signature,
)
from boxoffice.sandbox.webhook_receiver import WebhookReceiver

TICKET = {"_id": "t1", "sellerId": "s1", "ticketName": "HYROX MEN | CHARITY HIA", "name": "Zoë"}


def test_vivenu_signature_matches_the_rfc4231_style_vector() -> None:
    body = b"The quick brown fox jumps over the lazy dog"
    assert (
        vivenu_signature("key", body)
        == "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    )


def test_signature_covers_the_exact_bytes() -> None:
    body = encode(build_envelope(TICKET, target="https://hook.example/x"))
    sig = vivenu_signature("s3cret", body)
    assert verify_vivenu("s3cret", body, sig)
    assert verify_vivenu("s3cret", body, sig.upper())  # hex case does not matter
    assert not verify_vivenu("s3cret", body + b" ", sig)
    assert not verify_vivenu("other", body, sig)
    assert not verify_vivenu("s3cret", body, None)


def test_standard_webhooks_headers_verify_independently() -> None:
    body = b'{"id":"abc"}'
    headers = signature_headers("s3cret", body, msg_id="abc", timestamp=1700000000)
    assert headers["webhook-id"] == "abc"
    assert headers["webhook-timestamp"] == "1700000000"
    version, _, b64 = headers["webhook-signature"].partition(",")
    expected = hmac.new(b"s3cret", b"abc.1700000000." + body, hashlib.sha256).digest()
    assert version == "v1"
    assert base64.b64decode(b64) == expected
    assert headers["x-vivenu-signature"] == hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert standard_signature("s3cret", "abc", 1700000001, body) != headers["webhook-signature"]


def test_only_vivenu_header_when_standard_is_off() -> None:
    headers = signature_headers("k", b"{}", msg_id="i", timestamp=1, standard=False)
    assert set(headers) == {"x-vivenu-signature"}


def test_envelope_shape_and_deterministic_id() -> None:
    env = build_envelope(TICKET, target="https://a.example/hook", webhook_id="wh1")
    assert env["type"] == "ticket.created"
    assert env["mode"] == "prod"
    assert env["sellerId"] == "s1"
    assert env["webhookId"] == "wh1"
    assert env["data"] == {"ticket": TICKET}
    again = build_envelope(dict(TICKET), target="https://a.example/hook", webhook_id="wh1")
    assert encode(env) == encode(again)  # a redelivery sends the same bytes
    assert env["id"] == envelope_id("https://a.example/hook", "t1")
    assert env["id"] != envelope_id("https://b.example/hook", "t1")
    assert env["id"] != envelope_id("https://a.example/hook", "t2")


def test_envelope_seller_override_and_unicode_bytes() -> None:
    env = build_envelope(TICKET, target="x", seller_id="override", mode="test")
    assert env["sellerId"] == "override"
    assert env["mode"] == "test"
    body = encode(env)
    assert "Zoë".encode() in body  # UTF-8, not \\u escapes
    assert json.loads(body)["data"]["ticket"]["name"] == "Zoë"


def test_the_client_signer_and_the_receiver_simulator_agree() -> None:
    """The receiver simulator signs with its own code (an independent oracle); both must
    accept each other's headers for unicode bodies, with and without Standard Webhooks."""
    receiver = WebhookReceiver("whsec-ünïcode-secret")
    for body in (b"{}", json.dumps({"id": "evt_1", "name": "Zoë – 🎫"}).encode()):
        for standard in (True, False):
            headers = signature_headers(
                receiver.secret, body, msg_id="evt_1", timestamp=1_763_000_000, standard=standard
            )
            assert receiver.signature_ok(headers, body)
            assert not receiver.signature_ok(headers, body + b" ")
        forged = signature_headers("other", body, msg_id="evt_1", timestamp=1, standard=True)
        assert not receiver.signature_ok(forged, body)
