"""`voice-trainer devices` and `voice-trainer mic-check` as a user runs them, on the virtual headset."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.audio

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


@pytest.fixture
def cli_env(headset, tmp_path):
    """The headset's routing and an empty data dir (no speech model unless a test brings one)."""
    env = {**headset.env, "VOICE_TRAINER_DATA": str(tmp_path / "data")}
    env.pop("VOICE_TRAINER_MODEL", None)
    return env


def speech_wav(tmp_path: Path, voice: str, text: str) -> Path:
    path = tmp_path / f"{voice}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), text], check=True)
    return path


def mic_check_while_speaking(headset, env, wav: Path, *args: str) -> subprocess.CompletedProcess:
    """Run mic-check, and play `wav` into the microphone once it says it is listening."""
    proc = subprocess.Popen(
        [CLI, "mic-check", *args], env=env, cwd=Path(env["VOICE_TRAINER_DATA"]).parent,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    stderr_lines = []
    for line in proc.stderr:
        stderr_lines.append(line)
        if line.startswith("listening on"):
            break
    headset.play_into_mic(wav)
    out, rest = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "".join(stderr_lines) + rest)


def test_devices_lists_the_headset_and_marks_the_defaults(cli_env):
    done = subprocess.run([CLI, "devices"], env=cli_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    inputs, outputs = done.stdout.split("Outputs:")
    assert inputs.startswith("Inputs:")
    for section in (inputs, outputs):
        assert re.search(r"^\s+\d+\s+pulse\s+\(\d+ ch, 44100 Hz, ALSA\)$", section, re.M)
        assert re.search(r"^ \*\s*\d+\s+\S+", section, re.M)  # one default marked


def test_mic_check_shows_the_level_of_what_the_microphone_hears(headset, cli_env, tmp_path):
    wav = speech_wav(tmp_path, "ru", "Алло, меня слышно? Раз, два, три.")
    done = mic_check_while_speaking(headset, cli_env, wav, "--seconds", "4", "--lang", "ru")
    assert done.returncode == 0, done.stderr
    peak = float(re.search(r"^peak level: (-?\d+\.\d) dBFS$", done.stdout, re.M).group(1))
    assert peak > -30  # espeak speech at full volume; the silent null sink alone gives -120
    assert "no speech model for 'ru'" in done.stderr
    assert re.search(r"\[#+\.*\]", done.stderr)  # the meter moved
    assert "Traceback" not in done.stderr


def test_mic_check_in_silence_reports_a_floor_level(cli_env):
    done = subprocess.run(
        [CLI, "mic-check", "--seconds", "1", "--lang", "ru"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "peak level: -120.0 dBFS" in done.stdout


def test_mic_check_with_a_model_says_what_it_heard(headset, cli_env, tmp_path):
    wav = speech_wav(tmp_path, "ko", "안녕하세요. 감사합니다.")
    done = mic_check_while_speaking(headset, cli_env, wav, "--seconds", "5", "--lang", "ko")
    assert done.returncode == 0, done.stderr
    heard = re.search(r"^heard: (.*)$", done.stdout, re.M).group(1)
    assert heard != "(nothing)"
    assert "speech model:" in done.stderr


def test_an_unknown_microphone_is_one_line_on_stderr(cli_env):
    done = subprocess.run(
        [CLI, "mic-check", "--input", "nosuchdevice"], env=cli_env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 5
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "nosuchdevice" in done.stderr and "pulse" in done.stderr


def test_ctrl_c_stops_mic_check_cleanly_with_the_summary(cli_env):
    proc = subprocess.Popen(
        [CLI, "mic-check", "--seconds", "60", "--lang", "ru"], env=cli_env, cwd=Path(cli_env["VOICE_TRAINER_DATA"]).parent,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    for line in proc.stderr:
        if line.startswith("listening on"):
            break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.startswith("peak level: ")
    assert "Traceback" not in err
