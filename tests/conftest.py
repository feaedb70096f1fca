"""Shared fixtures. Fixture modules live in tests/fixtures/ and are loaded as plugins."""

import atexit
import os
import shutil
import tempfile

import pytest

# The customer's rendered lines are cached in the user cache dir (speech/line_cache.py): the tests, and the
# practice processes they start, keep theirs in a throw-away one instead of the real user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="vt-test-cache-")
atexit.register(shutil.rmtree, os.environ["XDG_CACHE_HOME"], ignore_errors=True)

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
