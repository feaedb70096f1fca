"""`voice-trainer practice` by voice on a virtual headset, as a user runs it.

The trainee's turns are Korean espeak-ng speech played into the "mic" sink (the only real Vosk model
installable here is Korean); the app listens on its monitor, and the customer's voice goes to the
"speaker" sink, whose monitor the test records. The scenario is the Russian seed: Korean words are
not moves, so the customer answers "what?" -- that is fine, the loop is what is under test.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import soundfile

from tests.fixtures.headset import loud_span_ms, read_wav, rms, start_pulse
from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.settings import DEFAULT_TRAILING_SILENCE_FLOOR_MS

pytestmark = pytest.mark.audio  # a private PulseAudio server stands in for the headset

TRAINEE_TURNS = ["안녕하세요 고객님 지원팀입니다", "연결 날짜를 알려 주시겠어요"]


def cli() -> str:
    import shutil
    import sys

    here = Path(sys.executable).parent / "voice-trainer"
    return str(here) if here.exists() else shutil.which("voice-trainer")


def events(folder: Path) -> list[dict]:
    path = folder / "events.jsonl"
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # being written right now
    return out


def session_folder(data_dir: Path, proc: subprocess.Popen, timeout_s: float = 60) -> Path:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sorted((data_dir / "sessions").glob("*/events.jsonl")) if (data_dir / "sessions").exists() else []
        if found:
            return found[0].parent
        assert proc.poll() is None, proc.communicate()[1]
        time.sleep(0.1)
    raise AssertionError("no session folder appeared")


def wait_for(folder: Path, proc: subprocess.Popen, predicate, what: str, timeout_s: float = 90) -> list[dict]:
    """Poll the other process's event log (waiting on a process, not on behaviour of our own)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        log = events(folder)
        if predicate(log):
            return log
        if proc.poll() is not None:
            raise AssertionError(f"practice exited ({proc.returncode}) before {what}: {proc.communicate()[1]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}; log: {[e['type'] for e in events(folder)]}")


def of_type(log: list[dict], kind: str, turn: int | None = None) -> list[dict]:
    return [e for e in log if e["type"] == kind and (turn is None or e.get("turn") == turn)]


def start_practice(headset_env: dict, data_dir: Path, model: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [cli(), "practice", "--model", str(model), "--data-dir", str(data_dir), "--seed", "3", "--json",
         "--trailing-silence-ms", "600", *extra],
        env=headset_env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def channel(path: Path, index: int, start_ms: float, end_ms: float) -> AudioChunk:
    samples, rate = soundfile.read(str(path), dtype="int16", always_2d=True)
    a, b = int(start_ms * rate / 1000), int(end_ms * rate / 1000)
    return AudioChunk.from_samples(samples[a:b, index], rate)


@pytest.fixture
def trainee_wavs(espeak_wav) -> list[Path]:
    return [espeak_wav(text, rate_hz=44100, channels=1) for text in TRAINEE_TURNS]


def test_a_spoken_call_on_the_virtual_headset(headset, ko_model_path, trainee_wavs, tmp_path):
    data_dir = tmp_path / "data"
    heard = tmp_path / "speaker.wav"
    with headset.record_speaker(heard):
        proc = start_practice(headset.env, data_dir, ko_model_path)
        try:
            folder = session_folder(data_dir, proc)
            # The first turn is said as soon as the microphone is open and the opening is over, whether or
            # not the model has finished loading (a busy machine): it must not vanish.
            wait_for(folder, proc, lambda log: of_type(log, "microphone_opened") and of_type(log, "speech_played", 0),
                     "the open microphone and the customer's opening")
            for turn, wav in enumerate(trainee_wavs, 1):
                headset.play_into_mic(wav)
                wait_for(folder, proc, lambda log: of_type(log, "speech_played", turn), f"the reply to turn {turn}")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # the trainee left before an ending: interrupted, everything kept
    assert "Traceback" not in err
    log = events(folder)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["mode"] == "voice" and result["interrupted"] is True

    # Turn order held: the customer opens, then each trainee turn is answered before the next one starts.
    order = [(e["type"], e.get("turn")) for e in log
             if e["type"] in ("speech_played", "turn_started", "trainee_turn", "customer_line")]
    expected = [("customer_line", 0), ("speech_played", 0)]
    for turn in (1, 2):
        expected += [("turn_started", turn), ("trainee_turn", turn), ("customer_line", turn), ("speech_played", turn)]
    assert order == expected

    # Nothing of the trainee's was lost: every turn recognized with timed words inside its voiced span.
    turns = of_type(log, "trainee_turn")
    assert len(turns) == 2
    for t in turns:
        assert t["source"] == "voice" and t["words"], t
        assert t["end_ms"] - t["start_ms"] > 800  # ~1.5-2 s of speech each
        for w in t["words"]:
            assert t["start_ms"] - 400 <= w["start_ms"] <= w["end_ms"] <= t["end_ms"] + 400
            assert 0.0 <= w["conf"] <= 1.0

    # The customer really spoke: the speaker sink carried audio as long as his lines were played.
    played = of_type(log, "speech_played")
    spoken_ms = sum(p["end_ms"] - p["start_ms"] for p in played)
    recorded = read_wav(heard)
    assert rms(recorded) > 100
    assert loud_span_ms(recorded) >= 0.8 * spoken_ms

    # The recording: left = microphone during the trainee's turns, right = the customer while he spoke.
    recording = folder / "recording.wav"
    info = soundfile.info(str(recording))
    assert info.channels == 2 and info.samplerate == 16000
    for t in turns:
        assert rms(channel(recording, 0, t["start_ms"], t["end_ms"])) > 300
    for p in played:
        assert rms(channel(recording, 1, p["start_ms"], p["end_ms"])) > 300
        assert rms(channel(recording, 0, p["start_ms"] + 100, p["end_ms"] - 100)) < 100  # he is not on the mic

    # Per-turn timing: the reply comes after the pause its cues asked for (the floor after a falling end or a
    # move, the configured 600 ms when the cues even out), with its parts accounted for.
    timings = of_type(log, "reply_timing")
    assert [t["turn"] for t in timings] == [1, 2]
    for t in timings:
        finished = "falling" in t["end_of_turn_cue"] or t["end_of_turn_cue"].startswith("move")
        least = DEFAULT_TRAILING_SILENCE_FLOOR_MS if finished else 600
        assert t["end_of_turn_wait_ms"] >= least - 50, t
        assert t["reply_latency_ms"] >= t["end_of_turn_wait_ms"]
    assert (folder / "transcript.json").exists() and (folder / "result.json").exists()


def test_the_reply_sounds_like_its_line_rendered_offline(headset, ko_model_path, trainee_wavs, tmp_path):
    """Energy and duration of what reached the speaker match a fresh synthesis of the same line."""
    from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer
    from voice_trainer.speech.voice import prosody_for

    data_dir = tmp_path / "data"
    heard = tmp_path / "speaker.wav"
    with headset.record_speaker(heard):
        proc = start_practice(headset.env, data_dir, ko_model_path)
        try:
            folder = session_folder(data_dir, proc)
            wait_for(folder, proc, lambda log: of_type(log, "speech_played", 0), "the opening")
            headset.play_into_mic(trainee_wavs[0])
            log = wait_for(folder, proc, lambda log: of_type(log, "speech_played", 1), "the reply")
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=60)
    line = of_type(log, "customer_line", 1)[0]
    played = of_type(log, "speech_played", 1)[0]
    with Pyttsx3Synthesizer("ru") as synth:
        expected = synth.render(line["text"], prosody_for(line["anger"]))
    played_ms = played["end_ms"] - played["start_ms"]
    speech_ms = loud_span_ms(expected)  # espeak pads lines with silence; compare the voiced part
    assert 0.8 * speech_ms <= played_ms <= 1.3 * expected.duration_ms + 300
    right = channel(folder / "recording.wav", 1, played["start_ms"] - 300, played["end_ms"] + 600)
    assert 0.75 * speech_ms <= loud_span_ms(right) <= 1.25 * speech_ms + 200
    assert 0.3 * rms(expected) <= rms(right) <= 3 * rms(expected)
    assert rms(read_wav(heard)) > 100  # and it reached the speaker


def test_barge_in_stops_the_customer_and_is_logged(headset, ko_model_path, trainee_wavs, tmp_path):
    data_dir = tmp_path / "data"
    proc = start_practice(headset.env, data_dir, ko_model_path, "--barge-in")
    try:
        folder = session_folder(data_dir, proc)
        wait_for(folder, proc, lambda log: of_type(log, "customer_line", 0), "the opening line")
        # He talks for ~10 s; the microphone opens while the model still loads: the trainee talks over him
        # until he is heard doing so.
        wait_for(folder, proc, lambda log: of_type(log, "microphone_opened"), "the open microphone")
        while not of_type(events(folder), "barge_in"):
            assert not of_type(events(folder), "speech_played", 0), "the opening ended before the mic was open"
            headset.play_into_mic(trainee_wavs[0])
        log = wait_for(folder, proc, lambda log: of_type(log, "trainee_turn", 1), "the interrupting turn")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    opening = of_type(log, "speech_played", 0)[0]
    assert opening["interrupted"] is True
    assert of_type(log, "barge_in"), [e["type"] for e in log]
    assert of_type(log, "trainee_turn", 1)[0]["words"]


def test_half_duplex_never_hears_the_customer_or_talk_over_him(headset, ko_model_path, trainee_wavs, tmp_path):
    data_dir = tmp_path / "data"
    proc = start_practice(headset.env, data_dir, ko_model_path)
    try:
        folder = session_folder(data_dir, proc)
        wait_for(folder, proc, lambda log: of_type(log, "microphone_opened"), "the open microphone")
        assert not of_type(events(folder), "speech_played", 0), "the opening ended before the mic was open"
        headset.play_into_mic(trainee_wavs[0])  # while he is still talking: not a turn
        log = wait_for(folder, proc, lambda log: of_type(log, "speech_played", 0), "the end of the opening")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert not of_type(log, "trainee_turn") and not of_type(log, "barge_in")
    assert of_type(log, "speech_played", 0)[0]["interrupted"] is False


def test_without_a_model_practice_continues_in_text_mode_with_one_message(headset, tmp_path):
    data_dir = tmp_path / "data"
    env = {k: v for k, v in headset.env.items() if k != "VOICE_TRAINER_MODEL"}
    proc = subprocess.run(
        [cli(), "practice", "--data-dir", str(data_dir), "--seed", "1", "--json", "--mute"],
        input="здравствуйте извините за разрывы\n", env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and "models install ru" in notes[0] and "text mode" in notes[0]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["mode"] == "text" and result["turns"][0]["trainee"] == "здравствуйте извините за разрывы"


def test_a_microphone_that_vanishes_mid_call_stops_cleanly_and_keeps_the_log(ko_model_path, trainee_wavs, tmp_path):
    own = start_pulse(tmp_path / "pulse")  # a server of its own: this test kills it
    data_dir = tmp_path / "data"
    proc = start_practice(own.env, data_dir, ko_model_path)
    try:
        folder = session_folder(data_dir, proc)
        wait_for(folder, proc, lambda log: of_type(log, "speech_played", 0), "the opening")
        own.play_into_mic(trainee_wavs[0])
        wait_for(folder, proc, lambda log: of_type(log, "trainee_turn", 1), "the first turn")
    finally:
        own.stop()  # the sound server (and with it the headset) goes away
    out, err = proc.communicate(timeout=60)
    assert proc.returncode not in (0, None) and "Traceback" not in err
    message = [line for line in err.splitlines() if "error" in line]
    assert len(message) == 1 and ("device" in message[0] or "audio" in message[0]), err
    log = events(folder)
    assert of_type(log, "trainee_turn", 1)
    assert log[-1]["type"] == "session_ended" and log[-1]["interrupted"] is True
    assert json.loads((folder / "result.json").read_text())["interrupted"] is True
    samples, _ = soundfile.read(str(folder / "recording.wav"), dtype="int16")
    assert samples.shape[0] > 16000  # playable, seconds long


def test_a_broken_model_is_one_message_and_the_call_goes_on_in_text(headset, ko_model_path, tmp_path):
    import shutil

    broken = tmp_path / "vosk-model-small-ru-broken"
    shutil.copytree(ko_model_path, broken, symlinks=True, ignore=shutil.ignore_patterns("graph"))
    (broken / "graph").mkdir()
    (broken / "am" / "final.mdl").write_bytes(b"not a model")
    proc = subprocess.run(
        [cli(), "practice", "--model", str(broken), "--data-dir", str(tmp_path / "data"), "--seed", "1", "--json"],
        input="здравствуйте извините за разрывы\n", env=headset.env, capture_output=True, text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and "text mode" in notes[0] and str(broken) in notes[0], notes
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["turns"][0]["trainee"] == "здравствуйте извините за разрывы"
    log = events(Path(result["folder"]))
    assert [p["turn"] for p in of_type(log, "speech_played")] == [0, 1]  # he kept speaking


def test_two_passes_on_the_real_model(headset, ko_model_path, espeak_wav, tmp_path):
    """A Korean scenario (the seed's, with Korean examples from the benchmark): the live grammar pass
    decides the answer, the free pass's transcript is logged after it and is what the report shows."""
    from voice_trainer.bench import bench_scenario

    scenario = bench_scenario(tmp_path)
    data_dir = tmp_path / "data"
    wav = espeak_wav("불편을 드려 정말 죄송합니다", rate_hz=44100, channels=1)
    proc = start_practice(headset.env, data_dir, ko_model_path, "--scenario", str(scenario))
    try:
        folder = session_folder(data_dir, proc)
        wait_for(folder, proc, lambda log: of_type(log, "microphone_opened") and of_type(log, "speech_played", 0),
                 "the open microphone and the opening")
        headset.play_into_mic(wav)
        wait_for(folder, proc, lambda log: of_type(log, "speech_played", 1), "the reply")
        log = wait_for(folder, proc, lambda log: of_type(log, "full_transcript", 1), "the free transcript")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    turn, full = of_type(log, "trainee_turn", 1)[0], of_type(log, "full_transcript", 1)[0]
    assert log.index(full) > log.index(of_type(log, "customer_line", 1)[0])  # the reply did not wait for it
    assert turn["text"] and full["text"] and full["words"]
    assert all(0.0 <= w["conf"] <= 1.0 and w["start_ms"] <= w["end_ms"] for w in full["words"])
    out = tmp_path / "report.md"
    report = subprocess.run([cli(), "report", str(folder), "--format", "md", "-o", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert full["text"] in out.read_text(encoding="utf-8")
