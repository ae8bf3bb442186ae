"""`python -m boxoffice.cli` runs the CLI (same as the `boxoffice` console script)."""

from boxoffice.cli.main import run

run()
