"""A session on disk, read and appended through SessionFolder: old folders open, damaged lines are
skipped and counted (the rest is read), a wrong-typed result is one clear error, a held log is busy."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from voice_trainer.errors import SessionError
from voice_trainer.events import Notice, SessionEnded, SessionStarted, TraineeTurn
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE, SessionBusy, SessionFolder
from voice_trainer.trainer.library import summarize
from voice_trainer.trainer.report import review_data

OLD_SESSION = Path(__file__).resolve().parent / "fixtures" / "old_session"  # written by the code before SessionFolder


@pytest.fixture
def old_session(tmp_path) -> SessionFolder:
    folder = tmp_path / "sessions" / "20240101-120000-olga-a60b84"
    shutil.copytree(OLD_SESSION, folder)
    return SessionFolder(folder)


def lines_of(folder: SessionFolder) -> list[str]:
    return folder.events_path.read_text(encoding="utf-8").splitlines()


def test_a_folder_written_before_keeps_opening(old_session):
    events = old_session.events()
    assert isinstance(events[0], SessionStarted) and isinstance(events[-1], SessionEnded)
    assert old_session.started().trainee == "Olga"
    result = old_session.scored_result()
    assert result.outcome == "abandoned" and result.score == result.data["score"]
    assert [t.turn for t in result.turns] == [t.index for t in old_session.turns()] == [1, 2]
    assert old_session.scenario().id == "razryv"  # its scenario file is gone: found by name
    assert summarize(old_session.path).outcome == "abandoned"
    assert review_data(old_session.path)["turns"][1]["text"] == "какой у вас модем"


@pytest.mark.parametrize("bad_line,reason", [
    ("null", "not an event object but null"),
    ("42", "not an event object but int"),
    ('["trainee_turn"]', "not an event object but list"),
    ('{"type": "trainee_turn", "turn": "two", "text": "x"}', "trainee_turn.turn should be int, not str"),
    ('{"type": "trainee_turn", "turn": 2, "words": [{"text": 5}]}', "trainee_turn.words.text should be str"),
    ('{"type": "no_such_event"}', "unknown event type"),
    (b"\x00\x01\xff\xfe\x80 binary garbage", "Expecting value"),
], ids=["null", "number", "list", "wrong_type", "wrong_word", "unknown_type", "garbage"])
def test_a_damaged_line_is_skipped_and_counted_and_the_rest_is_read(old_session, bad_line, reason):
    lines = [line.encode("utf-8") for line in lines_of(old_session)]
    lines.insert(4, bad_line if isinstance(bad_line, bytes) else bad_line.encode("utf-8"))
    old_session.events_path.write_bytes(b"\n".join(lines) + b"\n")
    timeline = old_session.read()
    assert timeline.damaged and [s.line for s in timeline.skipped] == [5]
    assert reason in timeline.skipped[0].reason
    assert len(timeline.events) == len(lines) - 1 and isinstance(timeline.events[-1], SessionEnded)
    with pytest.raises(SessionError, match=rf"{EVENTS_FILE}:5: unreadable event .*damaged"):
        old_session.events()  # the strict reading the commands use today


def test_a_torn_last_line_is_expected_not_damage(old_session):
    with open(old_session.events_path, "a", encoding="utf-8") as log:
        log.write('{"type": "notice", "kind": "de')
    timeline = old_session.read()
    assert timeline.torn_tail and not timeline.damaged
    assert old_session.events() == timeline.events


def test_an_append_after_a_torn_line_starts_on_its_own_line(old_session):
    with open(old_session.events_path, "a", encoding="utf-8") as log:
        log.write('{"type": "notice", "kind": "de')
    with old_session:
        old_session.append(Notice(kind="test", message="after a kill"))
    timeline = old_session.read()
    assert not timeline.damaged and not timeline.torn_tail
    assert timeline.events[-1] == Notice(kind="test", message="after a kill")


def test_a_log_held_by_a_running_session_is_busy(old_session):
    other = SessionFolder(old_session.path)
    with old_session:
        old_session.open_log()
        with pytest.raises(SessionBusy, match="in use by another voice-trainer"):
            other.append(Notice(kind="test"))
    with other:
        other.append(Notice(kind="test"))  # free again once the first lets go


@pytest.mark.parametrize("field,value,message", [
    ("score", "ninety", "result.json.score should be int, not str"),
    ("rubric", [{"id": "greet", "met": "yes"}], "result.json.rubric.met should be bool, not str"),
    ("turns", {"1": {}}, "result.json.turns should be tuple, not dict"),
])
def test_a_result_with_a_wrong_type_is_one_clear_error(old_session, field, value, message):
    data = json.loads(old_session.result_path.read_text(encoding="utf-8"))
    data[field] = value
    old_session.result_path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(SessionError) as err:
        old_session.result()
    assert str(old_session.path / RESULT_FILE) in str(err.value) and message in str(err.value)


def test_a_folder_without_a_log_is_not_a_session(tmp_path):
    with pytest.raises(SessionError, match="not a session folder"):
        SessionFolder(tmp_path).read()
    assert not SessionFolder(tmp_path).is_session()


def test_a_turn_event_keeps_its_words_typed(old_session):
    turn = next(e for e in old_session.events() if isinstance(e, TraineeTurn))
    assert isinstance(turn.words, tuple) and turn.source == "text"


# --- a result rebuilt from the log ------------------------------------------------------------------


@pytest.fixture
def finished(data_dir) -> SessionFolder:
    from tests.fixtures.sessions import GOOD_CALL, record_session

    return SessionFolder(record_session(data_dir, GOOD_CALL, seed=3, trainee="olga"))


def test_a_readable_result_is_the_file_itself(finished):
    result = finished.result_or_rebuilt()
    assert result.rebuilt is None and result == finished.scored_result()


@pytest.mark.parametrize("damage,why", [
    (lambda path: path.unlink(), "no result.json"),
    (lambda path: path.write_bytes(path.read_bytes()[:700]), "unreadable result"),
    (lambda path: path.write_bytes(b""), "unreadable result"),
    (lambda path: path.write_text(json.dumps(json.loads(path.read_text()) | {"score": "ninety"})),
     "result.json.score should be int, not str"),
    (lambda path: path.write_text("[1, 2]"), "not a JSON object"),
], ids=["missing", "torn", "empty", "wrong_type", "not_an_object"])
def test_a_missing_torn_or_wrongly_typed_result_is_rebuilt_from_the_log(finished, damage, why):
    written = finished.scored_result()
    damage(finished.result_path)
    before = finished.result_path.read_bytes() if finished.result_path.exists() else None

    rebuilt = finished.result_or_rebuilt()

    assert why in rebuilt.rebuilt
    assert (rebuilt.outcome, rebuilt.score, rebuilt.interrupted) == (written.outcome, written.score, False)
    assert rebuilt.rubric == written.rubric and rebuilt.turns == written.turns
    assert rebuilt.data["trainee"] == "olga" and rebuilt.data["session_id"] == finished.id
    after = finished.result_path.read_bytes() if finished.result_path.exists() else None
    assert after == before  # nothing written: a read-only data dir lists it too


def test_a_log_that_never_ended_rebuilds_an_interrupted_result(finished):
    lines = lines_of(finished)
    finished.events_path.write_text("\n".join(lines[:-4]) + "\n", encoding="utf-8")  # no session_ended
    finished.result_path.unlink()
    rebuilt = finished.result_or_rebuilt()
    assert rebuilt.interrupted is True and rebuilt.rebuilt == "no result.json"


def test_a_damaged_line_in_the_log_does_not_stop_the_rebuild(finished):
    lines = lines_of(finished)
    lines.insert(3, "null")
    finished.events_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    finished.result_path.write_text("{", encoding="utf-8")
    assert finished.result_or_rebuilt().outcome == finished.read().events[-1].outcome


def test_a_log_that_cannot_give_a_result_is_one_session_error(finished):
    finished.result_path.unlink()
    started = json.loads(lines_of(finished)[0]) | {"scenario": "gone", "scenario_file": "/gone.yaml"}
    finished.events_path.write_text(json.dumps(started) + "\n", encoding="utf-8")
    with pytest.raises(SessionError, match=rf"{finished.path}: cannot rebuild the result from the log: .*gone"):
        finished.result_or_rebuilt()
    finished.events_path.write_text('{"type": "notice", "kind": "x"}\n', encoding="utf-8")
    with pytest.raises(SessionError, match="no session_started event"):
        finished.result_or_rebuilt()
