"""Webhook signatures: Vivenu's ``x-vivenu-signature`` and, optionally, Standard Webhooks.

* Vivenu: ``x-vivenu-signature`` = lowercase hex HMAC-SHA256 of the exact raw body bytes, keyed
  with the webhook's HMAC secret (``VIVENU_SECRET``).
* Standard Webhooks (https://www.standardwebhooks.com): ``webhook-id``, ``webhook-timestamp``
  (unix seconds) and ``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">``,
  keyed with the same secret bytes.

Always sign the bytes you send: serialize once, sign, send those bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

VIVENU_HEADER = "x-vivenu-signature"


def vivenu_signature(secret: str, body: bytes) -> str:
    """Lowercase hex HMAC-SHA256 of ``body`` keyed with ``secret`` (what Vivenu sends)."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_vivenu(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is the Vivenu signature of ``body`` (constant-time)."""
    if not signature:
        return False
    return hmac.compare_digest(vivenu_signature(secret, body), signature.strip().lower())


def standard_signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value: ``v1,<base64 HMAC-SHA256 of "{id}.{ts}.{body}">``."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(
    secret: str, body: bytes, *, msg_id: str, timestamp: int, standard: bool = True
) -> dict[str, str]:
    """Every signature header for one delivery of ``body``."""
    headers = {VIVENU_HEADER: vivenu_signature(secret, body)}
    if standard:
        headers["webhook-id"] = msg_id
        headers["webhook-timestamp"] = str(timestamp)
        headers["webhook-signature"] = standard_signature(secret, msg_id, timestamp, body)
    return headers
