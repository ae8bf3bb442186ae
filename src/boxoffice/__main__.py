"""`python -m boxoffice` runs the CLI."""

from boxoffice.cli.main import run

run()
