"""Recovering sessions that never finished: killed processes leave logs and recordings; the next start
scores them, marks them interrupted and repairs their recordings."""

import fcntl
import json
import signal
import subprocess
import sys
import textwrap

import pytest
import soundfile as sf

from tests.fixtures.sessions import GOOD_CALL, SHORT_CALL, record_session
from voice_trainer.audio.recorder import is_complete
from voice_trainer.events import SessionEnded, SpeechPlayed, TraineeTurn
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.session_folder import EVENTS_FILE, RECORDING_FILE, RESULT_FILE, TRANSCRIPT_FILE, SessionFolder
from voice_trainer.trainer.recovery import recover_unfinished

KILLED_MID_SESSION = textwrap.dedent("""
    import sys, time
    import numpy as np
    from pathlib import Path
    from voice_trainer.audio.chunk import AudioChunk
    from voice_trainer.audio.recorder import SessionRecorder
    from voice_trainer.events import Word
    from voice_trainer.scenario.loader import load
    from voice_trainer.session import Session
    from voice_trainer.session_folder import RECORDING_FILE

    session = Session(load("razryv", "ru"), data_dir=Path(sys.argv[1]), seed=1, trainee="anna", mode="voice")
    recorder = SessionRecorder(session.folder.recording_path)
    session.start()
    for i, text in enumerate(sys.argv[2:]):
        words = tuple(Word(w, 1000.0 * i + 100 * k, 1000.0 * i + 100 * k + 90, 0.8) for k, w in enumerate(text.split()))
        session.trainee_says(text, words=words, start_ms=words[0].start_ms, end_ms=words[-1].end_ms, source="voice")
    t = np.arange(320) / 16000
    fed_ms = 0
    while True:
        tone = 0.3 * np.sin(2 * np.pi * 440 * (t + fed_ms / 1000))
        recorder.add_mic(AudioChunk.from_samples(tone, 16000, fed_ms))
        recorder.add_customer(AudioChunk.from_samples(tone * 0, 16000, fed_ms))
        fed_ms += 20
        print(fed_ms, flush=True)
        time.sleep(0.002)  # paces the fake device so the kill lands mid-recording
""")


def run_and_kill(data_dir, replies, record_ms=1500):
    """A voice session in a child process, killed with SIGKILL mid-recording. Returns its folder."""
    child = subprocess.Popen([sys.executable, "-c", KILLED_MID_SESSION, str(data_dir), *replies],
                             stdout=subprocess.PIPE, text=True)
    while int(child.stdout.readline()) < record_ms:
        pass
    child.send_signal(signal.SIGKILL)
    child.stdout.read()
    assert child.wait() == -signal.SIGKILL
    (folder,) = (data_dir / "sessions").iterdir()
    return folder


def unfinished_session(data_dir, replies, seed=1):
    """A session dropped without finish(), as if the process died between turns."""
    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=seed)
    session.start()
    for text in replies:
        session.trainee_says(text)
    session.folder.close()
    return session.folder.path


def snapshot(root):
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_killed_voice_session_is_scored_marked_interrupted_and_its_recording_repaired(data_dir):
    folder = run_and_kill(data_dir, GOOD_CALL[:2])
    assert not (folder / RESULT_FILE).exists()
    last_t_ms = SessionFolder(folder).events()[-1].t_ms

    (recovered,) = recover_unfinished(data_dir)

    assert recovered.ok and recovered.folder == folder and recovered.session_id == folder.name
    assert recovered.outcome == "abandoned"
    result = json.loads((folder / RESULT_FILE).read_text())
    assert result["interrupted"] is True
    assert result["outcome"] == "abandoned" and result["score"] == recovered.score
    assert [t["trainee"] for t in result["turns"]] == GOOD_CALL[:2]

    events = SessionFolder(folder).events()
    assert events[-1] == SessionEnded(t_ms=last_t_ms, outcome="abandoned", score=recovered.score, interrupted=True)

    transcript = json.loads((folder / TRANSCRIPT_FILE).read_text())
    assert [t["trainee"] for t in transcript["turns"]] == GOOD_CALL[:2]
    assert transcript["turns"][1]["words"][0] == {"text": "я", "start_ms": 1000.0, "end_ms": 1090.0, "conf": 0.8}
    assert transcript["turns"][0]["moves"] and transcript["turns"][0]["customer"]
    assert transcript["interrupted"] is True

    recording = folder / RECORDING_FILE
    assert is_complete(recording)
    assert recovered.recording_s == pytest.approx(sf.info(recording).duration)
    assert recovered.recording_s >= 1.0  # recorded up to the kill, not just the start
    out = subprocess.run(["sox", "--i", "-D", str(recording)], capture_output=True, text=True, check=True)
    assert float(out.stdout) == pytest.approx(recovered.recording_s, abs=0.001)


def test_recovered_transcript_lists_customer_lines_with_when_they_played(data_dir):
    folder = record_session(data_dir, SHORT_CALL, seed=2, voiced=True)
    (folder / RESULT_FILE).unlink()  # killed after the last turn, before the result was written
    played = [e for e in SessionFolder(folder).events() if isinstance(e, SpeechPlayed)]

    (recovered,) = recover_unfinished(data_dir)

    assert recovered.ok
    transcript = json.loads((folder / TRANSCRIPT_FILE).read_text())
    lines = transcript["customer_lines"]
    assert [(line["turn"], line["start_ms"], line["end_ms"]) for line in lines[: len(played)]] == [
        (p.turn, p.start_ms, p.end_ms) for p in played
    ]
    assert lines[0]["turn"] == 0 and lines[0]["text"]
    turns = [e for e in SessionFolder(folder).events() if isinstance(e, TraineeTurn)]
    assert [w["conf"] for w in transcript["turns"][0]["words"]] == [w.conf for w in turns[0].words]
    assert transcript["turns"][0]["reply_start_ms"] == played[1].start_ms


def test_a_session_that_logged_its_end_is_not_ended_twice(data_dir):
    folder = record_session(data_dir, GOOD_CALL[:3], seed=1)
    (folder / RESULT_FILE).unlink()

    (recovered,) = recover_unfinished(data_dir)

    ends = [e for e in SessionFolder(folder).events() if isinstance(e, SessionEnded)]
    assert len(ends) == 1 and ends[0].interrupted is False
    assert json.loads((folder / RESULT_FILE).read_text())["interrupted"] is True


def test_a_torn_last_log_line_is_dropped_before_the_end_is_appended(data_dir):
    folder = unfinished_session(data_dir, GOOD_CALL[:2])
    with open(folder / EVENTS_FILE, "a", encoding="utf-8") as f:
        f.write('{"type": "trainee_turn", "t_ms": 20.0, "turn": 3, "text": "скажите по')  # killed mid-write

    (recovered,) = recover_unfinished(data_dir)

    assert recovered.ok
    lines = (folder / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
    assert all(json.loads(line) for line in lines)
    assert json.loads(lines[-1])["type"] == "session_ended"
    assert "скажите по" not in "".join(lines)


def test_a_damaged_log_is_reported_and_left_alone_while_the_others_are_recovered(data_dir):
    first = unfinished_session(data_dir, GOOD_CALL[:1], seed=1)
    second = unfinished_session(data_dir, GOOD_CALL[:2], seed=2)
    damaged = data_dir / "sessions" / "00000000-000000-damaged-000000"
    damaged.mkdir()
    (damaged / EVENTS_FILE).write_bytes(b"\x00\x01garbage\nnot json either\n{\"type\": \"session_started\"}\n")
    (damaged / RECORDING_FILE).write_bytes(b"RIFF")
    before = snapshot(damaged)

    recovered = {r.folder: r for r in recover_unfinished(data_dir)}

    assert set(recovered) == {first, second, damaged}
    assert recovered[first].ok and recovered[second].ok
    assert not recovered[damaged].ok
    assert str(damaged / EVENTS_FILE) in recovered[damaged].error and "damaged" in recovered[damaged].error
    assert snapshot(damaged) == before
    assert (first / RESULT_FILE).is_file() and (second / RESULT_FILE).is_file()


def test_a_session_whose_scenario_is_gone_is_reported_not_raised(data_dir):
    folder = unfinished_session(data_dir, GOOD_CALL[:1])
    log = folder / EVENTS_FILE
    first, *rest = log.read_text(encoding="utf-8").splitlines()
    started = json.loads(first) | {"scenario": "no_such_scenario", "scenario_file": "/gone/no_such_scenario.ru.yaml"}
    log.write_text("\n".join([json.dumps(started, ensure_ascii=False), *rest]) + "\n", encoding="utf-8")

    (recovered,) = recover_unfinished(data_dir)

    assert not recovered.ok and "no_such_scenario" in recovered.error
    assert not (folder / RESULT_FILE).exists()


def test_recovering_twice_changes_nothing(data_dir):
    run_and_kill(data_dir, GOOD_CALL[:2], record_ms=300)
    unfinished_session(data_dir, GOOD_CALL[:1], seed=3)
    assert all(r.ok for r in recover_unfinished(data_dir))
    before = snapshot(data_dir)

    assert recover_unfinished(data_dir) == []
    assert snapshot(data_dir) == before


def test_finished_sessions_are_not_touched(data_dir):
    record_session(data_dir, GOOD_CALL, seed=1)
    before = snapshot(data_dir)

    assert recover_unfinished(data_dir) == []
    assert snapshot(data_dir) == before


def test_no_sessions_dir_means_nothing_to_recover(data_dir):
    assert recover_unfinished(data_dir) == []


def test_a_session_still_running_in_another_process_is_left_alone(data_dir):
    folder = unfinished_session(data_dir, GOOD_CALL[:1])
    with open(folder / EVENTS_FILE, "a") as live_log:
        fcntl.flock(live_log, fcntl.LOCK_EX)  # what a running session holds on its log
        assert recover_unfinished(data_dir) == []
        assert not (folder / RESULT_FILE).exists()
    (recovered,) = recover_unfinished(data_dir)
    assert recovered.ok and (folder / RESULT_FILE).is_file()


def test_a_recording_killed_before_its_header_still_lets_the_session_be_recovered(data_dir):
    folder = unfinished_session(data_dir, GOOD_CALL[:2])
    (folder / RECORDING_FILE).write_bytes(b"")  # killed between creating the file and writing the header

    (recovered,) = recover_unfinished(data_dir)

    assert recovered.ok and recovered.outcome == "abandoned"
    assert recovered.recording_s is None and str(folder / RECORDING_FILE) in recovered.recording_problem
    assert json.loads((folder / RESULT_FILE).read_text())["interrupted"] is True
