"""Test configuration for the C runtime tests: registers the `needs_cc` marker."""
from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "needs_cc: needs a C compiler (`cc`); skipped without one")
