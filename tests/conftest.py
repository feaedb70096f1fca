"""Shared fixtures. Fixture modules live in tests/fixtures/ and are loaded as plugins."""

import pytest

pytest_plugins = [
    "tests.fixtures.speech",
    "tests.fixtures.headset",
    "tests.fixtures.sessions",
    "tests.fixtures.golden",
    "tests.fixtures.postgres",
]


@pytest.fixture
def data_dir(tmp_path):
    """A fresh, empty voice_trainer data dir."""
    path = tmp_path / "data"
    path.mkdir()
    return path
