"""``boxoffice ARGS`` through the console-script entry point (:func:`boxoffice.cli.main.run`),
in the test's own process: its exit code and what it printed, as a user would see them."""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass

import pytest

from boxoffice.cli import main
from boxoffice.core import pacing


@dataclass(frozen=True)
class CliRun:
    """What one in-process CLI run left behind."""

    returncode: int
    stdout: str
    stderr: str

    @property
    def code(self) -> int:
        return self.returncode

    @property
    def text(self) -> str:
        return self.stdout + self.stderr

    @property
    def errors(self) -> list[str]:
        """Every ``error:`` line on stderr."""
        return [line for line in self.stderr.splitlines() if line.startswith("error:")]

    @property
    def error(self) -> str:
        """The one ``error:`` line (fails when there is not exactly one)."""
        lines = self.errors
        assert len(lines) == 1, self.text
        return lines[0]


def run_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    instant: bool = False,
) -> CliRun:
    """Run ``boxoffice *args`` (``instant``: with every pacing wait made instant)."""
    capsys.readouterr()
    monkeypatch.setattr(sys, "argv", ["boxoffice", *args])
    code = 0
    with pacing.instant() if instant else contextlib.nullcontext():
        try:
            main.run()
        except SystemExit as exc:  # as the process would end: None 0, a number, else 1
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return CliRun(code, out.out, out.err)
