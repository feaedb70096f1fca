"""The session library's one interface, whatever holds it: SQLite on this machine, PostgreSQL at a centre.

A backend is a `Database` (connections, transactions, its SQL text in `sqlite.py` or `postgres.py`);
where recordings live is a `Recordings` (the session folders here, or the centre's shared store).
`Library` is the same code over either: sessions, accounts, the audit log.

    library.put(record)                    store a session (published once: an id already there is kept)
    library.list(trainee=, since=, outcome=, offset=, limit=)   summaries, oldest first
    library.get("20240531-1015")           one summary, by id or a unique start of it
    library.open(id)                       the session to read or correct (a SessionFolder or a StoredSession)
    library.delete(id)                     its row and its recording together
    library.accounts.add(name, role, password) / .verify(name, password) -> Account | None
    library.audit.record(actor, action, target, detail) / .entries(limit=...)
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Protocol

from voice_trainer.errors import SessionError

if TYPE_CHECKING:
    from voice_trainer.trainer.library.accounts import Accounts
    from voice_trainer.trainer.library.audit import AuditLog

UNFINISHED = "unfinished"  # outcome of a session without a result


class LibraryError(SessionError):
    """The library's database cannot be reached, opened or updated."""


class SchemaTooNew(LibraryError):
    """The database was set up by a newer voice-trainer than this one."""


# --- what the library holds ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RubricMark:
    """One rubric item of one session: met or missed."""

    id: str
    title: str
    met: bool


@dataclass(frozen=True)
class SessionSummary:
    """One row of the library: enough to list, filter, export and find a session's content."""

    session_id: str
    folder: Path | None  # the session folder on the machine that recorded it
    trainee: str
    started_at: str  # ISO-8601 with offset, as the station's clock said
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
    success: bool | None = None
    damage: str = ""  # why part of the session could not be read; "" when it is whole
    station: str = ""  # the machine that recorded it
    recording_name: str = ""  # where its recording is in the shared store ("" here or without one)
    recording_sha256: str = ""
    recording_bytes: int = 0

    @property
    def met(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if i.met)

    @property
    def missed(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items if not i.met)

    @property
    def damaged(self) -> bool:
        return bool(self.damage)

    @property
    def marks(self) -> tuple[str, ...]:
        """What a trainer should know before trusting the score: damaged, interrupted, unfinished."""
        found = []
        if self.damage:
            found.append("damaged")
        if self.outcome == UNFINISHED:
            found.append(UNFINISHED)
        elif self.interrupted:
            found.append("interrupted")
        return tuple(found)

    def export_row(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id, "trainee": self.trainee, "started_at": self.started_at,
            "scenario": self.scenario, "lang": self.lang, "persona": self.persona, "policy": self.policy,
            "outcome": self.outcome, "score": self.score, "interrupted": self.interrupted,
            "duration_s": self.duration_s, "met": list(self.met), "missed": list(self.missed),
            "damaged": self.damage,
        }

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folder"] = None if self.folder is None else str(self.folder)
        data["items"] = [asdict(i) for i in self.items]
        data["marks"] = list(self.marks)
        return data


@dataclass(frozen=True)
class SessionRecord:
    """A whole session as the library stores it: its row, its timeline (event objects) and its result."""

    summary: SessionSummary
    events: list[dict[str, Any]]
    result: dict[str, Any] | None
    signature: str = ""  # of the folder it was read from (the local index re-reads a folder that changed)

    @property
    def session_id(self) -> str:
        return self.summary.session_id

    @property
    def started_utc(self) -> str:
        return utc_of(self.summary.started_at)


@dataclass(frozen=True)
class StoredRecording:
    """A recording copied into the shared store: its name there, its SHA-256 and its size."""

    name: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class SyncReport:
    indexed: int
    errors: list[tuple[Path, str]] = field(default_factory=list)
    removed: int = 0


@dataclass(frozen=True)
class Account:
    name: str
    role: str  # trainer | trainee


@dataclass(frozen=True)
class AuditEntry:
    at: str  # ISO-8601 UTC
    actor: str
    action: str
    target: str
    detail: str = ""


def utc_of(started_at: str) -> str:
    """A start time as UTC ISO text (sortable); a time without offset is taken as UTC."""
    try:
        moment = datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        return "1970-01-01T00:00:00.000+00:00"
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def now_utc() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def db_text(value: str) -> str:
    """PostgreSQL text cannot hold NUL; a damaged log may."""
    return value.replace("\x00", "\ufffd")


# --- the two halves a backend provides -------------------------------------------------------------------


class Transaction(Protocol):
    def run(self, sql: str, params: tuple = ()) -> int: ...
    def rows(self, sql: str, params: tuple = ()) -> list[tuple]: ...
    def one(self, sql: str, params: tuple = ()) -> tuple | None: ...


class Database(ABC):
    """Connections, transactions and the SQL text of one database engine."""

    location: str  # for messages: a file path, or the URL without its password
    sql: Any  # the backend's statements (see sqlite.SQL, postgres.SQL)

    @abstractmethod
    def write(self) -> AbstractContextManager[Transaction]:
        """One transaction that changes something: committed at the end of the block, else rolled back."""

    @abstractmethod
    def read(self) -> AbstractContextManager[Transaction]:
        """Reading only (one snapshot where the engine gives one)."""

    @abstractmethod
    def close(self) -> None: ...


class Recordings(ABC):
    """Where the recordings of a library's sessions live."""

    #: the session folders on this machine are the truth (the local library); else the database is
    folders_are_truth: bool = False

    @abstractmethod
    def path(self, summary: SessionSummary) -> Path | None:
        """The recording's file, checked (the store verifies its checksum); None without one."""

    @abstractmethod
    def remove(self, summary: SessionSummary) -> None:
        """Delete the session's recording (here: its whole folder). OSError if it cannot be."""


# --- the library ---------------------------------------------------------------------------------------------


class Library:
    """Sessions, accounts and the audit log in one database, recordings beside it."""

    def __init__(self, db: Database, recordings: Recordings):
        from voice_trainer.trainer.library.accounts import Accounts
        from voice_trainer.trainer.library.audit import AuditLog

        self.db = db
        self.sql = db.sql
        self.recordings = recordings
        self.accounts: Accounts = Accounts(db)
        self.audit: AuditLog = AuditLog(db)

    @property
    def location(self) -> str:
        return self.db.location

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- storing ---------------------------------------------------------------------------------------

    def put(self, record: SessionRecord, *, replace: bool = False) -> bool:
        """Store a session. Without `replace`, a session id already stored or deleted is left alone (False):
        publishing the same session twice, or after it was purged, changes nothing."""
        row = self._row(record)
        with self.db.write() as tx:
            if replace:
                tx.run(self.sql.UPSERT_SESSION, row)
                return True
            if tx.one(self.sql.IS_DELETED, (record.session_id,)):
                return False
            return tx.run(self.sql.INSERT_SESSION, row) == 1

    def _row(self, record: SessionRecord) -> tuple:
        s = record.summary
        items = json.dumps([[i.id, i.title, i.met] for i in s.items], ensure_ascii=False)
        events = json.dumps(record.events, ensure_ascii=False)
        result = None if record.result is None else json.dumps(record.result, ensure_ascii=False)
        return (
            db_text(s.session_id), None if s.folder is None else db_text(str(s.folder)), db_text(s.trainee),
            db_text(s.started_at), record.started_utc, db_text(s.scenario), db_text(s.lang), db_text(s.persona),
            db_text(s.policy), db_text(s.mode), db_text(s.outcome), s.score, s.success, s.interrupted,
            s.duration_s, items, s.has_recording, db_text(s.damage), db_text(s.station),
            s.recording_name or None, s.recording_sha256 or None, s.recording_bytes or None,
            events, result, record.signature, now_utc(),
        )

    def append_event(self, session_id: str, event: dict[str, Any]) -> None:
        """Add one event to a stored timeline (a trainer's correction); the timeline is never rewritten."""
        with self.db.write() as tx:
            found = tx.one(self.sql.LOCK_EVENTS, (session_id,))
            if found is None:
                raise SessionError(f"no session {session_id!r} in {self.location}")
            events = json.loads(found[0])
            events.append(event)
            tx.run(self.sql.SET_EVENTS, (json.dumps(events, ensure_ascii=False), now_utc(), session_id))

    def write_result(self, session_id: str, result: dict[str, Any]) -> SessionSummary:
        """Store a new result (a correction or a re-score) and the row it implies."""
        from voice_trainer.trainer.library.folders import summary_of

        with self.db.write() as tx:
            found = tx.one(self.sql.LOCK_SESSION, (session_id,))
            if found is None:
                raise SessionError(f"no session {session_id!r} in {self.location}")
            old = self._summary(found[:-2])
            events = _events(json.loads(found[-2]))
            summary = summary_of(events, result, old.folder, has_recording=old.has_recording, damage=old.damage)
            summary = replace(summary, session_id=old.session_id, station=old.station,
                              recording_name=old.recording_name, recording_sha256=old.recording_sha256,
                              recording_bytes=old.recording_bytes)
            items = json.dumps([[i.id, i.title, i.met] for i in summary.items], ensure_ascii=False)
            tx.run(self.sql.SET_RESULT, (
                json.dumps(result, ensure_ascii=False), db_text(summary.outcome), summary.score, summary.success,
                summary.interrupted, items, now_utc(), session_id,
            ))
        return summary

    # --- reading ---------------------------------------------------------------------------------------

    def list(self, trainee: str | None = None, since: date | None = None, outcome: str | None = None, *,
             offset: int = 0, limit: int | None = None, newest_first: bool = False) -> list[SessionSummary]:
        """Summaries, oldest first (or newest first), `limit` of them from `offset`."""
        sql, params = self.sql.list_sessions(trainee, since, outcome, offset, limit, newest_first)
        with self.db.read() as tx:
            return [self._summary(r) for r in tx.rows(sql, params)]

    def count(self, trainee: str | None = None, since: date | None = None, outcome: str | None = None) -> int:
        sql, params = self.sql.count_sessions(trainee, since, outcome)
        with self.db.read() as tx:
            return int(tx.one(sql, params)[0])

    def trainees(self) -> list[str]:
        with self.db.read() as tx:
            return [r[0] for r in tx.rows(self.sql.TRAINEES)]

    def find(self, session_id: str) -> SessionSummary | None:
        with self.db.read() as tx:
            row = tx.one(self.sql.GET_SESSION, (session_id,))
        return None if row is None else self._summary(row)

    def get(self, key: str) -> SessionSummary:
        """The session whose id is, or starts with, the given text (unique)."""
        key = key.strip()
        if not key:
            raise SessionError("no session given; run 'voice-trainer sessions list' to see the ids")
        if len(key) > 200 or any(ord(c) < 32 for c in key):
            raise SessionError(f"{_shown(key)!r} is not a session id; run 'voice-trainer sessions list' to see the ids")
        exact = self.find(key)
        if exact is not None:
            return exact
        sql, params = self.sql.prefix_sessions(key, 6)
        with self.db.read() as tx:
            matches = [self._summary(r) for r in tx.rows(sql, params)]
        matches = [m for m in matches if m.session_id.startswith(key)]
        if not matches:
            raise SessionError(
                f"no session {key!r} in {self.location}; run 'voice-trainer sessions list' to see the ids"
            )
        if len(matches) > 1:
            shown = ", ".join(m.session_id for m in matches[:5])
            count = f"{len(matches)} sessions" if len(matches) <= 5 else "more than 5 sessions"
            raise SessionError(f"{key!r} matches {count} ({shown}{'' if len(matches) <= 5 else ', ...'}); "
                               "give more of the id")
        return matches[0]

    def record(self, session_id: str) -> SessionRecord:
        """The whole stored session: row, timeline and result."""
        with self.db.read() as tx:
            row = tx.one(self.sql.GET_RECORD, (session_id,))
        if row is None:
            raise SessionError(f"no session {session_id!r} in {self.location}")
        summary = self._summary(row[:-2])
        events = json.loads(row[-2])
        result = None if row[-1] is None else json.loads(row[-1])
        return SessionRecord(summary, events, result)

    def signatures(self) -> dict[str, tuple[str, str]]:
        """folder -> (session id, signature of the folder when it was indexed), for the local index."""
        with self.db.read() as tx:
            return {r[0]: (r[1], r[2] or "") for r in tx.rows(self.sql.SIGNATURES) if r[0]}

    def older_than(self, cutoff: datetime) -> list[SessionSummary]:
        with self.db.read() as tx:
            return [self._summary(r) for r in tx.rows(self.sql.OLDER_THAN, (_utc_text(cutoff),))]

    def was_deleted(self, session_id: str) -> bool:
        with self.db.read() as tx:
            return tx.one(self.sql.IS_DELETED, (session_id,)) is not None

    def open(self, key: str):
        """The session's content to read or correct: its folder where the folders are the truth,
        else the stored session (timeline and result from the database, the recording from the store)."""
        from voice_trainer.session_folder import SessionFolder
        from voice_trainer.trainer.library.stored import StoredSession

        summary = self.get(key)
        if self.recordings.folders_are_truth and summary.folder is not None and (summary.folder / "events.jsonl").is_file():
            return SessionFolder(summary.folder)
        return StoredSession(self, summary)

    def recording(self, summary: SessionSummary) -> Path | None:
        """The session's recording file, checked; None when it has none."""
        if not summary.has_recording:
            return None
        return self.recordings.path(summary)

    # --- removing --------------------------------------------------------------------------------------

    def delete(self, key: str, reason: str = "deleted") -> SessionSummary:
        """Remove a session's row and its recording together; its id is never published again."""
        summary = self.get(key)
        with self.db.write() as tx:
            tx.run(self.sql.DELETE_SESSION, (summary.session_id,))
            tx.run(self.sql.ADD_TOMBSTONE, (summary.session_id, now_utc(), reason))
            try:
                self.recordings.remove(summary)
            except OSError as err:
                raise SessionError(
                    f"{summary.session_id}: cannot delete its recording ({err}); nothing was deleted, check permissions"
                ) from None
        return summary

    def forget(self, session_id: str) -> None:
        """Drop a row whose folder is gone (the local index only; nothing else is touched)."""
        with self.db.write() as tx:
            tx.run(self.sql.DELETE_SESSION, (session_id,))

    # --- rows ------------------------------------------------------------------------------------------

    @staticmethod
    def _summary(r: tuple) -> SessionSummary:
        items = tuple(RubricMark(str(i), str(t), bool(m)) for i, t, m in json.loads(r[14]))
        return SessionSummary(
            session_id=r[0], folder=None if r[1] is None else Path(r[1]), trainee=r[2], started_at=r[3],
            scenario=r[4], lang=r[5], persona=r[6], policy=r[7], mode=r[8], outcome=r[9], score=r[10],
            success=None if r[11] is None else bool(r[11]), interrupted=bool(r[12]), duration_s=float(r[13]),
            items=items, has_recording=bool(r[15]), damage=r[16] or "", station=r[17] or "",
            recording_name=r[18] or "", recording_sha256=r[19] or "", recording_bytes=int(r[20] or 0),
        )


# The columns `_summary` reads, in this order, in every backend's SELECT.
SUMMARY_COLUMNS = (
    "session_id, folder, trainee, started_at, scenario, lang, persona, policy, mode, outcome, score, success, "
    "interrupted, duration_s, items, has_recording, damage, station, recording_name, recording_sha256, "
    "recording_bytes"
)
# The columns `Library._row` writes, in this order.
ROW_COLUMNS = (
    "session_id, folder, trainee, started_at, started_utc, scenario, lang, persona, policy, mode, outcome, score, "
    "success, interrupted, duration_s, items, has_recording, damage, station, recording_name, recording_sha256, "
    "recording_bytes, events, result, signature, updated_at"
)


def _events(data: Iterable[dict]) -> list:
    from voice_trainer.events import from_json

    return [from_json(e) for e in data]


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _shown(key: str) -> str:
    cleaned = "".join(c if ord(c) >= 32 else "?" for c in key)
    return cleaned if len(cleaned) <= 60 else cleaned[:40] + f"…({len(cleaned)} characters)"
