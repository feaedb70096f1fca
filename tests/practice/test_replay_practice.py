"""`practice --replies`: recorded trainee turns through the real recognizer, and text mode with the
customer's voice. Subprocesses, as a trainer runs them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import soundfile

from tests.fixtures.headset import loud_span_ms, read_wav, rms
from tests.practice.test_voice_practice import channel, cli, of_type
from voice_trainer.session_folder import SessionFolder
from voice_trainer.events import to_json

TURNS = ["안녕하세요 고객님 지원팀입니다", "연결 날짜를 알려 주시겠어요", "모뎀 모델이 무엇입니까"]


def run(*args: str, env: dict | None = None, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run([cli(), *args], capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)


def test_replayed_turns_are_recognized_in_order_and_recorded(ko_model_path, espeak_wav, tmp_path):
    wavs = [espeak_wav(t, rate_hz=rate) for t, rate in zip(TURNS, (16000, 44100, 48000))]
    data_dir = tmp_path / "data"
    proc = run("practice", "--replies", *map(str, wavs), "--model", str(ko_model_path),
               "--data-dir", str(data_dir), "--seed", "2", "--json", "--trainee", "kim")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["mode"] == "replay" and result["trainee"] == "kim" and not result["interrupted"]
    assert len(result["turns"]) == 3
    folder = Path(result["folder"])
    log = [to_json(e) for e in SessionFolder(folder).events()]
    turns = of_type(log, "trainee_turn")
    assert [t["source"] for t in turns] == ["replay"] * 3
    for t in turns:
        assert t["text"] and t["words"]
    # Each turn sits after the previous customer reply on one timeline, the way a live call would.
    played = of_type(log, "speech_played")
    assert len(played) == 4  # the opening and three replies
    for turn, t in enumerate(turns, 1):
        before = of_type(log, "speech_played", turn - 1)[0]
        after = of_type(log, "speech_played", turn)[0]
        assert before["end_ms"] <= t["start_ms"] < t["end_ms"] <= after["start_ms"]
    recording = folder / "recording.wav"
    info = soundfile.info(str(recording))
    assert info.channels == 2
    assert abs(info.duration * 1000 - played[-1]["end_ms"]) < 500
    for t in turns:
        assert rms(channel(recording, 0, t["start_ms"], t["end_ms"])) > 300
        assert rms(channel(recording, 1, t["start_ms"], t["end_ms"])) < 50
    for p in played:
        assert rms(channel(recording, 1, p["start_ms"], p["end_ms"])) > 300
    transcript = json.loads((folder / "transcript.json").read_text(encoding="utf-8"))
    assert len(transcript["turns"]) == 3


def test_a_bad_reply_file_fails_before_a_session_is_started(ko_model_path, espeak_wav, tmp_path):
    good = espeak_wav(TURNS[0])
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio", encoding="utf-8")
    data_dir = tmp_path / "data"
    proc = run("practice", "--replies", str(good), str(bad), "--model", str(ko_model_path), "--data-dir", str(data_dir))
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "notes.wav" in proc.stderr
    assert not (data_dir / "sessions").exists() or not any((data_dir / "sessions").iterdir())


def test_replay_needs_a_model_and_says_how_to_get_one(espeak_wav, tmp_path):
    proc = run("practice", "--replies", str(espeak_wav(TURNS[0])), "--lang", "en", "--data-dir", str(tmp_path))
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert "models install en" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_replay_and_text_are_mutually_exclusive(espeak_wav, tmp_path):
    proc = run("practice", "--text", "--replies", str(espeak_wav(TURNS[0])), "--data-dir", str(tmp_path))
    assert proc.returncode == 2 and "--replies" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.audio
def test_text_practice_with_the_customers_voice_records_him(headset, tmp_path):
    script = tmp_path / "replies.txt"
    script.write_text("здравствуйте извините за разрывы\nподскажите когда вы подключились\n", encoding="utf-8")
    heard = tmp_path / "speaker.wav"
    with headset.record_speaker(heard):
        proc = run("practice", "--text", "--script", str(script), "--speak", "--data-dir", str(tmp_path / "data"),
                   "--seed", "5", "--json", env=headset.env)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    folder = Path(result["folder"])
    log = [to_json(e) for e in SessionFolder(folder).events()]
    played = of_type(log, "speech_played")
    assert [p["turn"] for p in played] == [0, 1, 2]
    spoken_ms = sum(p["end_ms"] - p["start_ms"] for p in played)
    assert loud_span_ms(read_wav(heard)) >= 0.8 * spoken_ms
    recording = folder / "recording.wav"
    for p in played:
        assert rms(channel(recording, 1, p["start_ms"], p["end_ms"])) > 300
    assert rms(channel(recording, 0, 0, played[-1]["end_ms"])) == 0  # no microphone in text mode
