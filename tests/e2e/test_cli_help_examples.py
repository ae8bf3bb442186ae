"""Every command's --help shows at least one example (issue 7: CLI polish)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from boxoffice.cli.main import app


def _leaf_commands() -> Iterator[list[str]]:
    def walk(cmd: Any, path: list[str]) -> Iterator[list[str]]:
        if hasattr(cmd, "list_commands"):  # a group (the root one loads its groups lazily)
            ctx = cmd.make_context(cmd.name or "boxoffice", [], resilient_parsing=True)
            for name in cmd.list_commands(ctx):
                yield from walk(cmd.get_command(ctx, name), [*path, name])
        else:
            yield path

    yield from walk(typer.main.get_command(app), [])


COMMANDS = list(_leaf_commands())


def test_the_walk_finds_every_group() -> None:
    groups = {path[0] for path in COMMANDS}
    assert {"watch", "book", "sync", "track", "sandbox", "doctor", "demo"} <= groups


@pytest.mark.parametrize("path", COMMANDS, ids=[" ".join(p) for p in COMMANDS])
def test_help_has_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"`boxoffice {' '.join(path)} --help` shows no example"


@pytest.mark.parametrize("path", [[], *COMMANDS], ids=["root", *(" ".join(p) for p in COMMANDS)])
def test_flags_show_no_type_placeholder(path: list[str]) -> None:
    """A flag takes no value: its help line shows none (no `--json <bool>`, no `-v <int>`)."""
    result = CliRunner().invoke(app, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output
    assert "list[" not in result.output


def test_verbose_counts() -> None:
    result = CliRunner().invoke(app, ["-vv", "--version"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("boxoffice ")
