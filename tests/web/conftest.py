"""Fixtures for the review site: real recorded sessions in a library (this machine's SQLite one, or a
centre's PostgreSQL one with its shared recordings store), and the app over it in-process."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests.fixtures.sessions import SHORT_CALL, record_session
from voice_trainer.session_folder import SessionFolder
from voice_trainer.trainer.library import LocalLibrary
from voice_trainer.web.app import create_app
from voice_trainer.web.settings import CENTRE, ReviewSettings

PORT = 8765
KEY = "the-key-printed-with-the-address"
BASE = f"http://127.0.0.1:{PORT}"
ACCOUNTS = {"anna": ("trainee", "anna-pass-1"), "boris": ("trainee", "boris-pass-1"),
            "tanya": ("trainer", "tanya-pass-1")}


@dataclass(frozen=True)
class Sessions:
    """A data dir with anna's voiced call (with a recording) and Boris's text call."""

    data_dir: Path
    anna: str
    boris: str


@pytest.fixture(scope="session")
def recorded_sessions(tmp_path_factory) -> Sessions:
    data_dir = tmp_path_factory.mktemp("review") / "data"
    data_dir.mkdir()
    anna = record_session(data_dir, SHORT_CALL, seed=2, trainee="anna", voiced=True)
    boris = record_session(data_dir, SHORT_CALL, seed=7, trainee="Boris")
    return Sessions(data_dir, anna.name, boris.name)


@pytest.fixture
def sessions(recorded_sessions, tmp_path) -> Sessions:
    """A private copy: tests may correct and re-score its sessions."""
    data_dir = tmp_path / "data"
    shutil.copytree(recorded_sessions.data_dir, data_dir)
    return Sessions(data_dir, recorded_sessions.anna, recorded_sessions.boris)


@pytest.fixture
def local_library(sessions):
    with LocalLibrary(sessions.data_dir) as library:
        library.sync()
        yield library


def local_app(library, **settings):
    return create_app(ReviewSettings(port=PORT, **settings), library, key=KEY)


@pytest.fixture
def anonymous(local_library) -> TestClient:
    """A browser that has not opened the printed address."""
    return TestClient(local_app(local_library), base_url=BASE)


@pytest.fixture
def browser(anonymous) -> TestClient:
    """A browser that opened the printed address once (and so holds the cookie)."""
    assert anonymous.get(f"/?token={KEY}").status_code == 200
    return anonymous


# --- centre mode -----------------------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def centre_library(request, sessions, tmp_path):
    """A library with accounts anna and boris (trainees) and tanya (trainer) holding the sessions: this
    machine's (centre mode on one machine) or a centre's (PostgreSQL, sessions published from a station)."""
    if request.param == "sqlite":
        library = LocalLibrary(sessions.data_dir)
        library.sync()
    else:
        from voice_trainer.trainer.library.centre import CentreLibrary
        from voice_trainer.trainer.publish import publish_folder

        share = tmp_path / "share"
        share.mkdir()
        library = CentreLibrary(request.getfixturevalue("postgres_url"), share)
        for session_id in (sessions.anna, sessions.boris):
            publish_folder(library, SessionFolder(sessions.data_dir / "sessions" / session_id), "station-1")
    for name, (role, password) in ACCOUNTS.items():
        library.accounts.add(name, role, password)
    yield library
    library.close()
