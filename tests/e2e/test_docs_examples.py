"""Every `boxoffice …` example in the README and the docs names a real command and real options.

The examples are read from the code blocks of README.md and docs/*.md (continuation lines
joined); each one's command path must exist and `--help` on it must work, and every long
option it uses must be an option of that command (or a global one).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import typer.main
from typer.testing import CliRunner

from boxoffice.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _examples() -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for page in PAGES:
        in_code = False
        pending = ""
        for line in page.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("```"):
                in_code, pending = not in_code, ""
                continue
            if not in_code:
                continue
            text = pending + line.strip()
            if text.endswith("\\"):
                pending = text[:-1] + " "
                continue
            pending = ""
            text = re.sub(r"^\$\s+", "", text)
            text = re.sub(r"^(\w+=\S+\s+)+", "", text)  # VAR=value boxoffice …
            if text.startswith("boxoffice "):
                found.append((page.name, text.split(" #")[0].split(" | ")[0].strip()))
    return found


EXAMPLES = _examples()


def _command(argv: list[str]) -> tuple[Any, list[str], set[str]]:
    """(command, its path, long options allowed) for an example's argv."""
    root = typer.main.get_command(app)
    allowed = {o for p in root.params for o in p.opts if o.startswith("--")}
    takes_value = {
        o for p in root.params for o in p.opts if not (getattr(p, "is_flag", False) or p.count)
    }
    cmd: Any = root
    path: list[str] = []
    rest = list(argv)
    while rest and hasattr(cmd, "list_commands"):
        word = rest.pop(0)
        if word.startswith("-"):  # a global option, before the command
            if word in takes_value and rest:
                rest.pop(0)
            continue
        ctx = cmd.make_context(cmd.name or "boxoffice", [], resilient_parsing=True)
        sub = cmd.get_command(ctx, word)
        if sub is None:
            pytest.fail(f"`boxoffice {' '.join(argv)}`: no command {word!r} after {path}")
        cmd, path = sub, [*path, word]
    allowed |= {o for p in cmd.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}
    return cmd, path, allowed


def test_the_docs_have_examples() -> None:
    assert len(EXAMPLES) >= 30
    jobs = {shlex.split(e)[1] for _, e in EXAMPLES}
    assert {"watch", "book", "sync", "track", "demo", "doctor", "sandbox"} <= jobs


@pytest.mark.parametrize(("page", "example"), EXAMPLES, ids=[e for _, e in EXAMPLES])
def test_example_names_a_real_command_and_real_options(page: str, example: str) -> None:
    argv = shlex.split(example)[1:]
    _, path, allowed = _command(argv)
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, f"{page}: `boxoffice {' '.join(path)} --help` failed"
    used = {a.split("=")[0] for a in argv if a.startswith("--")}
    unknown = sorted(used - allowed)
    assert not unknown, f"{page}: `{example}` uses options the command lacks: {unknown}"


def test_the_readme_is_short_and_speaks_to_users() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 150
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        # (a vendored source tarball may be named: the page then says how to supply it)
        for word in ("DESIGN", "§", "the seed"):
            assert word not in text, f"{page.name} says {word!r}, which a user cannot look up"
