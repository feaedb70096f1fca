"""Audio files as people hand them in: editors' float exports, 24-bit, FLAC/OGG, hour-long calls, and junk.

Issue 9: a 32-bit float WAV (the default export of common editors) was transcribed as silence with
exit 0, and a long file was read whole into memory.
"""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from tests.faults.cli_run import CLI, assert_one_line_error, clean_env, run_cli
from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech.audio_file import BLOCK_MS, open_audio_file, read_audio_file, recognize_file
from voice_trainer.speech.vosk_recognizer import VoskRecognizer

GRAMMAR = ["감사합니다", "여보세요", "안녕하세요"]

# sox output options for each format: (file suffix, sox options before the file name)
FORMATS = {
    "float32 wav": (".wav", ["-e", "floating-point", "-b", "32"]),
    "float64 wav": (".wav", ["-e", "floating-point", "-b", "64"]),
    "int24 wav 48k stereo": (".wav", ["-e", "signed-integer", "-b", "24", "-r", "48000", "-c", "2"]),
    "int32 wav 44.1k": (".wav", ["-e", "signed-integer", "-b", "32", "-r", "44100"]),
    "unsigned 8-bit wav": (".wav", ["-e", "unsigned-integer", "-b", "8"]),
    "flac 24-bit 96k": (".flac", ["-b", "24", "-r", "96000"]),
    "ogg vorbis": (".ogg", ["-r", "48000"]),
}


def sox(*args: str) -> None:
    assert shutil.which("sox"), "sox is needed to make test audio"
    subprocess.run(["sox", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def thanks_16bit(espeak_wav) -> Path:
    return espeak_wav("감사합니다", rate_hz=22050, pad_ms=500)


@pytest.fixture(scope="module")
def converted(thanks_16bit, tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")

    def make(name: str) -> Path:
        suffix, options = FORMATS[name]
        out = folder / (name.replace(" ", "_").replace(".", "_") + suffix)
        if not out.exists():
            sox(str(thanks_16bit), *options, str(out))
        return out

    return make


def test_a_float_wav_from_an_editor_is_transcribed_not_taken_for_silence(converted, ko_model_path, tmp_path):
    result = run_cli("transcribe", str(converted("float32 wav")), "--model", str(ko_model_path),
                     *[a for p in GRAMMAR for a in ("--phrase", p)], "--json", env=clean_env(tmp_path / "data"))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["text"] == "감사합니다"


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_sample_format_is_scaled_to_the_same_speech(name, converted, thanks_16bit, ko_model):
    path = converted(name)
    reference = read_audio_file(thanks_16bit).samples()[:, 0].astype(np.float64)
    audio = read_audio_file(path)

    with open_audio_file(path) as reader:
        text = recognize_file(reader, VoskRecognizer(ko_model, grammar=GRAMMAR)).text

    assert text == "감사합니다"
    level = np.sqrt(np.mean(audio.samples().astype(np.float64) ** 2))
    assert level == pytest.approx(np.sqrt(np.mean(reference**2)), rel=0.15)  # full scale kept, not 1/32768 of it


def test_a_float_file_decodes_to_the_same_samples_as_its_16_bit_source(converted, thanks_16bit):
    original = read_audio_file(thanks_16bit).samples()
    as_float = read_audio_file(converted("float32 wav")).samples()

    assert as_float.shape == original.shape
    assert np.abs(as_float.astype(np.int32) - original.astype(np.int32)).max() <= 1


def _damaged_flac(tmp_path: Path) -> Path:
    clean = tmp_path / "tone.flac"
    sox("-n", "-r", "16000", "-b", "16", str(clean), "synth", "20", "sine", "440")
    data = bytearray(clean.read_bytes())
    third = len(data) // 3
    data[third : third + 8000] = bytes(range(256)) * 31 + bytes(64)
    damaged = tmp_path / "damaged.flac"
    damaged.write_bytes(bytes(data))
    return damaged


def _unusable(kind: str, tmp_path: Path) -> Path:
    path = tmp_path / f"{kind}.wav"
    if kind == "text":
        path.write_text("these are my notes, not a recording\n")
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "no_samples":
        sox("-n", "-r", "16000", "-b", "16", str(path), "trim", "0", "0")
    elif kind == "folder":
        path.mkdir()
    elif kind == "random_bytes":
        path.write_bytes(os.urandom(50_000))
    elif kind == "damaged_flac":
        path = _damaged_flac(tmp_path)
    elif kind == "name_too_long":
        path = tmp_path / ("x" * 300 + ".wav")
    return path  # "missing": never created


@pytest.mark.parametrize(
    "kind, says",
    [("text", "cannot read it as audio"), ("empty", "empty"), ("no_samples", "no audio"), ("folder", "folder"),
     ("missing", "no such audio file"), ("random_bytes", "cannot read it as audio"),
     ("damaged_flac", "damaged"), ("name_too_long", "File name too long")],
)
def test_anything_that_is_not_audio_is_refused_in_one_line(kind, says, tmp_path, ko_model_path):
    path = _unusable(kind, tmp_path)

    result = run_cli("transcribe", str(path), "--model", str(ko_model_path), env=clean_env(tmp_path / "data"))

    message = assert_one_line_error(result, 6)
    assert says in message
    assert path.name[:40] in message
    assert result.stdout == ""


def test_a_long_file_is_read_in_small_blocks_with_bounded_memory(tmp_path):
    # 20 minutes of 48 kHz stereo is 230 MB: the reader must never hold more than a few 200 ms blocks of it.
    long = tmp_path / "long.wav"
    sox("-n", "-r", "48000", "-b", "16", "-c", "2", str(long), "trim", "0", "1200")
    assert long.stat().st_size > 200_000_000

    largest_block = frames = 0
    tracemalloc.start()
    try:
        with open_audio_file(long) as reader:
            for block in reader.blocks():
                largest_block = max(largest_block, len(block.audio))
                frames += block.frames
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert frames == 1200 * 48000
    assert largest_block == 48000 * BLOCK_MS // 1000 * 2 * 2
    # A few blocks (each 38 KB) plus the decoder's and first imports' buffers: far from the 230 MB file.
    assert peak < 8_000_000


def test_a_long_recording_is_streamed_through_the_recognizer_to_the_end(espeak_wav, tmp_path, ko_model_path):
    phrase = espeak_wav("감사합니다", rate_hz=44100, channels=2, pad_ms=300)
    gap = tmp_path / "gap.wav"
    sox("-n", "-r", "44100", "-c", "2", "-b", "16", str(gap), "trim", "0", "2.5")
    call = tmp_path / "call.wav"
    sox(*[str(p) for _ in range(8) for p in (phrase, gap)], "-e", "floating-point", "-b", "32", str(call))

    result = run_cli("transcribe", str(call), "--model", str(ko_model_path), *[a for p in GRAMMAR for a in ("--phrase", p)],
                     "--json", env=clean_env(tmp_path / "data"))

    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["text"].split().count("감사합니다") == 8  # vosk may add a short grammar word between them
    starts = [w["start"] for w in out["words"]]
    assert starts == sorted(starts) and starts[-1] > 7 * 3.0  # the last phrase, from the file's last seconds
    assert result.stderr == ""  # no progress bar when stderr is not a terminal


def test_a_progress_bar_is_drawn_only_on_a_terminal(espeak_wav, tmp_path, ko_model_path):
    wav = espeak_wav("감사합니다", pad_ms=500)
    controller, terminal = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(CLI), "transcribe", str(wav), "--model", str(ko_model_path), "--json"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=terminal, env=clean_env(tmp_path / "data"),
        )
        os.close(terminal)
        drawn = b""
        while True:
            try:
                piece = os.read(controller, 4096)
            except OSError:  # the terminal closes when the program exits
                break
            if not piece:
                break
            drawn += piece
        out, _ = proc.communicate(timeout=300)
    finally:
        os.close(controller)

    assert proc.returncode == 0
    assert json.loads(out)["words"]
    assert b"transcribing" in drawn and wav.name.encode() in drawn


def test_practice_replies_hear_a_float_wav_turn(converted, ko_model_path, tmp_path):
    data_dir = tmp_path / "data"
    result = run_cli("practice", "--replies", str(converted("float32 wav")), "--model", str(ko_model_path),
                     "--data-dir", str(data_dir), "--seed", "1", "--json", "--mute", env=clean_env(data_dir))

    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    folder = Path(summary["folder"])
    turns = [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    heard = [e for e in turns if e.get("type") == "trainee_turn"]
    assert len(heard) == 1 and heard[0]["text"] and heard[0]["words"]


def test_blocks_carry_the_files_rate_and_channels_for_the_recognizer_to_convert(converted):
    with open_audio_file(converted("int24 wav 48k stereo")) as reader:
        first = next(iter(reader.blocks()))

    assert isinstance(first, AudioChunk)
    assert (first.rate_hz, first.channels, first.width) == (48000, 2, 2)
    assert first.frames == 48000 * BLOCK_MS // 1000
