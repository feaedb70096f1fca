"""The SQLite backend: the library of one machine, a file in the data dir. All its SQL is here.

Several processes may write at once (a practice run finishing while the review site reads), so the file
runs in WAL mode with a busy timeout and every write is one short IMMEDIATE transaction.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator

from voice_trainer.trainer.library.interface import ROW_COLUMNS, SUMMARY_COLUMNS, Database, LibraryError
from voice_trainer.trainer.library.migrations import Migration

INDEX_FILE = "library.sqlite3"
BUSY_TIMEOUT_MS = 15000

_SESSIONS = """
CREATE TABLE sessions (
    session_id TEXT PRIMARY KEY,
    folder TEXT,
    trainee TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_utc TEXT NOT NULL,
    scenario TEXT NOT NULL,
    lang TEXT NOT NULL,
    persona TEXT NOT NULL,
    policy TEXT NOT NULL,
    mode TEXT NOT NULL,
    outcome TEXT NOT NULL,
    score INTEGER,
    success INTEGER,
    interrupted INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    items TEXT NOT NULL,
    has_recording INTEGER NOT NULL,
    damage TEXT NOT NULL DEFAULT '',
    station TEXT NOT NULL DEFAULT '',
    recording_name TEXT,
    recording_sha256 TEXT,
    recording_bytes INTEGER,
    events TEXT NOT NULL,
    result TEXT,
    signature TEXT,
    updated_at TEXT NOT NULL
)"""

MIGRATIONS = (
    Migration(1, "sessions with their timeline and result, accounts, audit log, deleted ids", (
        # The index before versioned schemas held only rows; it is rebuilt from the session folders.
        "DROP TABLE IF EXISTS sessions",
        _SESSIONS,
        "CREATE INDEX sessions_started ON sessions (started_utc, session_id)",
        "CREATE INDEX sessions_trainee ON sessions (trainee, started_utc, session_id)",
        "CREATE INDEX sessions_folder ON sessions (folder)",
        """CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('trainer', 'trainee')),
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL,
            changed_at TEXT NOT NULL
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE TABLE deleted_sessions (session_id TEXT PRIMARY KEY, deleted_at TEXT NOT NULL, reason TEXT NOT NULL)",
    )),
)


class SQL:
    """Every statement the library runs on SQLite."""

    LOCK_SCHEMA = "SELECT 1"  # BEGIN IMMEDIATE already holds the write lock
    CREATE_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version "
                            "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
    SCHEMA_VERSION = "SELECT max(version) FROM schema_version"
    RECORD_VERSION = "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)"

    _VALUES = ", ".join("?" * len(ROW_COLUMNS.split(",")))
    INSERT_SESSION = f"INSERT INTO sessions ({ROW_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (session_id) DO NOTHING"
    UPSERT_SESSION = f"INSERT OR REPLACE INTO sessions ({ROW_COLUMNS}) VALUES ({_VALUES})"
    GET_SESSION = f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE session_id = ?"
    GET_RECORD = f"SELECT {SUMMARY_COLUMNS}, events, result FROM sessions WHERE session_id = ?"
    LOCK_SESSION = GET_RECORD  # inside BEGIN IMMEDIATE the row cannot change under us
    LOCK_EVENTS = "SELECT events FROM sessions WHERE session_id = ?"
    SET_EVENTS = "UPDATE sessions SET events = ?, updated_at = ? WHERE session_id = ?"
    SET_RESULT = ("UPDATE sessions SET result = ?, outcome = ?, score = ?, success = ?, interrupted = ?, items = ?, "
                  "updated_at = ? WHERE session_id = ?")
    SIGNATURES = "SELECT folder, session_id, signature FROM sessions"
    OLDER_THAN = f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE started_utc < ? ORDER BY started_utc, session_id"
    TRAINEES = "SELECT DISTINCT trainee FROM sessions ORDER BY trainee"
    DELETE_SESSION = "DELETE FROM sessions WHERE session_id = ?"
    ADD_TOMBSTONE = "INSERT OR REPLACE INTO deleted_sessions (session_id, deleted_at, reason) VALUES (?, ?, ?)"
    IS_DELETED = "SELECT 1 FROM deleted_sessions WHERE session_id = ?"

    GET_ACCOUNT = "SELECT name, role, password_hash FROM accounts WHERE name = ?"
    ADD_ACCOUNT = "INSERT INTO accounts (name, role, password_hash, created_at, changed_at) VALUES (?, ?, ?, ?, ?)"
    SET_PASSWORD = "UPDATE accounts SET password_hash = ?, changed_at = ? WHERE name = ?"
    REMOVE_ACCOUNT = "DELETE FROM accounts WHERE name = ?"
    LIST_ACCOUNTS = "SELECT name, role FROM accounts ORDER BY name"
    ADD_AUDIT = "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)"

    @staticmethod
    def _where(trainee: str | None, since: date | None, outcome: str | None) -> tuple[str, list]:
        clauses, params = [], []
        if trainee:
            clauses.append("trainee = ?")
            params.append(trainee)
        if since:
            clauses.append("substr(started_at, 1, 10) >= ?")  # the day on the station's own calendar
            params.append(since.isoformat())
        if outcome:
            clauses.append("outcome = ?")
            params.append(outcome)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    @classmethod
    def list_sessions(cls, trainee, since, outcome, offset: int, limit: int | None, newest_first: bool):
        where, params = cls._where(trainee, since, outcome)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {SUMMARY_COLUMNS} FROM sessions{where} ORDER BY started_utc {order}, session_id {order}"
        sql += " LIMIT ? OFFSET ?"
        params += [-1 if limit is None else limit, offset]
        return sql, tuple(params)

    @staticmethod
    def prefix_sessions(key: str, limit: int):
        # A range, not LIKE: LIKE ignores case in SQLite.
        sql = f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE session_id >= ? AND session_id < ? ORDER BY session_id LIMIT ?"
        return sql, (key, key + "\U0010ffff", limit)

    @classmethod
    def count_sessions(cls, trainee, since, outcome):
        where, params = cls._where(trainee, since, outcome)
        return f"SELECT count(*) FROM sessions{where}", tuple(params)

    @staticmethod
    def audit_entries(actor: str | None, target: str | None, limit: int):
        clauses, params = [], []
        if actor:
            clauses.append("actor = ?")
            params.append(actor)
        if target:
            clauses.append("target = ?")
            params.append(target)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return f"SELECT at, actor, action, target, detail FROM audit{where} ORDER BY id DESC LIMIT ?", (*params, limit)


class _Tx:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def run(self, sql: str, params: tuple = ()) -> int:
        return self.conn.execute(sql, params).rowcount

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.conn.execute(sql, params).fetchall()

    def one(self, sql: str, params: tuple = ()) -> tuple | None:
        return self.conn.execute(sql, params).fetchone()


class SQLiteDatabase(Database):
    """One SQLite file (private to its user), or an in-memory database when `path` is None."""

    sql = SQL

    def __init__(self, path: Path | None):
        self.path = path
        self.location = str(path) if path is not None else "the session folders (read-only, no index)"
        self._lock = threading.RLock()  # one connection, shared by the threads of a server
        self._conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        path = self.path
        try:
            if path is None:
                return sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            if not path.exists():
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
            conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Switching to WAL takes an exclusive lock that does not always wait on the busy handler.
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as err:
            if _busy(err):
                raise LibraryError(f"{path}: the session index stayed busy ({err}); another voice-trainer is "
                                   "writing, try again") from None
            raise LibraryError(f"{path}: the session index cannot be opened ({err}); check permissions") from None
        except sqlite3.DatabaseError as err:
            raise LibraryError(f"{path}: the session index cannot be opened ({err}); delete the file, it is "
                               "rebuilt from the session folders") from None
        except OSError as err:
            raise LibraryError(f"{path}: the session index cannot be created ({err.strerror}); check permissions") from None
        for extra in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            try:
                extra.chmod(0o600)
            except OSError:
                pass
        return conn

    @contextmanager
    def write(self) -> Iterator[_Tx]:
        with self._lock:
            try:
                _retry(lambda: self._conn.execute("BEGIN IMMEDIATE"))
            except sqlite3.DatabaseError as err:
                raise self._error(err) from None
            try:
                yield _Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            try:
                self._conn.execute("COMMIT")
            except sqlite3.DatabaseError as err:
                self._conn.execute("ROLLBACK")
                raise self._error(err) from None

    @contextmanager
    def read(self) -> Iterator[_Tx]:
        with self._lock:
            try:
                yield _Tx(self._conn)
            except sqlite3.DatabaseError as err:
                raise self._error(err) from None

    def _error(self, err: sqlite3.DatabaseError) -> LibraryError:
        return LibraryError(f"{self.location}: the session index cannot be used ({err}); if it persists, delete "
                            "the file, it is rebuilt from the session folders")

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _busy(err: sqlite3.OperationalError) -> bool:
    return "locked" in str(err) or "busy" in str(err)


def _retry(action, attempts: int = 50):
    for n in range(attempts):
        try:
            return action()
        except sqlite3.OperationalError as err:
            if not _busy(err) or n == attempts - 1:
                raise
            time.sleep(0.05)  # another process holds the lock; not waiting on behaviour of our own
