"""How the PostgreSQL store names its database in messages: never the password or query."""

from __future__ import annotations

import pytest

from boxoffice.jobs.track.store.postgres import describe_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://track:s3cret@db.internal:5432/prices",
            "postgresql://track:***@db.internal:5432/prices",
        ),
        (
            "postgresql://track@db/prices?sslmode=require&password=s3cret",
            "postgresql://track@db/prices",
        ),
        ("postgres://db.internal/prices", "postgres://db.internal/prices"),
        (
            "host=db.internal dbname=prices user=track password=s3cret",
            "PostgreSQL db.internal:5432/prices",
        ),
        ("dbname=prices", "PostgreSQL localhost:5432/prices"),
    ],
)
def test_describe_url_hides_the_password(url: str, shown: str) -> None:
    assert describe_url(url) == shown
    assert "s3cret" not in describe_url(url)
