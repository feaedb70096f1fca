"""The library of one machine: an SQLite index over the session folders in the data dir.

The folders stay the truth (events.jsonl, result.json, recording.wav); the index is rebuilt from them by
`sync()` and is safe to delete. When the data dir cannot be written (a read-only mount, another user's
folder) the index lives in memory for the command's lifetime: reading works, nothing is written.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from voice_trainer.errors import SessionError
from voice_trainer.session_folder import RECORDING_FILE
from voice_trainer.settings import ensure_private_dir, sessions_dir
from voice_trainer.trainer.library.folders import index_folders, read_folder
from voice_trainer.trainer.library.interface import Library, LibraryError, Recordings, SessionSummary, SyncReport
from voice_trainer.trainer.library.migrations import migrate
from voice_trainer.trainer.library.sqlite import INDEX_FILE, MIGRATIONS, SQLiteDatabase


class FolderRecordings(Recordings):
    """Each session's recording is in its own folder; removing a session removes its folder."""

    folders_are_truth = True

    def __init__(self, root: Path):
        self.root = root

    def path(self, summary: SessionSummary) -> Path | None:
        if summary.folder is None:
            return None
        path = summary.folder / RECORDING_FILE
        return path if path.is_file() else None

    def remove(self, summary: SessionSummary) -> None:
        if summary.folder is None:
            return
        folder = summary.folder.resolve()
        if folder.parent != self.root.resolve():
            raise OSError(f"{folder} is not inside {self.root}; refusing to delete it")
        if folder.exists():
            shutil.rmtree(folder)


class LocalLibrary(Library):
    """`LocalLibrary(data_dir)`: the sessions under <data_dir>/sessions, indexed in <data_dir>/library.sqlite3."""

    def __init__(self, data_dir: Path, station: str = ""):
        self.data_dir = Path(data_dir)
        self.sessions_dir = sessions_dir(self.data_dir)
        self.index_path = self.data_dir / INDEX_FILE
        self.station = station
        self.read_only = not _writable(self.data_dir)
        if not self.read_only:
            ensure_private_dir(self.data_dir)
        db = self._open()
        super().__init__(db, FolderRecordings(self.sessions_dir))

    def _open(self) -> SQLiteDatabase:
        if not self.read_only:
            db = SQLiteDatabase(self.index_path)
            try:
                migrate(db, MIGRATIONS)
                return db
            except LibraryError as err:
                db.close()
                if "readonly" not in str(err) and "read-only" not in str(err):
                    raise
                self.read_only = True  # a read-only index file in a writable folder
            except sqlite3.DatabaseError:
                db.close()
                raise
        db = SQLiteDatabase(None)
        migrate(db, MIGRATIONS)
        return db

    def sync(self) -> SyncReport:
        """Index new or changed session folders, forget vanished ones; damaged folders are listed as damaged."""
        return index_folders(self, self.sessions_dir, write=not self.read_only, station=self.station)

    def index(self, folder: Path) -> SessionSummary:
        """(Re-)index one session folder."""
        read = read_folder(folder, write=not self.read_only, station=self.station)
        self.put(read.record, replace=True)
        return read.record.summary

    def get(self, key: str) -> SessionSummary:
        """As Library.get; a session recorded since the last sync is found too (a prefix must be unique
        among all the folders, not only those indexed so far)."""
        try:
            found = super().get(key)
        except SessionError:
            found = None
        if found is None or found.session_id != key.strip():
            self.sync()
            return super().get(key)
        return found

    def delete(self, key: str, reason: str = "deleted") -> SessionSummary:
        if self.read_only:
            raise SessionError(f"{self.data_dir}: the data dir is read-only; nothing can be deleted from it")
        return super().delete(key, reason)


def _writable(data_dir: Path) -> bool:
    """False when the data dir exists but cannot be written (a missing one is created)."""
    probe = data_dir
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return os.access(probe, os.W_OK | os.X_OK) and (
        not (data_dir / INDEX_FILE).exists() or os.access(data_dir / INDEX_FILE, os.W_OK)
    )
