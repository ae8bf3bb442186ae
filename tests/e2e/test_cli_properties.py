"""Every command, fed generated option values, ends with a documented exit code and no traceback.

Values: huge, negative, non-finite, empty, non-UTF-8-ish text, paths that are directories.
Network targets are a closed 127.0.0.1 port and every wait is instant, so a run stays bounded.
Commands that serve or schedule until stopped get the flag that bounds them (`--once`,
`--now`), or are left out (the sandbox server, the demo, the schedulers) — their options are
covered by the settings validation the other commands share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.e2e._cli import run_cli

from boxoffice.cli import main
from boxoffice.errors import exit_codes

CLOSED = "http://127.0.0.1:9"
LEFT_OUT = {("sandbox",), ("demo",), ("track", "run"), ("track", "start-scheduler")}
BOUNDED = {("watch", "run"): ["--once"], ("book", "run"): ["--now"]}
DOCUMENTED = {code for code, _, _ in exit_codes()} | {0}


def _commands() -> list[tuple[tuple[str, ...], Any]]:
    root = typer.main.get_command(main.app)
    out: list[tuple[tuple[str, ...], Any]] = []

    def walk(cmd: Any, path: tuple[str, ...]) -> None:
        if hasattr(cmd, "list_commands"):
            ctx = cmd.make_context(cmd.name or "boxoffice", [], resilient_parsing=True)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), (*path, name))
        elif path not in LEFT_OUT:
            out.append((path, cmd))

    walk(root, ())
    return out


COMMANDS = _commands()

NASTY_TEXT = st.sampled_from(
    ["", " ", "99999999", "-5", "+99999999", "inf", "nan", "-inf", "1e308", "0", "\x00",
     "caf\udce9", "100000000 weeks", "../../etc", "%", "{}", "a" * 300, CLOSED]
)  # fmt: skip
NASTY_NUMBER = st.sampled_from(["0", "-1", "99999999999", "inf", "nan", "-0.0", "1e400", "x"])


def _value(param: Any, directory: Path) -> st.SearchStrategy[str]:
    desc = param.type_descriptor  # typer's own description of the annotated type
    kind = param.bare_type().lower()
    if "int" in kind or "float" in kind:
        return NASTY_NUMBER | NASTY_TEXT
    if desc.is_path:
        return st.sampled_from([str(directory), str(directory / "missing.csv"), ""])
    return NASTY_TEXT


@pytest.mark.parametrize(("path", "cmd"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_generated_values_end_in_a_documented_exit_without_traceback(
    path: tuple[str, ...],
    cmd: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOXOFFICE_DB_URL", "")
    options = [p for p in cmd.params if p.param_type_name == "option" and not p.is_flag]
    options = [p for p in options if p.opts[0] not in ("--help",)]
    arguments = [p for p in cmd.params if p.param_type_name == "argument"]
    picks = st.fixed_dictionaries(
        {p.opts[0]: st.none() | _value(p, tmp_path) for p in options},
    )
    args_values = st.tuples(*(_value(a, tmp_path) for a in arguments))

    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,  # the same examples on every run and machine
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(chosen=picks, positional=args_values)
    def check(chosen: dict[str, str | None], positional: tuple[str, ...]) -> None:
        argv = [*path, *BOUNDED.get(path, [])]
        for opt, value in chosen.items():
            if value is not None:
                argv += [opt, value]
        argv += [str(a) for a in positional]
        result = run_cli(capsys, monkeypatch, *argv, instant=True)
        assert "Traceback" not in result.text, argv
        assert f"{tmp_path} does not exist" not in result.text, argv  # a folder "is a directory"
        assert result.code in DOCUMENTED, (argv, result.code, result.stderr[-400:])

    check()
