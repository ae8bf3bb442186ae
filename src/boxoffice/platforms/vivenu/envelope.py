"""The ``ticket.created`` envelope a historical ticket is wrapped in, with a deterministic id.

``{"id", "sellerId", "webhookId", "type": "ticket.created", "mode", "data": {"ticket": …}}``.
The ``id`` depends only on (target, ticket id), so a retry or a resumed run after a crash
carries the same id and a receiver can drop the duplicate. The body holds no timestamp of its
own: the same ticket always serializes to the same bytes.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

# a fixed namespace for boxoffice's historical-sync envelope ids (uuid5 over it)
ENVELOPE_NAMESPACE = uuid.UUID("5b7f0c8e-6a51-4d4e-9a57-2f1d0b9c3e21")
EVENT_TYPE = "ticket.created"


def envelope_id(target: str, ticket_id: str) -> str:
    """Deterministic envelope id for (target, ticket): a UUIDv5."""
    return str(uuid.uuid5(ENVELOPE_NAMESPACE, f"{target}\n{ticket_id}"))


def build_envelope(
    ticket: dict[str, Any],
    *,
    target: str,
    webhook_id: str = "",
    seller_id: str | None = None,
    mode: str = "prod",
) -> dict[str, Any]:
    """Wrap a raw Vivenu ticket as a ``ticket.created`` webhook event.

    ``seller_id`` overrides the ticket's own ``sellerId`` when given.
    """
    ticket_id = str(ticket.get("_id", ""))
    return {
        "id": envelope_id(target, ticket_id),
        "sellerId": seller_id if seller_id else ticket.get("sellerId", ""),
        "webhookId": webhook_id,
        "type": EVENT_TYPE,
        "mode": mode,
        "data": {"ticket": ticket},
    }


def encode(envelope: dict[str, Any]) -> bytes:
    """The exact bytes sent (compact UTF-8 JSON, key order kept)."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
