"""The `boxoffice` command: global options, command groups, errors → one line + exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from boxoffice import __version__
from boxoffice.cli import book, demo, doctor, sandbox, sync, track, watch
from boxoffice.cli.context import AppContext
from boxoffice.core.logging import configure, json_mode, redact_text
from boxoffice.errors import EXIT_INTERRUPTED as errors_exit_interrupted
from boxoffice.errors import BoxofficeError

EXIT_INTERRUPTED = errors_exit_interrupted

app = typer.Typer(
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
    verbose: Annotated[int, typer.Option("-v", "--verbose", count=True, help="More output.")] = 0,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Only warnings and errors.")] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Global options apply to every command."""
    verbosity = -1 if quiet else verbose
    configure(json=log_json, verbosity=verbosity)
    ctx.obj = AppContext(config_file=config, log_json=log_json, verbosity=verbosity)


app.add_typer(watch.app, name="watch")
app.add_typer(book.app, name="book")
app.add_typer(sync.app, name="sync")
app.add_typer(track.app, name="track")
app.add_typer(sandbox.app, name="sandbox")
app.command("doctor")(doctor.doctor)
app.command("demo")(demo.demo)


def run() -> None:
    """Console-script entry point: one line per error, documented exit codes."""
    try:
        code = app(standalone_mode=False)
    except BoxofficeError as exc:
        line = redact_text(exc.one_line())
        if json_mode():  # machines asked for JSON lines: the error is one too
            record = {"level": "error", "event": line, "error": type(exc).__name__}
            print(json.dumps({**record, "exit_code": exc.exit_code}), file=sys.stderr)
        else:
            print(f"error: {line}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as exc:  # usage errors (typer's vendored click) and the unexpected
        show = getattr(exc, "show", None)
        if isinstance(exc, typer.TyperException) and callable(show):
            show()
            sys.exit(int(getattr(exc, "exit_code", 2)))
        raise
    # with standalone_mode=False click *returns* the code of typer.Exit instead of exiting
    sys.exit(code if isinstance(code, int) else 0)
