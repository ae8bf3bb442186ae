"""Fixtures of the pretix platform tests."""

from __future__ import annotations

import pytest
from pretix_pages import PageFactory, make_page


@pytest.fixture
def page() -> PageFactory:
    """Factory for real-structure marketplace pages."""
    return make_page
