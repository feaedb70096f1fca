"""`kill -9` in the middle of a session (issue 9): the log stays whole, the recording playable, and the
next start of any command recovers the session as interrupted, once, scoring everything said.

Real `voice-trainer practice` processes fed through a pipe, killed with SIGKILL once the other
process's log shows the moment wanted; nothing here sleeps for readiness.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import soundfile

from tests.faults.cli_run import CLI, clean_env, run_cli
from voice_trainer.audio.recorder import is_complete
from voice_trainer.session_folder import RESERVE_FILE, SessionFolder

REPLIES = [
    "здравствуйте приношу извинения за разрывы сейчас растаял снег и подземные узлы залило водой",
    "я вас понял давайте уточним какого числа вы подключились",
    "а до какого числа у вас не было разрывов",
]


def start(data_dir: Path, *extra: str, env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(CLI), "practice", "--text", "--data-dir", str(data_dir), "--seed", "4", "--trainee", "olga", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        env=env or clean_env(data_dir),
    )
    proc.stdin.write("".join(r + "\n" for r in REPLIES[:2]))
    proc.stdin.flush()  # stdin stays open: the trainee is still typing
    return proc


def logged(data_dir: Path) -> tuple[Path | None, list[dict]]:
    """The other process's session folder and the whole lines of its log so far."""
    folders = sorted((data_dir / "sessions").glob("*/events.jsonl")) if (data_dir / "sessions").is_dir() else []
    if not folders:
        return None, []
    lines = folders[0].read_bytes().split(b"\n")[:-1]  # the last piece may be being written
    return folders[0].parent, [json.loads(line) for line in lines]


def kill_when(proc: subprocess.Popen, data_dir: Path, moment, timeout_s: float = 180) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        folder, log = logged(data_dir)
        if folder is not None and moment(log):
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            assert proc.returncode == -signal.SIGKILL
            return folder
        time.sleep(0.02)
    raise AssertionError(f"the moment never came; log: {[e['type'] for e in logged(data_dir)[1]]}")


def answered(turn: int):
    return lambda log: any(e["type"] == "customer_line" and e.get("turn") == turn for e in log)


def assert_whole_log(folder: Path) -> list[dict]:
    timeline = SessionFolder(folder).read()
    assert not timeline.skipped, timeline.skipped
    return [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()][: len(timeline.events)]


def recovered_by_the_next_start(data_dir: Path, folder: Path, env: dict) -> dict:
    """The next command recovers it (one line), the one after says nothing; returns result.json."""
    listed = run_cli("sessions", "list", "--json", "--data-dir", str(data_dir), env=env)
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert listed.stderr.strip() == (f"voice-trainer: recovered interrupted session {folder.name} "
                                     f"({row['outcome']}, score {row['score']})")
    assert row["interrupted"] is True and row["trainee"] == "olga"
    again = run_cli("sessions", "list", "--data-dir", str(data_dir), env=env)
    assert again.returncode == 0 and again.stderr == ""
    log = assert_whole_log(folder)
    assert log[-1]["type"] == "session_ended" and log[-1]["interrupted"] is True
    assert not (folder / RESERVE_FILE).exists()  # the room a session sets aside is given back
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert result["interrupted"] is True
    transcript = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert [t["trainee"] for t in transcript["turns"]] == [t["trainee"] for t in result["turns"]]
    return result


def test_a_text_session_killed_mid_call_keeps_its_log_and_is_recovered_as_interrupted(tmp_path):
    data_dir = tmp_path / "data"
    folder = kill_when(start(data_dir), data_dir, answered(2))

    before = assert_whole_log(folder)
    assert [e["text"] for e in before if e["type"] == "trainee_turn"] == REPLIES[:2]
    assert not (folder / "result.json").exists()

    result = recovered_by_the_next_start(data_dir, folder, clean_env(data_dir))
    assert [t["trainee"] for t in result["turns"]] == REPLIES[:2]
    assert [t["customer"] for t in result["turns"]] == [
        e["text"] for e in before if e["type"] == "customer_line" and e["turn"] in (1, 2)]


@pytest.mark.audio
def test_a_recording_session_killed_while_the_customer_speaks_keeps_a_playable_recording(headset, tmp_path):
    """Text mode with the customer speaking on the headset: the recorder is writing when the kill lands."""
    data_dir = tmp_path / "data"
    env = clean_env(data_dir) | headset.client_env
    folder = kill_when(start(data_dir, "--speak", env=env), data_dir,
                       lambda log: answered(1)(log) and not any(e["type"] == "speech_played" and e["turn"] == 1
                                                                for e in log))

    recording = folder / "recording.wav"
    opening = next(e for e in assert_whole_log(folder) if e["type"] == "speech_played" and e["turn"] == 0)
    info = soundfile.info(str(recording))  # playable as the kill left it: the header is never ahead of the data
    # The recorder holds back at most hold_ms (1 s) plus one write (250 ms) plus the output latency.
    assert info.channels == 2 and info.duration * 1000 >= opening["end_ms"] - 2000

    result = recovered_by_the_next_start(data_dir, folder, env)
    assert [t["trainee"] for t in result["turns"]] == REPLIES[:1] or [t["trainee"] for t in result["turns"]] == REPLIES[:2]
    assert is_complete(recording)
    repaired = soundfile.info(str(recording))
    assert repaired.duration >= info.duration
    sox = subprocess.run(["sox", "--i", "-D", str(recording)], capture_output=True, text=True)
    assert sox.returncode == 0 and float(sox.stdout) == pytest.approx(repaired.duration, abs=0.001)
