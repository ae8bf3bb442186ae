"""How `--help` shows an option's value: nothing for flags, the metavar when one is given.

Typer 0.29 prints a type placeholder after every option — ``--quiet <bool>``, ``-v <int>``
for a counting flag, ``--notify <list[str]>`` — which reads as if a value were expected. Flags
and counters take none, a repeatable option takes one value each time (``<str>``), and an
option with a ``metavar`` (``NAME=PORT``) shows that instead.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperOption

_typer_display = TyperOption.display_type_rich


def _display(self: TyperOption, ctx: Any) -> str | None:
    if self.is_flag or self.count:
        return None
    if self.metavar:
        return self.metavar
    label = _typer_display(self, ctx)
    if label and label.startswith("<list[") and label.endswith("]>"):  # a repeatable option:
        return f"<{label[6:-2]}>"  # one value per use
    return label


def install() -> None:
    """Use :func:`_display` for every option's type column (idempotent)."""
    TyperOption.display_type_rich = _display  # type: ignore[method-assign]
