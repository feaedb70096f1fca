import csv
import io
import json
import multiprocessing
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest

from tests.fixtures.sessions import GOOD_CALL, MISHEARD_CALL, SHORT_CALL, record_session
from voice_trainer.errors import SessionError
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE
from voice_trainer.trainer.library import EXPORT_COLUMNS, INDEX_FILE, Library


def _damage_log(folder: Path) -> None:
    lines = (folder / EVENTS_FILE).read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "{this is not json\n"  # a damaged line in the middle, not a torn last line
    (folder / EVENTS_FILE).write_text("".join(lines), encoding="utf-8")


def test_sync_lists_good_sessions_and_reports_each_damaged_folder(data_dir):
    good = [record_session(data_dir, SHORT_CALL, seed=s) for s in (1, 2)]
    broken_log = record_session(data_dir, SHORT_CALL, seed=3)
    _damage_log(broken_log)
    broken_result = record_session(data_dir, SHORT_CALL, seed=4)
    (broken_result / RESULT_FILE).write_text('{"score": 4', encoding="utf-8")
    not_a_session = data_dir / "sessions" / "stray-folder"
    not_a_session.mkdir()

    with Library(data_dir) as library:
        report = library.sync()
        listed = {s.session_id for s in library.list()}

    assert listed == {g.name for g in good}
    assert report.indexed == 2
    reported = {folder.name: message for folder, message in report.errors}
    assert set(reported) == {broken_log.name, broken_result.name, "stray-folder"}
    assert f"{EVENTS_FILE}:3" in reported[broken_log.name]
    assert RESULT_FILE in reported[broken_result.name]


def test_summary_has_score_outcome_and_rubric_marks(data_dir):
    folder = record_session(data_dir, GOOD_CALL, seed=1, trainee="Анна")
    with Library(data_dir) as library:
        summary = library.index(folder)
        again = library.get(summary.session_id)
    result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    assert again == summary
    assert (summary.trainee, summary.outcome, summary.score) == ("Анна", result["outcome"], result["score"])
    assert list(summary.met) == result["met"] and list(summary.missed) == result["missed"]
    assert summary.duration_s > 0 and not summary.has_recording


def test_get_finds_a_unique_prefix_and_explains_ambiguous_or_unknown_ones(data_dir):
    a = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    b = record_session(data_dir, SHORT_CALL, seed=2, trainee="boris")
    with Library(data_dir) as library:
        library.sync()
        unique_a = a.name[: len(a.name.rsplit("-", 2)[0]) + 2]  # date-time plus the start of the name
        assert library.get(unique_a).folder == a
        assert library.get(b.name).trainee == "boris"
        with pytest.raises(SessionError, match="matches 2 sessions"):
            library.get(a.name[:8])
        with pytest.raises(SessionError, match="no session 'zzz'"):
            library.get("zzz")


def test_get_indexes_a_session_recorded_after_the_last_sync(data_dir):
    with Library(data_dir) as library:
        library.sync()
        folder = record_session(data_dir, SHORT_CALL, seed=5)
        assert library.get(folder.name).folder == folder


def test_list_filters_by_trainee_and_day(data_dir):
    old = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna", started_at="2024-03-01T10:00:00+00:00")
    new = record_session(data_dir, SHORT_CALL, seed=2, trainee="anna", started_at="2024-03-05T10:00:00+00:00")
    record_session(data_dir, SHORT_CALL, seed=3, trainee="boris", started_at="2024-03-06T10:00:00+00:00")
    with Library(data_dir) as library:
        library.sync()
        assert [s.folder for s in library.list(trainee="anna")] == [old, new]
        assert [s.folder for s in library.list(trainee="anna", since=date(2024, 3, 2))] == [new]
        assert len(library.list(since=date(2024, 3, 6))) == 1
        assert library.trainees() == ["anna", "boris"]


def test_delete_removes_the_folder_and_the_index_row_together(data_dir):
    keep = record_session(data_dir, SHORT_CALL, seed=1)
    gone = record_session(data_dir, SHORT_CALL, seed=2)
    with Library(data_dir) as library:
        library.sync()
        library.delete(gone.name)
        assert not gone.exists()
        assert [s.folder for s in library.list()] == [keep]
    rows = sqlite3.connect(data_dir / INDEX_FILE).execute("SELECT session_id FROM sessions").fetchall()
    assert rows == [(keep.name,)]


def test_sync_forgets_folders_removed_by_hand(data_dir):
    folder = record_session(data_dir, SHORT_CALL, seed=1)
    with Library(data_dir) as library:
        library.sync()
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()
        assert library.sync().removed == 1
        assert library.list() == []


def test_export_csv_parses_with_one_row_per_session(data_dir):
    good = record_session(data_dir, GOOD_CALL, seed=1, trainee="anna")
    misheard = record_session(data_dir, MISHEARD_CALL, seed=1, trainee="boris")
    out = io.StringIO()
    with Library(data_dir) as library:
        library.sync()
        assert library.export("csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    by_id = {r["session_id"]: r for r in rows}
    for folder in (good, misheard):
        result = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
        row = by_id[folder.name]
        assert int(row["score"]) == result["score"] and row["outcome"] == result["outcome"]
        assert row["missed"].split(";") == (result["missed"] or [""])
        assert row["met"].split(";") == result["met"]
        assert float(row["duration_s"]) > 0 and row["interrupted"] == "0"


def test_export_json_to_a_private_file(data_dir, tmp_path):
    record_session(data_dir, SHORT_CALL, seed=1)
    target = tmp_path / "lms.json"
    with Library(data_dir) as library:
        library.sync()
        library.export("json", target)
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert [set(r) for r in rows] == [set(EXPORT_COLUMNS)]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_index_file_is_private_and_in_wal_mode(data_dir):
    Library(data_dir).close()
    index = data_dir / INDEX_FILE
    assert stat.S_IMODE(index.stat().st_mode) == 0o600
    assert sqlite3.connect(index).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def _index_repeatedly(data_dir: str, rounds: int, start, errors) -> None:
    try:
        start.wait(30)
        with Library(Path(data_dir)) as library:
            folders = sorted((Path(data_dir) / "sessions").iterdir())
            for _ in range(rounds):
                for folder in folders:
                    library.index(folder)
                library.sync()
                library.list()
    except Exception as err:  # reported to the parent, which fails the test
        errors.put(f"{type(err).__name__}: {err}")


def test_two_processes_indexing_at_once_leave_an_intact_index(data_dir):
    folders = [record_session(data_dir, SHORT_CALL, seed=s, trainee=f"t{s}") for s in range(6)]
    ctx = multiprocessing.get_context("spawn")
    start, errors = ctx.Event(), ctx.Queue()
    workers = [ctx.Process(target=_index_repeatedly, args=(str(data_dir), 15, start, errors)) for _ in range(2)]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(180)
    assert [w.exitcode for w in workers] == [0, 0]
    assert errors.empty(), errors.get()
    conn = sqlite3.connect(data_dir / INDEX_FILE)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with Library(data_dir) as library:
        assert sorted(s.folder for s in library.list()) == sorted(folders)


def test_a_session_that_never_finished_is_listed_as_unfinished(data_dir):
    from voice_trainer.scenario.loader import load
    from voice_trainer.session import Session

    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=1, trainee="anna", observers=[])
    session.start()
    session.trainee_says(SHORT_CALL[0])  # then the machine lost power: no result.json
    session.folder.close()
    with Library(data_dir) as library:
        report = library.sync()
        [summary] = library.list()
    assert report.errors == []
    assert (summary.session_id, summary.outcome, summary.score) == (session.id, "unfinished", None)
