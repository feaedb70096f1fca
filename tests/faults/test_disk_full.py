"""A disk that fills during a session, or is full when one starts (issue 9).

Real `voice-trainer practice` processes on a small tmpfs mounted as the data dir, or under a file size
limit (ulimit -f): the session ends in one line saying what ran out, where, and what to do; every event
logged before the fault stays readable, the recording stays a playable WAV with an exact header, and
the session is marked interrupted, at once when the room set aside for its end suffices, else by the
next start. A disk full at start leaves nothing behind for later commands to warn about.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli
from tests.faults.disk import file_size_limit, leave_free, small_disk
from voice_trainer.audio.recorder import HEADER_BYTES, is_complete
from voice_trainer.session_folder import RESERVE_BYTES, RESERVE_FILE, SessionFolder

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "ru" / "good_understood.txt"
REPLIES = [line.strip() for line in SCRIPT.read_text(encoding="utf-8").splitlines()
           if line.strip() and not line.startswith("#")]


def practice(data_dir: Path, *extra: str, env: dict | None = None, preexec_fn=None) -> subprocess.CompletedProcess:
    return run_cli("practice", "--text", "--script", str(SCRIPT), "--seed", "1", "--trainee", "olga",
                   "--data-dir", str(data_dir), *extra, env=env or clean_env(data_dir), preexec_fn=preexec_fn)


def the_session(data_dir: Path) -> Path:
    (folder,) = (data_dir / "sessions").iterdir()
    return folder


def whole_log(folder: Path) -> list[dict]:
    """Every line of the log, each one a whole event (a torn or damaged line fails the test)."""
    raw = (folder / "events.jsonl").read_bytes()
    assert raw.endswith(b"\n")
    timeline = SessionFolder(folder).read()
    assert not timeline.skipped and not timeline.torn_tail
    return [json.loads(line) for line in raw.decode("utf-8").splitlines()]


def said_in(log: list[dict]) -> list[str]:
    return [e["text"] for e in log if e["type"] == "trainee_turn"]


def assert_kept_and_interrupted(folder: Path) -> list[str]:
    """What the trainee said is a whole prefix of the script, the log ends interrupted, the result agrees."""
    log = whole_log(folder)
    said = said_in(log)
    assert 1 <= len(said) < len(REPLIES), said
    assert said == REPLIES[: len(said)]
    assert log[-1]["type"] == "session_ended" and log[-1]["interrupted"] is True
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert result["interrupted"] is True and [t["trainee"] for t in result["turns"]] == said
    return said


def assert_no_leftovers(folder: Path) -> None:
    assert not list(folder.glob("*.tmp")) and not (folder / RESERVE_FILE).exists()


def listed_quietly(data_dir: Path) -> list[dict]:
    """`sessions list` once the disk has room: no warning, no recovery left to do."""
    listed = run_cli("sessions", "list", "--json", "--data-dir", str(data_dir), env=clean_env(data_dir))
    assert listed.returncode == 0 and listed.stderr == "", listed.stderr
    return json.loads(listed.stdout)


# --- a text session ------------------------------------------------------------------------------


def test_disk_full_during_a_text_session_stops_it_in_one_line_marked_interrupted(tmp_path):
    with small_disk(tmp_path / "disk", "4m") as disk:
        data_dir = disk / "data"
        filler = leave_free(disk, RESERVE_BYTES + 4096)  # the log fills its first page mid-call

        message = assert_one_line_error(practice(data_dir), 7)

        folder = the_session(data_dir)
        assert message.startswith(f"{folder / 'events.jsonl'}: disk full, the call was stopped")
        assert "everything said until then is saved and the session is marked interrupted" in message
        assert "free some space" in message
        assert_kept_and_interrupted(folder)
        assert_no_leftovers(folder)

        filler.unlink()
        (row,) = listed_quietly(data_dir)
        assert row["interrupted"] is True and row["trainee"] == "olga"


def test_a_file_size_limit_on_the_log_is_one_line_and_the_next_start_marks_the_session(tmp_path):
    data_dir = tmp_path / "data"
    limit = 6000  # the log passes it mid-call; no room can be set aside under such a limit

    message = assert_one_line_error(practice(data_dir, preexec_fn=file_size_limit(limit)), 7)

    folder = the_session(data_dir)
    assert message.startswith(f"{folder / 'events.jsonl'}: the file size limit (ulimit -f) reached")
    assert "the next start of voice-trainer marks the session interrupted" in message
    assert "raise the file size limit" in message
    log = whole_log(folder)
    said = said_in(log)
    assert 1 <= len(said) < len(REPLIES) and said == REPLIES[: len(said)]
    assert not (folder / "result.json").exists()

    later = run_cli("sessions", "list", "--json", "--data-dir", str(data_dir), env=clean_env(data_dir))
    assert later.returncode == 0, later.stderr
    assert later.stderr.strip() == f"voice-trainer: recovered interrupted session {folder.name} " \
        f"({json.loads(later.stdout)[0]['outcome']}, score {json.loads(later.stdout)[0]['score']})"
    assert_kept_and_interrupted(folder)
    assert_no_leftovers(folder)
    assert listed_quietly(data_dir)[0]["interrupted"] is True


# --- full at start -------------------------------------------------------------------------------


@pytest.mark.parametrize("free,inodes,where", [
    (RESERVE_BYTES // 2, None, "sessions"),  # room for a few files, not for a session's end
    (0, 1, "data"),  # not even the data dir can be made
], ids=["too_little_room", "no_room_for_the_data_dir"])
def test_a_disk_full_at_start_is_one_line_and_leaves_no_half_made_session(tmp_path, free, inodes, where):
    with small_disk(tmp_path / "disk", "4m", inodes=inodes) as disk:
        data_dir = disk / "data"
        if inodes is None:
            leave_free(disk, free)

        message = assert_one_line_error(practice(data_dir), 7)

        assert message.startswith(str(data_dir if where == "data" else data_dir / "sessions"))
        assert "disk full" in message and "free some space" in message
        sessions = data_dir / "sessions"
        assert not sessions.exists() or list(sessions.iterdir()) == []
        for _ in range(2):  # the same line again, and no warning about a half-made session from any command
            assert assert_one_line_error(practice(data_dir), 7) == message
            if where == "sessions":
                later = run_cli("sessions", "list", "--data-dir", str(data_dir), env=clean_env(data_dir))
                assert later.returncode == 0 and later.stderr == "", later.stderr


def test_a_file_size_limit_does_not_stop_a_session_from_starting(tmp_path):
    data_dir = tmp_path / "data"
    done = practice(data_dir, "--json", preexec_fn=file_size_limit(RESERVE_BYTES // 2))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["outcome"] == "understood"
    assert_no_leftovers(the_session(data_dir))


# --- a recording session -------------------------------------------------------------------------


def assert_playable(recording: Path) -> float:
    """A WAV whose header says exactly what the file holds, readable by libsndfile and sox."""
    assert is_complete(recording)
    raw = recording.read_bytes()
    data_bytes = int.from_bytes(raw[40:44], "little")
    assert data_bytes == len(raw) - HEADER_BYTES and data_bytes % 4 == 0
    info = soundfile.info(str(recording))
    assert info.channels == 2 and info.samplerate == 16000
    sox = subprocess.run(["sox", "--i", "-D", str(recording)], capture_output=True, text=True)
    assert sox.returncode == 0 and float(sox.stdout) == pytest.approx(info.duration, abs=0.001)
    return info.duration


@pytest.mark.audio
def test_disk_full_while_the_customer_is_recorded_keeps_a_playable_recording(headset, tmp_path):
    with small_disk(tmp_path / "disk", "8m") as disk:
        data_dir = disk / "data"
        # The opening and the first replies fit (about 20 s at 64 KB/s); the call goes on past that.
        filler = leave_free(disk, RESERVE_BYTES + 1_300_000)

        message = assert_one_line_error(practice(data_dir, "--speak", env=clean_env(data_dir) | headset.client_env), 7)

        folder = the_session(data_dir)
        assert "disk full, the call was stopped" in message and str(folder) in message
        assert "the session is marked interrupted" in message
        said = assert_kept_and_interrupted(folder)
        assert_no_leftovers(folder)
        duration_s = assert_playable(folder / "recording.wav")
        log = whole_log(folder)
        played = [e for e in log if e["type"] == "speech_played" and e["end_ms"] <= 1000 * duration_s]
        assert played and played[0]["turn"] == 0 and len(said) >= 1
        audio, rate = soundfile.read(str(folder / "recording.wav"), dtype="int16")
        for line in played:  # every line heard before the disk filled is in the right channel
            span = audio[int(line["start_ms"] * rate / 1000):int(line["end_ms"] * rate / 1000), 1].astype(float)
            assert np.sqrt(np.mean(span**2)) > 300, line

        filler.unlink()
        (row,) = listed_quietly(data_dir)
        assert row["interrupted"] is True


RECORD_UNTIL_FULL = """
import sys
import numpy as np
from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.recorder import SessionRecorder
from voice_trainer.errors import DiskFull

recorder = SessionRecorder(sys.argv[1], hold_ms=0, write_every_ms=20)
tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(320) / 16000) * 32767).astype("<i2")
raised = 0
for n in range(500):  # 10 s of both sides; the file may hold far less
    chunk = AudioChunk.from_samples(tone, 16000, 20.0 * n)
    try:
        recorder.add_mic(chunk)
        recorder.add_customer(chunk)
    except DiskFull as full:
        raised += 1
        message = str(full)
print(raised, recorder.close(), message)
"""


def test_a_recording_that_hits_the_limit_mid_frame_is_cut_to_its_last_whole_frame(tmp_path):
    recording = tmp_path / "recording.wav"
    limit = HEADER_BYTES + 4 * 16000 + 2  # one second of stereo 16-bit frames and half a frame more
    child = subprocess.run([sys.executable, "-c", RECORD_UNTIL_FULL, str(recording)], capture_output=True, text=True,
                           timeout=120, preexec_fn=file_size_limit(limit))
    assert child.returncode == 0, child.stderr
    raised, duration_s, message = child.stdout.split(" ", 2)
    assert raised == "1"  # said once; what came after was dropped quietly
    assert message.startswith(f"{recording}: the file size limit (ulimit -f) reached while recording; "
                              "the recording stops at 0:01")
    assert recording.stat().st_size == HEADER_BYTES + 4 * 16000 and float(duration_s) == 1.0
    assert assert_playable(recording) == 1.0
