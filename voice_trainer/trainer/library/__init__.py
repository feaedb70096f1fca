"""The session library: one interface (`Library`), two backends.

- `LocalLibrary(data_dir)`: this machine, an SQLite index over the session folders (the default).
- `CentreLibrary(url, store)`: a training centre, PostgreSQL for the rows and the timelines, a shared
  folder for the recordings; stations publish to it (see `voice_trainer.trainer.publish`).

`open_library(settings)` gives the one the settings ask for. The interface, the accounts and the audit
log are described in `interface.py` and docs/centre.md.
"""

from __future__ import annotations

from voice_trainer.trainer.library.export import EXPORT_COLUMNS, FORMATS, csv_cell, export_sessions, open_private
from voice_trainer.trainer.library.folders import read_folder, summarize
from voice_trainer.trainer.library.interface import (
    UNFINISHED,
    Account,
    AuditEntry,
    Library,
    LibraryError,
    RubricMark,
    SchemaTooNew,
    SessionRecord,
    SessionSummary,
    StoredRecording,
    SyncReport,
)
from voice_trainer.trainer.library.local import LocalLibrary
from voice_trainer.trainer.library.sqlite import INDEX_FILE



def open_library(settings) -> Library:
    """The library the settings ask for: the centre's when a database is set, else this machine's."""
    if settings.centre.enabled:
        from voice_trainer.trainer.library.centre import CentreLibrary

        return CentreLibrary(settings.centre.database, settings.centre.recordings,
                             connect_timeout_s=settings.centre.connect_timeout_s)
    return LocalLibrary(settings.data_dir, station=settings.centre.station)


__all__ = [
    "EXPORT_COLUMNS", "FORMATS", "INDEX_FILE", "UNFINISHED", "Account", "AuditEntry", "Library", "LibraryError",
    "LocalLibrary", "RubricMark", "SchemaTooNew", "SessionRecord", "SessionSummary", "StoredRecording",
    "SyncReport", "csv_cell", "export_sessions", "open_library", "open_private", "read_folder", "summarize",
]
