"""The simulators ``boxoffice sandbox`` knows, by name.

Each simulator module exposes ``create_app(seed: int = 0) -> ASGI app``; the app keeps its
control surface under ``/_sandbox/…`` (documented in the module) so scripts can drive it.
"""

from __future__ import annotations

import importlib
from typing import Any

from boxoffice.errors import ConfigurationError

SIMULATORS: dict[str, str] = {
    "pretix-marketplace": "boxoffice.sandbox.pretix_marketplace",
    "booked3": "boxoffice.sandbox.booked3",
    "librebooking": "boxoffice.sandbox.librebooking",
    "vivenu": "boxoffice.sandbox.vivenu",
    "webhook": "boxoffice.sandbox.webhook_receiver",
    "listings": "boxoffice.sandbox.listings",
    "monitor": "boxoffice.sandbox.monitor",
}


def create(name: str, seed: int = 0) -> Any:
    """Create the named simulator's ASGI app."""
    module_name = SIMULATORS.get(name)
    if module_name is None:
        raise ConfigurationError(
            f"unknown simulator {name!r}", hint=f"choose from {', '.join(SIMULATORS)}"
        )
    module = importlib.import_module(module_name)
    return module.create_app(seed=seed)
