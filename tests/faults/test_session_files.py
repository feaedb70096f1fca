"""Session files left damaged by a crash (issue 9): the log is the truth, and the next start rebuilds
what can be rebuilt from it, once, without touching what was logged.

A torn or zero-filled result.json is rebuilt from the log at the next start; an unfinished session with
a damaged line is still scored from the lines that read; a folder killed before its first event is
removed without a word; a data dir that cannot be written is left alone, without warnings.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from tests.faults.cli_run import clean_env, run_cli
from tests.faults.disk import small_disk
from tests.fixtures.sessions import GOOD_CALL, record_session
from voice_trainer.session import Session
from voice_trainer.scenario.loader import load
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE, SessionFolder
from voice_trainer.trainer.recovery import recover_sessions


def next_start(data_dir: Path) -> subprocess.CompletedProcess:
    done = run_cli("sessions", "list", "--json", "--data-dir", str(data_dir), env=clean_env(data_dir))
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done


def test_a_torn_result_is_rebuilt_from_the_log_at_the_next_start(data_dir):
    folder = record_session(data_dir, GOOD_CALL, seed=2, trainee="olga")
    written = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    log_before = (folder / EVENTS_FILE).read_bytes()
    torn = (folder / RESULT_FILE).read_bytes()[:1000]
    (folder / RESULT_FILE).write_bytes(torn)  # a crash of a writer that did not write atomically

    done = next_start(data_dir)

    assert done.stderr.strip() == (f"voice-trainer: rebuilt the damaged result of session {folder.name} from its log "
                                   f"({written['outcome']}, score {written['score']})")
    rebuilt = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    for key in ("session_id", "trainee", "outcome", "score", "met", "missed", "rubric", "turns", "interrupted"):
        assert rebuilt[key] == written[key], key
    assert (folder / EVENTS_FILE).read_bytes() == log_before  # the truth is not touched
    (row,) = json.loads(done.stdout)
    assert row["outcome"] == written["outcome"] and row["score"] == written["score"]
    assert next_start(data_dir).stderr == ""  # once


def test_a_zero_filled_result_is_rebuilt_too(data_dir):
    folder = record_session(data_dir, GOOD_CALL[:3], seed=4)
    written = json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))
    (folder / RESULT_FILE).write_bytes(bytes((folder / RESULT_FILE).stat().st_size))  # blocks lost in a crash

    assert "rebuilt the damaged result" in next_start(data_dir).stderr
    assert json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))["score"] == written["score"]


def test_an_unfinished_session_with_a_damaged_line_is_still_recovered_from_the_rest(data_dir):
    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=1)
    session.start()
    for text in GOOD_CALL[:3]:
        session.trainee_says(text)
    session.folder.close()  # the process died here
    log = session.folder.events_path
    lines = log.read_bytes().split(b"\n")
    lines.insert(3, b"\x00\x00\x00 garbage from a bad sector")
    log.write_bytes(b"\n".join(lines))
    damaged = log.read_bytes()

    done = next_start(data_dir)

    assert done.stderr.startswith(f"voice-trainer: recovered interrupted session {session.id}")
    assert log.read_bytes().startswith(damaged)  # appended to, never rewritten
    result = json.loads((session.folder.result_path).read_text(encoding="utf-8"))
    assert result["interrupted"] is True and [t["trainee"] for t in result["turns"]] == GOOD_CALL[:3]
    said: list[str] = []
    recover_sessions(data_dir, said.append)  # once (how the library lists a damaged log is its own matter)
    assert said == []


def test_a_folder_killed_before_its_first_event_goes_away_without_a_word(data_dir):
    folder = SessionFolder.create(data_dir, "20250101-000000-anna-000000")
    folder.close()  # killed right after making it: an empty log, nothing said
    old = time.time() - 3600
    os.utime(folder.events_path, (old, old))

    assert next_start(data_dir).stderr == ""
    assert not folder.path.exists()


def test_a_session_starting_right_now_is_not_taken_for_one_killed_before_its_first_event(data_dir):
    folder = SessionFolder.create(data_dir, "20250101-000000-anna-000001")
    folder.close()  # not locked yet, as for an instant in a starting process; its log is brand new

    said: list[str] = []
    recover_sessions(data_dir, said.append)
    assert said == [] and folder.path.is_dir()


def test_a_read_only_data_dir_is_left_alone_without_warnings(tmp_path):
    with small_disk(tmp_path / "disk", "8m") as disk:
        data_dir = disk / "data"
        session = Session(load("razryv", "ru"), data_dir=data_dir, seed=1)
        session.start()
        session.trainee_says(GOOD_CALL[0])
        session.folder.close()  # unfinished
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)

        said: list[str] = []
        recover_sessions(data_dir, said.append)

        assert said == []
        assert not session.folder.has_result
