"""The centre's library: rows, timelines, results, accounts and the audit log in PostgreSQL,
recordings in the shared store. Stations publish into it; every machine configured for it reads it."""

from __future__ import annotations

from pathlib import Path

from voice_trainer.trainer.library.interface import Library
from voice_trainer.trainer.library.migrations import migrate
from voice_trainer.trainer.library.postgres import MIGRATIONS, PostgresDatabase
from voice_trainer.trainer.library.store import RecordingStore


class CentreLibrary(Library):
    """`CentreLibrary(url, recordings_dir)`: connects (within the timeout) and brings the schema up to date."""

    def __init__(self, url: str, recordings: Path, *, connect_timeout_s: float = 3.0, pool_min: int = 1,
                 pool_max: int = 4):
        db = PostgresDatabase(url, connect_timeout_s, pool_min, pool_max)
        try:
            migrate(db, MIGRATIONS)
        except BaseException:
            db.close()
            raise
        self.store = RecordingStore(recordings)
        super().__init__(db, self.store)
