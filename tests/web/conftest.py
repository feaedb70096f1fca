"""Fixtures for the review site: a library with real recorded sessions, the app in local mode in-process."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.fixtures.sessions import SHORT_CALL, record_session
from voice_trainer.web.app import create_app
from voice_trainer.web.settings import ReviewSettings

PORT = 8765
KEY = "the-key-printed-with-the-address"


@dataclass(frozen=True)
class Library:
    """A data dir with anna's voiced call (with a recording) and Boris's text call."""

    data_dir: Path
    anna: str
    boris: str


@pytest.fixture(scope="session")
def recorded_library(tmp_path_factory) -> Library:
    data_dir = tmp_path_factory.mktemp("review") / "data"
    data_dir.mkdir()
    anna = record_session(data_dir, SHORT_CALL, seed=2, trainee="anna", voiced=True)
    boris = record_session(data_dir, SHORT_CALL, seed=7, trainee="Boris")
    return Library(data_dir, anna.name, boris.name)


@pytest.fixture
def library(recorded_library, tmp_path) -> Library:
    """A private copy: tests may correct and re-score its sessions."""
    data_dir = tmp_path / "data"
    shutil.copytree(recorded_library.data_dir, data_dir)
    return Library(data_dir, recorded_library.anna, recorded_library.boris)


def local_app(data_dir: Path, **settings):
    return create_app(ReviewSettings(data_dir=data_dir, port=PORT, **settings), key=KEY)


@pytest.fixture
def anonymous(library) -> TestClient:
    """A browser that has not opened the printed address."""
    return TestClient(local_app(library.data_dir), base_url=f"http://127.0.0.1:{PORT}")


@pytest.fixture
def browser(anonymous) -> TestClient:
    """A browser that opened the printed address once (and so holds the cookie)."""
    assert anonymous.get(f"/?token={KEY}").status_code == 200
    return anonymous


# --- centre mode: accounts and the audit log -----------------------------------------------------------
# Until the centre library's accounts and audit log are merged: the same API, held in memory.


@dataclass(frozen=True)
class _Account:
    name: str
    role: str


@dataclass(frozen=True)
class _Entry:
    at: str
    actor: str
    action: str
    target: str
    detail: str = ""


class _Accounts:
    def __init__(self):
        self._hashes: dict[str, tuple[str, bytes, bytes]] = {}

    def add(self, name, role, password):
        import hashlib, os
        salt = os.urandom(16)
        self._hashes[name] = (role, salt, hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1))
        return _Account(name, role)

    def remove(self, name):
        role = self._hashes.pop(name)[0]
        return _Account(name, role)

    def list(self):
        return [_Account(n, v[0]) for n, v in sorted(self._hashes.items())]

    def verify(self, name, password):
        import hashlib, hmac
        found = self._hashes.get(name)
        if found is None:
            return None
        role, salt, digest = found
        ok = hmac.compare_digest(hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1), digest)
        return _Account(name, role) if ok else None


class _Audit:
    def __init__(self):
        self._entries: list[_Entry] = []

    def record(self, actor, action, target, detail=""):
        from datetime import datetime, timezone
        entry = _Entry(datetime.now(timezone.utc).isoformat(), actor, action, target, detail)
        self._entries.append(entry)
        return entry

    def entries(self, limit=100):
        return list(reversed(self._entries))[:limit]


@pytest.fixture
def centre_store(library):
    return _Accounts(), _Audit()
