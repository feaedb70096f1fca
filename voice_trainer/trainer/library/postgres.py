"""The PostgreSQL backend: a training centre's library, shared by every station. All its SQL is here.

psycopg 3 with a connection pool (psycopg-pool): a command line uses one connection, the review site a
few. A database that cannot be reached within the connect timeout is one `LibraryError`, never a hang.
"""

from __future__ import annotations

import logging
import math
import threading
from contextlib import contextmanager
from datetime import date
from typing import Iterator

from voice_trainer.config import redact
from voice_trainer.trainer.library.interface import ROW_COLUMNS, SUMMARY_COLUMNS, Database, LibraryError
from voice_trainer.trainer.library.migrations import Migration

# The pool reports failed connections through logging; the user gets our one line instead.
logging.getLogger("psycopg").addHandler(logging.NullHandler())
logging.getLogger("psycopg").propagate = False

_MIGRATION_LOCK = 7_246_001  # pg_advisory_xact_lock key: one migrating station at a time

MIGRATIONS = (
    Migration(1, "sessions with their timeline and result, accounts, audit log, deleted ids", (
        """CREATE TABLE sessions (
            session_id TEXT COLLATE "C" PRIMARY KEY,
            folder TEXT,
            trainee TEXT NOT NULL,
            started_at TEXT NOT NULL,
            started_utc TIMESTAMPTZ NOT NULL,
            scenario TEXT NOT NULL,
            lang TEXT NOT NULL,
            persona TEXT NOT NULL,
            policy TEXT NOT NULL,
            mode TEXT NOT NULL,
            outcome TEXT NOT NULL,
            score INTEGER,
            success BOOLEAN,
            interrupted BOOLEAN NOT NULL,
            duration_s DOUBLE PRECISION NOT NULL,
            items TEXT NOT NULL,
            has_recording BOOLEAN NOT NULL,
            damage TEXT NOT NULL DEFAULT '',
            station TEXT NOT NULL DEFAULT '',
            recording_name TEXT,
            recording_sha256 TEXT,
            recording_bytes BIGINT,
            events TEXT NOT NULL,
            result TEXT,
            signature TEXT,
            updated_at TIMESTAMPTZ NOT NULL
        )""",
        "CREATE INDEX sessions_started ON sessions (started_utc, session_id)",
        "CREATE INDEX sessions_trainee ON sessions (trainee, started_utc, session_id)",
        """CREATE TABLE accounts (
            name TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('trainer', 'trainee')),
            password_hash TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL,
            changed_at TIMESTAMPTZ NOT NULL
        )""",
        """CREATE TABLE audit (
            id BIGSERIAL PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT ''
        )""",
        "CREATE INDEX audit_target ON audit (target, id)",
        """CREATE TABLE deleted_sessions (
            session_id TEXT COLLATE "C" PRIMARY KEY,
            deleted_at TIMESTAMPTZ NOT NULL,
            reason TEXT NOT NULL
        )""",
    )),
)


class SQL:
    """Every statement the library runs on PostgreSQL."""

    LOCK_SCHEMA = f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"
    CREATE_VERSION_TABLE = ("CREATE TABLE IF NOT EXISTS schema_version "
                            "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)")
    SCHEMA_VERSION = "SELECT max(version) FROM schema_version"
    RECORD_VERSION = "INSERT INTO schema_version (version, description, applied_at) VALUES (%s, %s, %s)"

    _VALUES = ", ".join(["%s"] * len(ROW_COLUMNS.split(",")))
    _UPDATES = ", ".join(f"{c.strip()} = EXCLUDED.{c.strip()}" for c in ROW_COLUMNS.split(",")[1:])
    INSERT_SESSION = f"INSERT INTO sessions ({ROW_COLUMNS}) VALUES ({_VALUES}) ON CONFLICT (session_id) DO NOTHING"
    UPSERT_SESSION = (f"INSERT INTO sessions ({ROW_COLUMNS}) VALUES ({_VALUES}) "
                      f"ON CONFLICT (session_id) DO UPDATE SET {_UPDATES}")
    GET_SESSION = f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE session_id = %s"
    GET_RECORD = f"SELECT {SUMMARY_COLUMNS}, events, result FROM sessions WHERE session_id = %s"
    LOCK_SESSION = GET_RECORD + " FOR UPDATE"
    LOCK_EVENTS = "SELECT events FROM sessions WHERE session_id = %s FOR UPDATE"
    SET_EVENTS = "UPDATE sessions SET events = %s, updated_at = %s WHERE session_id = %s"
    SET_RESULT = ("UPDATE sessions SET result = %s, outcome = %s, score = %s, success = %s, interrupted = %s, "
                  "items = %s, updated_at = %s WHERE session_id = %s")
    SIGNATURES = "SELECT folder, session_id, signature FROM sessions WHERE false"  # the centre indexes no folders
    OLDER_THAN = f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE started_utc < %s ORDER BY started_utc, session_id"
    TRAINEES = "SELECT DISTINCT trainee FROM sessions ORDER BY trainee"
    DELETE_SESSION = "DELETE FROM sessions WHERE session_id = %s"
    ADD_TOMBSTONE = ("INSERT INTO deleted_sessions (session_id, deleted_at, reason) VALUES (%s, %s, %s) "
                     "ON CONFLICT (session_id) DO NOTHING")
    IS_DELETED = "SELECT 1 FROM deleted_sessions WHERE session_id = %s"

    GET_ACCOUNT = "SELECT name, role, password_hash FROM accounts WHERE name = %s"
    ADD_ACCOUNT = ("INSERT INTO accounts (name, role, password_hash, created_at, changed_at) "
                   "VALUES (%s, %s, %s, %s, %s)")
    SET_PASSWORD = "UPDATE accounts SET password_hash = %s, changed_at = %s WHERE name = %s"
    REMOVE_ACCOUNT = "DELETE FROM accounts WHERE name = %s"
    LIST_ACCOUNTS = "SELECT name, role FROM accounts ORDER BY name"
    ADD_AUDIT = "INSERT INTO audit (at, actor, action, target, detail) VALUES (%s, %s, %s, %s, %s)"

    @staticmethod
    def _where(trainee: str | None, since: date | None, outcome: str | None) -> tuple[str, list]:
        clauses, params = [], []
        if trainee:
            clauses.append("trainee = %s")
            params.append(trainee)
        if since:
            clauses.append("left(started_at, 10) >= %s")  # the day on the station's own calendar
            params.append(since.isoformat())
        if outcome:
            clauses.append("outcome = %s")
            params.append(outcome)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    @classmethod
    def list_sessions(cls, trainee, since, outcome, offset: int, limit: int | None, newest_first: bool):
        where, params = cls._where(trainee, since, outcome)
        order = "DESC" if newest_first else "ASC"
        sql = (f"SELECT {SUMMARY_COLUMNS} FROM sessions{where} ORDER BY started_utc {order}, session_id {order} "
               "LIMIT %s OFFSET %s")
        return sql, (*params, limit, offset)

    @classmethod
    def count_sessions(cls, trainee, since, outcome):
        where, params = cls._where(trainee, since, outcome)
        return f"SELECT count(*) FROM sessions{where}", tuple(params)

    @staticmethod
    def prefix_sessions(key: str, limit: int):
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return (f"SELECT {SUMMARY_COLUMNS} FROM sessions WHERE session_id LIKE %s ORDER BY session_id LIMIT %s",
                (escaped, limit))

    @staticmethod
    def audit_entries(actor: str | None, target: str | None, limit: int):
        clauses, params = [], []
        if actor:
            clauses.append("actor = %s")
            params.append(actor)
        if target:
            clauses.append("target = %s")
            params.append(target)
        where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
        return f"SELECT at, actor, action, target, detail FROM audit{where} ORDER BY id DESC LIMIT %s", (*params, limit)


class _Tx:
    def __init__(self, cursor):
        self.cursor = cursor

    def run(self, sql: str, params: tuple = ()) -> int:
        self.cursor.execute(sql, params)
        return self.cursor.rowcount

    def rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        self.cursor.execute(sql, params)
        return self.cursor.fetchall()

    def one(self, sql: str, params: tuple = ()) -> tuple | None:
        self.cursor.execute(sql, params)
        return self.cursor.fetchone()


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, given as a postgresql:// URL."""

    sql = SQL

    def __init__(self, url: str, connect_timeout_s: float = 3.0, min_size: int = 1, max_size: int = 4):
        import psycopg
        from psycopg_pool import ConnectionPool, PoolTimeout

        self._psycopg = psycopg
        self.location = redact(url)
        self.timeout_s = connect_timeout_s
        self._closed = threading.Event()
        self.pool = ConnectionPool(
            url, min_size=min_size, max_size=max_size, open=False, timeout=connect_timeout_s,
            kwargs={"connect_timeout": max(1, math.ceil(connect_timeout_s)), "application_name": "voice-trainer"},
            check=ConnectionPool.check_connection, name="voice-trainer",
        )
        try:
            self.pool.open(wait=True, timeout=connect_timeout_s)
        except (PoolTimeout, psycopg.Error):
            self.pool.close(timeout=0)
            raise LibraryError(self._unreachable(self._why(url))) from None

    def _why(self, url: str) -> str:
        """What the server said: the pool only reports that it gave up waiting."""
        try:
            self._psycopg.connect(url, connect_timeout=max(1, math.ceil(self.timeout_s))).close()
        except self._psycopg.Error as err:
            return _first_line(err)
        return f"no connection within {self.timeout_s:g} s"

    def _unreachable(self, why: str) -> str:
        return (f"the centre's database {self.location} cannot be reached ({why}); check the network and "
                "VOICE_TRAINER_DATABASE")

    @contextmanager
    def _connection(self) -> Iterator:
        from psycopg_pool import PoolTimeout

        try:
            with self.pool.connection(timeout=self.timeout_s) as conn:
                yield conn
        except PoolTimeout:
            raise LibraryError(self._unreachable(f"no connection within {self.timeout_s:g} s")) from None
        except self._psycopg.OperationalError as err:
            raise LibraryError(self._unreachable(_first_line(err))) from None
        except self._psycopg.Error as err:
            raise LibraryError(f"the centre's database {self.location} refused a change ({_first_line(err)})") from None

    @contextmanager
    def write(self) -> Iterator[_Tx]:
        with self._connection() as conn:
            with conn.transaction():
                with conn.cursor() as cursor:
                    yield _Tx(cursor)

    @contextmanager
    def read(self) -> Iterator[_Tx]:
        with self._connection() as conn:
            with conn.transaction():
                with conn.cursor() as cursor:
                    yield _Tx(cursor)

    def close(self) -> None:
        if not self._closed.is_set():
            self._closed.set()
            self.pool.close(timeout=1)


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    return text[0] if text else type(err).__name__
