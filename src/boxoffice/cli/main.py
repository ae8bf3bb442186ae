"""The `boxoffice` command: global options, command groups, errors → one line + exit code.

Command groups load when they are used: ``boxoffice --version`` imports none of them, and
``boxoffice watch …`` imports only the watch group (:class:`LazyGroup`).
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import typer.main
from typer.core import TyperGroup

from boxoffice.cli import _help
from boxoffice.errors import EXIT_INTERRUPTED as errors_exit_interrupted
from boxoffice.errors import BoxofficeError

EXIT_INTERRUPTED = errors_exit_interrupted
_help.install()
# httpx imports its own command-line client (click, rich's syntax and progress, pygments'
# lexers: ~1.5 MiB of a watch's memory) whenever it is imported; this process never runs it.
# A None entry makes that import fail, and httpx then leaves its `httpx.main` a stub.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

#: name → (module under boxoffice.cli, attribute): a Typer group, or a command function.
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "watch": ("watch", "app"),
    "book": ("book", "app"),
    "sync": ("sync", "app"),
    "track": ("track", "app"),
    "sandbox": ("sandbox", "serve"),
    "doctor": ("doctor", "doctor"),
    "demo": ("demo", "demo"),
}


class Interrupted(Exception):
    """Ctrl-C that no command handled itself, carried past Typer (which would turn the
    ``KeyboardInterrupt`` into a silent exit 130) to :func:`run`, which says so."""


class LazyGroup(TyperGroup):
    """The root group: a command's module is imported the first time the command is needed."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            raise Interrupted() from exc

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *LAZY_COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in self.commands or cmd_name not in LAZY_COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attr = LAZY_COMMANDS[cmd_name]
        target = getattr(importlib.import_module(f"boxoffice.cli.{module}"), attr)
        command: Any
        if isinstance(target, typer.Typer):
            command = typer.main.get_group(target)
        else:  # a function: the one command of a Typer of its own
            single = typer.Typer(rich_markup_mode="rich")
            single.command(cmd_name)(target)
            command = typer.main.get_command(single)
        command.name = cmd_name
        self.commands[cmd_name] = command
        return command


app = typer.Typer(
    cls=LazyGroup,
    name="boxoffice",
    help=(
        "Event tickets and bookable slots: watch a pretix resale marketplace, book a "
        "LibreBooking slot the instant it opens, sync Vivenu tickets to a webhook, track "
        "resale prices.\n\nTry: boxoffice demo"
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        from boxoffice import __version__

        typer.echo(f"boxoffice {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            help="TOML config file (default: user config dir).",
            envvar="BOXOFFICE_CONFIG",
        ),
    ] = None,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log JSON lines to stderr.")] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "-v",
            "--verbose",
            count=True,
            show_default=False,
            help="More output; repeat for more (-vv: debug).",
        ),
    ] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command."""
    from boxoffice.cli.context import AppContext
    from boxoffice.core.logging import configure

    verbosity = -1 if quiet else verbose
    configure(json=log_json, verbosity=verbosity)
    ctx.obj = AppContext(config_file=config, log_json=log_json, verbosity=verbosity)


def _input_error(exc: OverflowError | UnicodeDecodeError) -> str:
    """One line for input too large to compute with, or a file that is not UTF-8."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text (byte {exc.start}: {exc.reason}) — save it as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8 in.csv > out.csv) and run the command again"
        )
    return (
        f"a value is out of range ({exc}) — a date, a number of days or a bucket that far "
        "away cannot be computed; give a smaller one"
    )


def _tolerant_output() -> None:
    """Arguments that are not valid UTF-8 (bytes the shell passed through as surrogates) are
    echoed back escaped instead of failing the write of the very line that names them."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if callable(reconfigure):
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # a closed or unusual stream: leave it be
                pass


def run() -> None:
    """Console-script entry point: one line per error, documented exit codes."""
    _tolerant_output()
    try:
        code = app(standalone_mode=False)
    except BoxofficeError as exc:
        from boxoffice.core.logging import json_mode, redact_text

        line = redact_text(exc.one_line())
        if json_mode():  # machines asked for JSON lines: the error is one too
            record = {"level": "error", "event": line, "error": type(exc).__name__}
            print(json.dumps({**record, "exit_code": exc.exit_code}), file=sys.stderr)
        else:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, Interrupted):
        from boxoffice.core.logging import json_mode

        if json_mode():
            record = {"level": "warning", "event": "interrupted (Ctrl-C)"}
            print(json.dumps({**record, "exit_code": EXIT_INTERRUPTED}), file=sys.stderr)
        else:
            print("interrupted (Ctrl-C)", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except (OverflowError, UnicodeDecodeError) as exc:  # a value or a file no check caught
        print(f"error: {_input_error(exc)}", file=sys.stderr)
        sys.exit(2)
    except OSError as exc:  # the system refused a path (too long, a device, …): mapped
        from boxoffice.errors import map_exception

        mapped = map_exception(exc)
        print(f"error: {mapped.one_line()}", file=sys.stderr)
        sys.exit(mapped.exit_code)
    except ValueError as exc:
        if "null byte" not in str(exc):  # a path or value with a NUL in it; anything else
            raise  # is a bug to see in full
        print("error: a path or value contains a NUL character — remove it", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:  # usage errors (typer's vendored click) and the unexpected
        show = getattr(exc, "show", None)
        if isinstance(exc, typer.TyperException) and callable(show):
            show()
            sys.exit(int(getattr(exc, "exit_code", 2)))
        raise
    # with standalone_mode=False click *returns* the code of typer.Exit instead of exiting
    sys.exit(code if isinstance(code, int) else 0)
