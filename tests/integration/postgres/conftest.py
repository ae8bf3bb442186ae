"""Real-PostgreSQL fixtures for the tests in this folder (see pg_server.py)."""

from tests.integration.postgres.pg_server import postgres_server, postgres_url

__all__ = ["postgres_server", "postgres_url"]
