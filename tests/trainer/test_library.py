"""The library interface, the same tests on both backends: SQLite on this machine, PostgreSQL at a centre.

Sessions get into each library the way they do in use: indexed from its folder here, published by a
station there (recording copied into the shared store).
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import sqlite3
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.fixtures.sessions import GOOD_CALL, MISHEARD_CALL, REAL_APOLOGY, SHORT_CALL, record_session
from voice_trainer.errors import SessionError, UsageError
from voice_trainer.session_folder import EVENTS_FILE, RECORDING_FILE, RESULT_FILE, SessionFolder
from voice_trainer.trainer.corrections import fix_turn
from voice_trainer.trainer.library import (
    EXPORT_COLUMNS,
    INDEX_FILE,
    Account,
    LocalLibrary,
    SchemaTooNew,
    export_sessions,
    read_folder,
)

BACKENDS = ["sqlite", "postgres"]


def add_recording(folder: Path, seconds: float = 1.0) -> Path:
    noise = (np.random.default_rng(7).standard_normal((int(16000 * seconds), 2)) * 3000).astype(np.int16)
    sf.write(folder / RECORDING_FILE, noise, 16000, subtype="PCM_16")
    return folder / RECORDING_FILE


class Backend:
    """One library under test and the way sessions reach it."""

    def __init__(self, kind: str, data_dir: Path, url: str | None, store: Path | None):
        self.kind, self.data_dir, self.url, self.store = kind, data_dir, url, store
        self.library = self.open()

    def open(self):
        if self.kind == "sqlite":
            return LocalLibrary(self.data_dir)
        from voice_trainer.trainer.library.centre import CentreLibrary

        return CentreLibrary(self.url, self.store)

    def add(self, folder: Path):
        if self.kind == "sqlite":
            return self.library.index(folder)
        from voice_trainer.trainer.publish import publish_folder

        publish_folder(self.library, SessionFolder(folder), "station-1")
        return self.library.get(folder.name)

    def recording_file(self, summary) -> Path:
        if self.kind == "sqlite":
            return summary.folder / RECORDING_FILE
        return self.store / "recordings" / summary.recording_name


@pytest.fixture(params=BACKENDS)
def backend(request, data_dir, tmp_path):
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_url")
        store = tmp_path / "share"
        store.mkdir()
    else:
        url = store = None
    b = Backend(request.param, data_dir, url, store)
    yield b
    b.library.close()


# --- sessions ------------------------------------------------------------------------------------------


def test_a_session_is_stored_with_its_row_timeline_and_result(backend):
    folder = record_session(backend.data_dir, GOOD_CALL, seed=1, trainee="Анна")
    summary = backend.add(folder)
    result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    assert (summary.session_id, summary.trainee, summary.outcome, summary.score) == (
        folder.name, "Анна", result["outcome"], result["score"])
    assert list(summary.met) == result["met"] and list(summary.missed) == result["missed"]
    assert summary.success is result["success"] and summary.duration_s > 0 and not summary.damage
    record = backend.library.record(folder.name)
    logged = [json.loads(line) for line in (folder / EVENTS_FILE).read_text(encoding="utf-8").splitlines()]
    assert record.events == logged and record.result == result
    assert backend.library.get(folder.name) == summary


def test_get_finds_a_unique_prefix_and_explains_ambiguous_or_unknown_ones(backend):
    a = record_session(backend.data_dir, SHORT_CALL, seed=1, trainee="anna")
    b = record_session(backend.data_dir, SHORT_CALL, seed=2, trainee="boris")
    backend.add(a), backend.add(b)
    unique_a = a.name[: len(a.name.rsplit("-", 2)[0]) + 2]  # date-time plus the start of the name
    assert backend.library.get(unique_a).session_id == a.name
    assert backend.library.get(b.name).trainee == "boris"
    with pytest.raises(SessionError, match="matches 2 sessions"):
        backend.library.get(a.name[:8])
    with pytest.raises(SessionError, match="no session 'zzz'"):
        backend.library.get("zzz")
    with pytest.raises(SessionError, match="not a session id"):
        backend.library.get("x" * 5000)
    with pytest.raises(SessionError, match="no session '20%'"):
        backend.library.get("20%")  # a LIKE wildcard is a character like any other


def test_list_filters_by_trainee_day_and_outcome_and_pages(backend):
    days = ["2024-03-01", "2024-03-05", "2024-03-06", "2024-03-07", "2024-03-08"]
    folders = [record_session(backend.data_dir, SHORT_CALL, seed=n + 1, trainee="boris" if n == 2 else "anna",
                              started_at=f"{day}T10:00:00+00:00") for n, day in enumerate(days)]
    for folder in folders:
        backend.add(folder)
    lib = backend.library
    assert [s.session_id for s in lib.list()] == [f.name for f in folders]
    assert [s.session_id for s in lib.list(trainee="anna", since=date(2024, 3, 2))] == [f.name for f in folders[1:2] + folders[3:]]
    assert [s.session_id for s in lib.list(limit=2, offset=2)] == [f.name for f in folders[2:4]]
    assert [s.session_id for s in lib.list(limit=2, newest_first=True)] == [folders[4].name, folders[3].name]
    assert lib.count() == 5 and lib.count(trainee="boris") == 1 and lib.count(since=date(2024, 3, 7)) == 2
    outcome = lib.list()[0].outcome
    assert {s.outcome for s in lib.list(outcome=outcome)} == {outcome}
    assert lib.trainees() == ["anna", "boris"]


def test_a_session_id_is_stored_once_and_a_deleted_one_never_again(backend):
    folder = record_session(backend.data_dir, SHORT_CALL, seed=1)
    record = read_folder(folder).record
    assert backend.library.put(record) is True
    assert backend.library.put(record) is False  # a retried publish changes nothing
    assert backend.library.count() == 1
    backend.library.delete(folder.name)
    assert backend.library.put(record) is False and backend.library.count() == 0
    assert backend.library.was_deleted(folder.name)


def test_delete_removes_the_row_and_the_recording_together(backend):
    keep = record_session(backend.data_dir, SHORT_CALL, seed=1)
    gone = record_session(backend.data_dir, SHORT_CALL, seed=2)
    add_recording(keep), add_recording(gone)
    kept, doomed = backend.add(keep), backend.add(gone)
    recording = backend.recording_file(doomed)
    assert recording.is_file() and doomed.has_recording
    backend.library.delete(gone.name)
    assert not recording.exists()
    assert [s.session_id for s in backend.library.list()] == [keep.name]
    assert backend.recording_file(kept).is_file()
    assert backend.library.recording(kept) == backend.recording_file(kept)


def test_a_correction_is_appended_to_the_timeline_and_rescores_the_session(backend):
    folder = record_session(backend.data_dir, MISHEARD_CALL, seed=1)
    before = backend.add(folder)
    source = backend.library.open(folder.name)
    diff = fix_turn(source, 1, REAL_APOLOGY)
    if backend.kind == "sqlite":
        backend.library.index(folder)  # here the folder is the truth; the index follows it
    after = backend.library.get(folder.name)
    assert diff.score_after > diff.score_before == before.score
    assert after.score == diff.score_after and "apologized" in after.met
    events = backend.library.record(folder.name).events
    assert events[-1]["type"] == "transcript_corrected" and events[-1]["text"] == REAL_APOLOGY
    assert len(events) == len(read_folder(folder).record.events) + (0 if backend.kind == "sqlite" else 1)
    result = backend.library.record(folder.name).result
    assert result["rescored"]["original"]["score"] == before.score


def test_older_than_finds_the_sessions_before_a_cutoff(backend):
    old = record_session(backend.data_dir, SHORT_CALL, seed=1, started_at="2020-01-01T10:00:00+03:00")
    new = record_session(backend.data_dir, SHORT_CALL, seed=2)
    backend.add(old), backend.add(new)
    cutoff = datetime.now(timezone.utc) - timedelta(days=90)
    assert [s.session_id for s in backend.library.older_than(cutoff)] == [old.name]


def test_a_damaged_session_is_stored_and_listed_with_the_reason(backend):
    good = record_session(backend.data_dir, SHORT_CALL, seed=1)
    bad = record_session(backend.data_dir, SHORT_CALL, seed=2)
    lines = (bad / EVENTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = '{"type": "trainee_turn", "turn": "two"}\n'
    (bad / EVENTS_FILE).write_text("".join(lines), encoding="utf-8")
    backend.add(good), backend.add(bad)
    listed = {s.session_id: s for s in backend.library.list()}
    assert not listed[good.name].damage
    assert "1 damaged line skipped" in listed[bad.name].damage and "line 4" in listed[bad.name].damage
    assert listed[bad.name].score is not None and "damaged" in listed[bad.name].marks


def test_export_writes_csv_json_and_xapi_of_the_listed_sessions(backend, tmp_path):
    good = record_session(backend.data_dir, GOOD_CALL, seed=1, trainee="anna")
    misheard = record_session(backend.data_dir, MISHEARD_CALL, seed=1, trainee="=HYPERLINK(\"x\")")
    backend.add(good), backend.add(misheard)
    out = io.StringIO()
    assert export_sessions("csv", backend.library.list(), out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    by_id = {r["session_id"]: r for r in rows}
    result = json.loads((good / RESULT_FILE).read_text(encoding="utf-8"))
    assert int(by_id[good.name]["score"]) == result["score"] and by_id[good.name]["met"].split(";") == result["met"]
    assert by_id[misheard.name]["trainee"] == "'=HYPERLINK(\"x\")"
    target = tmp_path / "lms.json"
    export_sessions("json", backend.library.list(), target)
    assert [set(r) for r in json.loads(target.read_text(encoding="utf-8"))] == [set(EXPORT_COLUMNS)] * 2
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(UsageError, match="csv, json, xapi"):
        export_sessions("xml", [], io.StringIO())


# --- accounts and the audit log ------------------------------------------------------------------------------


def test_accounts_are_added_verified_changed_and_removed(backend):
    accounts = backend.library.accounts
    assert accounts.add("olga", "trainer", "correct horse") == Account("olga", "trainer")
    accounts.add("anna", "trainee", "anna's secret")
    assert accounts.verify("olga", "correct horse") == Account("olga", "trainer")
    assert accounts.verify("olga", "correct horsE") is None
    assert accounts.verify("nobody", "correct horse") is None
    assert accounts.list() == [Account("anna", "trainee"), Account("olga", "trainer")]
    accounts.set_password("anna", "a new password")
    assert accounts.verify("anna", "anna's secret") is None and accounts.verify("anna", "a new password")
    with pytest.raises(UsageError, match="already exists"):
        accounts.add("anna", "trainer", "whatever123")
    with pytest.raises(UsageError, match="trainer or trainee"):
        accounts.add("boss", "admin", "whatever123")
    with pytest.raises(UsageError, match="too short"):
        accounts.add("boss", "trainer", "short")
    with pytest.raises(UsageError, match="no account"):
        accounts.set_password("zoe", "whatever123")
    assert accounts.remove("anna") == Account("anna", "trainee")
    assert accounts.verify("anna", "a new password") is None and accounts.get("anna") is None
    # only a salted scrypt hash is stored, never the password
    reopened = backend.open()
    with reopened.db.read() as tx:
        stored = tx.one(reopened.sql.GET_ACCOUNT, ("olga",))[2]
    reopened.close()
    assert stored.startswith("scrypt$") and "correct horse" not in stored


def test_the_audit_log_keeps_who_did_what_newest_first(backend):
    audit = backend.library.audit
    audit.record("olga@desk", "view recording", "20240531-101500-anna-3f9c1a")
    audit.record("olga@desk", "fix turn", "20240531-101500-anna-3f9c1a", "turn 1: здравствуйте")
    audit.record("ivan@desk", "delete session", "20240601-090000-boris-000001")
    entries = audit.entries()
    assert [(e.actor, e.action) for e in entries] == [
        ("ivan@desk", "delete session"), ("olga@desk", "fix turn"), ("olga@desk", "view recording")]
    assert entries[1].detail == "turn 1: здравствуйте"
    assert datetime.fromisoformat(entries[0].at).tzinfo is not None
    assert [e.action for e in audit.entries(limit=1)] == ["delete session"]
    assert len(audit.entries(target="20240531-101500-anna-3f9c1a")) == 2


# --- schema --------------------------------------------------------------------------------------------------


def test_the_schema_version_is_recorded_and_a_newer_schema_is_refused(backend):
    from voice_trainer.trainer.library.migrations import schema_version

    assert schema_version(backend.library.db) == 1
    backend.open().close()  # opening again migrates nothing
    assert schema_version(backend.library.db) == 1
    with backend.library.db.write() as tx:
        tx.run(backend.library.sql.RECORD_VERSION, (99, "from the future", "2099-01-01T00:00:00+00:00"))
    backend.library.close()
    with pytest.raises(SchemaTooNew, match="schema version 99, this voice-trainer knows up to 1"):
        backend.open()


# --- several writers ----------------------------------------------------------------------------------------


def _write_repeatedly(kind: str, data_dir: str, url: str | None, store: str | None, n: int, start, errors) -> None:
    try:
        start.wait(60)
        b = Backend(kind, Path(data_dir), url, Path(store) if store else None)
        folders = sorted((Path(data_dir) / "sessions").iterdir())
        for _ in range(10):
            for folder in folders:
                b.library.put(read_folder(folder, write=False).record, replace=(kind == "sqlite"))
            b.library.audit.record(f"writer{n}", "listed", "-")
            b.library.list()
        b.library.close()
    except Exception as err:  # reported to the parent, which fails the test
        errors.put(f"{type(err).__name__}: {err}")


def test_several_processes_writing_at_once_leave_an_intact_library(backend):
    folders = [record_session(backend.data_dir, SHORT_CALL, seed=s, trainee=f"t{s}") for s in range(6)]
    ctx = multiprocessing.get_context("spawn")
    start, errors = ctx.Event(), ctx.Queue()
    store = str(backend.store) if backend.store else None
    workers = [ctx.Process(target=_write_repeatedly, args=(backend.kind, str(backend.data_dir), backend.url, store,
                                                           n, start, errors)) for n in range(3)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(300)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    assert errors.empty(), errors.get()
    assert sorted(s.session_id for s in backend.library.list()) == sorted(f.name for f in folders)
    assert len(backend.library.audit.entries(limit=1000)) == 30


# --- this machine's library: an index over the session folders ---------------------------------------------


def _damage_log(folder: Path) -> None:
    lines = (folder / EVENTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "{this is not json\n"  # a damaged line in the middle, not a torn last line
    (folder / EVENTS_FILE).write_text("".join(lines), encoding="utf-8")


def test_sync_lists_every_session_and_marks_the_damaged_ones(data_dir):
    good = [record_session(data_dir, SHORT_CALL, seed=s) for s in (1, 2)]
    broken_log = record_session(data_dir, SHORT_CALL, seed=3)
    _damage_log(broken_log)
    broken_result = record_session(data_dir, SHORT_CALL, seed=4)
    scored = json.loads((broken_result / RESULT_FILE).read_text(encoding="utf-8"))
    (broken_result / RESULT_FILE).write_text('{"score": 4', encoding="utf-8")  # torn
    not_a_session = data_dir / "sessions" / "stray-folder"
    not_a_session.mkdir()

    with LocalLibrary(data_dir) as library:
        report = library.sync()
        listed = {s.session_id: s for s in library.list()}

    assert set(listed) == {g.name for g in good} | {broken_log.name, broken_result.name}
    assert report.indexed == 4
    assert "events.jsonl line 3" in listed[broken_log.name].damage
    # a torn result.json is rebuilt from the log: the same score, and the file is whole again
    assert not listed[broken_result.name].damage and listed[broken_result.name].score == scored["score"]
    assert json.loads((broken_result / RESULT_FILE).read_text(encoding="utf-8"))["score"] == scored["score"]
    reported = {folder.name: message for folder, message in report.errors}
    assert set(reported) == {broken_log.name, "stray-folder"}


def test_sync_forgets_folders_removed_by_hand(data_dir):
    folder = record_session(data_dir, SHORT_CALL, seed=1)
    with LocalLibrary(data_dir) as library:
        library.sync()
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        assert library.sync().removed == 1
        assert library.list() == []


def test_get_indexes_a_session_recorded_after_the_last_sync(data_dir):
    with LocalLibrary(data_dir) as library:
        library.sync()
        folder = record_session(data_dir, SHORT_CALL, seed=5)
        assert library.get(folder.name).folder == folder


def test_the_index_file_is_private_and_in_wal_mode(data_dir):
    LocalLibrary(data_dir).close()
    index = data_dir / INDEX_FILE
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert sqlite3.connect(index).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_an_index_from_before_versioned_schemas_is_rebuilt(data_dir):
    folder = record_session(data_dir, SHORT_CALL, seed=1)
    old = sqlite3.connect(data_dir / INDEX_FILE)
    old.execute("CREATE TABLE sessions (session_id TEXT PRIMARY KEY, folder TEXT NOT NULL, signature TEXT NOT NULL)")
    old.execute("INSERT INTO sessions VALUES ('stale', '/nowhere', '-')")
    old.commit()
    old.close()
    with LocalLibrary(data_dir) as library:
        library.sync()
        assert [s.session_id for s in library.list()] == [folder.name]
    versions = sqlite3.connect(data_dir / INDEX_FILE).execute("SELECT version FROM schema_version").fetchall()
    assert versions == [(1,)]


def test_a_session_that_never_finished_is_listed_as_unfinished(data_dir):
    from voice_trainer.scenario.loader import load
    from voice_trainer.session import Session

    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=1, trainee="anna", observers=[])
    session.start()
    session.trainee_says(SHORT_CALL[0])  # then the machine lost power: no result.json
    session.folder.close()
    with LocalLibrary(data_dir) as library:
        report = library.sync()
        [summary] = library.list()
    assert report.errors == []
    assert (summary.session_id, summary.outcome, summary.score) == (session.id, "unfinished", None)
    assert summary.marks == ("unfinished",)
