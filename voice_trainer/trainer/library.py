"""The session library: an SQLite index over the session folders, for listing, finding, deleting and exporting.

The folders stay the truth (events.jsonl, result.json); the index is a cache rebuilt by `sync()`.
Several processes may index at once (a practice run finishing while the review page syncs), so the
database runs in WAL mode with a busy timeout, and every write is one short IMMEDIATE transaction.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from voice_trainer.errors import SessionError, UsageError
from voice_trainer.events import SessionEnded, duration_s
from voice_trainer.session_folder import EVENTS_FILE, SessionFolder
from voice_trainer.settings import ensure_private_dir, sessions_dir

INDEX_FILE = "library.sqlite3"
BUSY_TIMEOUT_MS = 15000
UNFINISHED = "unfinished"  # outcome of a session folder without result.json

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    folder TEXT NOT NULL,
    trainee TEXT NOT NULL,
    started_at TEXT NOT NULL,
    scenario TEXT NOT NULL,
    lang TEXT NOT NULL,
    persona TEXT NOT NULL,
    policy TEXT NOT NULL,
    mode TEXT NOT NULL,
    outcome TEXT NOT NULL,
    score INTEGER,
    interrupted INTEGER NOT NULL,
    duration_s REAL NOT NULL,
    items TEXT NOT NULL,
    has_recording INTEGER NOT NULL,
    signature TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_trainee ON sessions (trainee, started_at);
"""

EXPORT_COLUMNS = (
    "session_id", "trainee", "started_at", "scenario", "lang", "persona", "policy", "outcome", "score",
    "interrupted", "duration_s", "met", "missed",
)


@dataclass(frozen=True)
class RubricMark:
    """One rubric item of one session: met or missed."""

    id: str
    title: str
    met: bool


@dataclass(frozen=True)
class SessionSummary:
    session_id: str
    folder: Path
    trainee: str
    started_at: str  # ISO-8601 with offset
    scenario: str
    lang: str
    persona: str
    policy: str
    mode: str
    outcome: str
    score: int | None  # None while unfinished
    interrupted: bool
    duration_s: float
    items: tuple[RubricMark, ...] = ()
    has_recording: bool = False

    @property
    def met(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.met)

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if not i.met)

    def export_row(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "trainee": self.trainee, "started_at": self.started_at,
            "scenario": self.scenario, "lang": self.lang, "persona": self.persona, "policy": self.policy,
            "outcome": self.outcome, "score": self.score, "interrupted": self.interrupted,
            "duration_s": self.duration_s, "met": list(self.met), "missed": list(self.missed),
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folder"] = str(self.folder)
        data["items"] = [asdict(i) for i in self.items]
        return data


@dataclass(frozen=True)
class SyncReport:
    indexed: int
    errors: list[tuple[Path, str]] = field(default_factory=list)
    removed: int = 0


def summarize(folder: Path | SessionFolder) -> SessionSummary:
    """Read one session folder. SessionError if it is not a readable session."""
    folder = folder if isinstance(folder, SessionFolder) else SessionFolder(folder)
    events = folder.events()
    started = folder.started(events)
    result = folder.result()
    ended = next((e for e in reversed(events) if isinstance(e, SessionEnded)), None)
    if result is None:
        outcome, score, items = UNFINISHED, None, ()
        interrupted = bool(ended and ended.interrupted) if ended else True
    else:
        outcome, score, interrupted = result.outcome, result.score, result.interrupted
        items = tuple(RubricMark(i.id, i.title, i.met) for i in result.rubric)
    return SessionSummary(
        session_id=started.session_id or folder.id, folder=folder.path, trainee=started.trainee,
        started_at=started.started_at, scenario=started.scenario, lang=started.lang, persona=started.persona,
        policy=started.policy, mode=started.mode, outcome=outcome, score=score,
        interrupted=interrupted, duration_s=duration_s(events), items=items, has_recording=folder.has_recording,
    )


def _signature(folder: SessionFolder) -> str:
    parts = []
    for path in (folder.events_path, folder.result_path, folder.recording_path):
        try:
            st = path.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


class Library:
    """The sessions under <data_dir>/sessions and their index <data_dir>/library.sqlite3."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.sessions_dir = sessions_dir(self.data_dir)
        self.index_path = self.data_dir / INDEX_FILE
        ensure_private_dir(self.data_dir)
        self._conn = self._connect()

    # --- database -----------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if not self.index_path.exists():
            os.close(os.open(self.index_path, os.O_WRONLY | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(self.index_path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # Switching to WAL takes an exclusive lock that does not always wait on the busy handler.
            self._retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            self._retry(lambda: conn.executescript(_SCHEMA))
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise SessionError(
                    f"{self.index_path}: the session index stayed busy ({err}); another voice-trainer is writing, try again"
                ) from None
            raise SessionError(f"{self.index_path}: the session index cannot be opened ({err}); check permissions") from None
        except sqlite3.DatabaseError as err:
            raise SessionError(
                f"{self.index_path}: the session index cannot be opened ({err}); delete the file, "
                "it is rebuilt from the session folders"
            ) from None
        for path in (self.index_path, Path(f"{self.index_path}-wal"), Path(f"{self.index_path}-shm")):
            if path.exists():
                path.chmod(0o600)
        return conn

    def _retry(self, action, attempts: int = 50):
        for n in range(attempts):
            try:
                return action()
            except sqlite3.OperationalError as err:
                if "locked" not in str(err) and "busy" not in str(err) or n == attempts - 1:
                    raise
                time.sleep(0.05)  # another process holds the lock; not waiting on behaviour of our own

    def _write(self, sql: str, params: tuple = ()) -> None:
        try:
            self._write_once(sql, params)
        except sqlite3.DatabaseError as err:
            raise SessionError(
                f"{self.index_path}: the session index cannot be updated ({err}); "
                "if it persists, delete the file, it is rebuilt from the session folders"
            ) from None

    def _write_once(self, sql: str, params: tuple) -> None:
        def run():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute(sql, params)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

        self._retry(run)

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- indexing -----------------------------------------------------------------------------------

    def index(self, folder: Path) -> SessionSummary:
        """(Re-)index one session folder; SessionError if it is damaged."""
        folder = SessionFolder(folder)
        summary = summarize(folder)
        self._store(summary, _signature(folder))
        return summary

    def _store(self, s: SessionSummary, signature: str) -> None:
        items = json.dumps([[i.id, i.title, i.met] for i in s.items], ensure_ascii=False)
        self._write(
            "INSERT OR REPLACE INTO sessions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (s.session_id, str(s.folder), s.trainee, s.started_at, s.scenario, s.lang, s.persona, s.policy, s.mode,
             s.outcome, s.score, int(s.interrupted), s.duration_s, items, int(s.has_recording), signature),
        )

    def sync(self) -> SyncReport:
        """Index new or changed session folders, forget vanished ones; damaged folders are reported, not fatal."""
        known = {row[0]: row[1] for row in self._conn.execute("SELECT folder, signature FROM sessions")}
        indexed, errors, seen = 0, [], set()
        folders = sorted(p for p in self.sessions_dir.iterdir() if p.is_dir()) if self.sessions_dir.is_dir() else []
        for folder in folders:
            seen.add(str(folder))
            signature = _signature(SessionFolder(folder))
            if known.get(str(folder)) == signature:
                continue
            try:
                self._store(summarize(folder), signature)
                indexed += 1
            except SessionError as err:
                errors.append((folder, str(err)))
                if str(folder) in known:
                    self._write("DELETE FROM sessions WHERE folder = ?", (str(folder),))
        gone = [f for f in known if f not in seen]
        for folder in gone:
            self._write("DELETE FROM sessions WHERE folder = ?", (folder,))
        return SyncReport(indexed=indexed, errors=errors, removed=len(gone))

    # --- reading ------------------------------------------------------------------------------------

    def list(self, trainee: str | None = None, since: date | None = None, outcome: str | None = None) -> list[SessionSummary]:
        sql, params = "SELECT * FROM sessions WHERE 1=1", []
        if trainee:
            sql += " AND trainee = ?"
            params.append(trainee)
        if since:
            sql += " AND substr(started_at, 1, 10) >= ?"
            params.append(since.isoformat())
        if outcome:
            sql += " AND outcome = ?"
            params.append(outcome)
        sql += " ORDER BY started_at, session_id"
        return [_row_to_summary(r) for r in self._conn.execute(sql, params)]

    def trainees(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT DISTINCT trainee FROM sessions ORDER BY trainee")]

    def get(self, session_id_or_prefix: str) -> SessionSummary:
        """The session whose id is, or starts with, the given text (unique among all session folders)."""
        key = session_id_or_prefix.strip()
        if not key:
            raise SessionError("no session given; run 'voice-trainer sessions list' to see the ids")
        matches = self._match(key)
        if not any(m.session_id == key for m in matches):
            self.sync()  # a prefix must be unique among all folders, not only those indexed so far
            matches = self._match(key)
        if not matches:
            raise SessionError(
                f"no session {key!r} in {self.sessions_dir}; run 'voice-trainer sessions list' to see the ids"
            )
        exact = [m for m in matches if m.session_id == key]
        if exact:
            return exact[0]
        if len(matches) > 1:
            shown = ", ".join(m.session_id for m in matches[:5])
            raise SessionError(f"{key!r} matches {len(matches)} sessions ({shown}); give more of the id")
        return matches[0]

    def _match(self, key: str) -> list[SessionSummary]:
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._conn.execute(
            "SELECT * FROM sessions WHERE session_id LIKE ? ESCAPE '\\' ORDER BY session_id", (escaped + "%",)
        )
        return [_row_to_summary(r) for r in rows if r[0].startswith(key)]  # LIKE is case-insensitive

    # --- changing -----------------------------------------------------------------------------------

    def delete(self, session_id: str) -> SessionSummary:
        """Remove the session folder (with its recording) and its index row together."""
        summary = self.get(session_id)
        folder = summary.folder.resolve()
        if folder.parent != self.sessions_dir.resolve():
            raise SessionError(f"{folder}: not inside {self.sessions_dir}; refusing to delete it")

        def run():
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("DELETE FROM sessions WHERE session_id = ?", (summary.session_id,))
                if folder.exists():
                    shutil.rmtree(folder)
            except OSError as err:
                self._conn.execute("ROLLBACK")
                raise SessionError(f"{folder}: cannot delete ({err}); check permissions") from None
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

        self._retry(run)
        return summary

    # --- export -------------------------------------------------------------------------------------

    def export(self, fmt: str, out: Path | IO[str] | None = None, sessions: list[SessionSummary] | None = None) -> int:
        """Write one row per session for an LMS as csv or json, to a file path or stream (stdout by default)."""
        if fmt not in ("csv", "json"):
            raise UsageError(f"unknown export format {fmt!r}; use csv or json")
        rows = [s.export_row() for s in (sessions if sessions is not None else self.list())]
        if isinstance(out, (str, Path)):
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                _write_rows(fmt, rows, f)
        else:
            _write_rows(fmt, rows, out or sys.stdout)
        return len(rows)


def _write_rows(fmt: str, rows: list[dict[str, Any]], f: IO[str]) -> None:
    if fmt == "json":
        json.dump(rows, f, ensure_ascii=False, indent=2)
        f.write("\n")
        return
    writer = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({**row, "met": ";".join(row["met"]), "missed": ";".join(row["missed"]),
                         "interrupted": int(row["interrupted"]), "score": "" if row["score"] is None else row["score"]})


def _row_to_summary(r: tuple) -> SessionSummary:
    items = tuple(RubricMark(i, t, bool(m)) for i, t, m in json.loads(r[13]))
    return SessionSummary(
        session_id=r[0], folder=Path(r[1]), trainee=r[2], started_at=r[3], scenario=r[4], lang=r[5], persona=r[6],
        policy=r[7], mode=r[8], outcome=r[9], score=r[10], interrupted=bool(r[11]), duration_s=r[12], items=items,
        has_recording=bool(r[14]),
    )


def resolve_session(data_dir: Path, spec: str) -> Path:
    """A session folder from an id, a unique id prefix, or a folder path."""
    as_path = Path(spec).expanduser()
    if (as_path / EVENTS_FILE).is_file():
        return as_path
    if os.sep in spec and not as_path.is_dir():
        raise SessionError(f"{spec}: no such session folder; give a session id or a folder with {EVENTS_FILE}")
    if as_path.is_dir() and os.sep in spec:
        raise SessionError(f"{spec}: not a session folder (no {EVENTS_FILE})")
    with Library(data_dir) as library:
        return library.get(spec).folder
