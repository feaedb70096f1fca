"""Start-up of `voice-trainer practice` as a user runs it: the customer's opening line reaches the virtual
headset (real eSpeak NG, real PortAudio), a second launch plays it from the cache of rendered lines, a
damaged cache is rendered again without a fuss, and the modes that do not voice him leave the cache alone.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.fixtures.headset import read_wav, rms
from tests.practice.test_voice_practice import cli, events, of_type, session_folder, start_practice, wait_for

pytestmark = pytest.mark.audio


def launch_until_he_speaks(env: dict, data_dir: Path, model: Path, *extra: str) -> tuple[list[dict], str]:
    """One launch, stopped once his opening is going to the speaker (the microphone opens after that);
    the cut opening is still logged as played."""
    proc = start_practice(env, data_dir, model, *extra)
    try:
        folder = session_folder(data_dir, proc)
        wait_for(folder, proc, lambda log: of_type(log, "microphone_opened"), "the open microphone")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert "Traceback" not in err, err
    return events(folder), err


def cache_files(cache_home: Path) -> list[Path]:
    return sorted((cache_home / "voice-trainer" / "lines").glob("*.line"))


def test_the_opening_is_heard_and_a_second_launch_plays_it_from_the_cache(headset, ko_model_path, tmp_path):
    cache_home = tmp_path / "cache"
    env = {**headset.env, "XDG_CACHE_HOME": str(cache_home)}
    first, _ = launch_until_he_speaks(env, tmp_path / "first", ko_model_path)
    assert of_type(first, "customer_line", 0) and of_type(first, "speech_played", 0)
    kept = cache_files(cache_home)
    assert kept, "the first launch left no rendered line in the cache"
    for path in kept:
        os.utime(path, (1_000_000, 1_000_000))  # long unused
    inodes = {path: path.stat().st_ino for path in kept}

    heard = tmp_path / "speaker.wav"
    with headset.record_speaker(heard):
        second, _ = launch_until_he_speaks(env, tmp_path / "second", ko_model_path)
    assert of_type(second, "customer_line", 0)[0]["text"] == of_type(first, "customer_line", 0)[0]["text"]
    played = of_type(second, "speech_played", 0)[0]
    assert played["end_ms"] > played["start_ms"]
    assert rms(read_wav(heard)) > 100  # he was heard on the headset
    # The opening's first sentence was read from the cache (used just now), not rendered and rewritten.
    read_again = [p for p in kept if p.exists() and p.stat().st_mtime > 1_000_000 and p.stat().st_ino == inodes[p]]
    assert read_again


def test_a_damaged_cache_does_not_stop_the_opening(headset, ko_model_path, tmp_path):
    cache_home = tmp_path / "cache"
    env = {**headset.env, "XDG_CACHE_HOME": str(cache_home)}
    launch_until_he_speaks(env, tmp_path / "first", ko_model_path)
    kept = cache_files(cache_home)
    assert kept
    for n, path in enumerate(kept):  # a crash mid-write, a disk error: torn files and garbage
        path.write_bytes(path.read_bytes()[: 100 + n] if n % 2 else os.urandom(5000))

    heard = tmp_path / "speaker.wav"
    with headset.record_speaker(heard):
        log, err = launch_until_he_speaks(env, tmp_path / "second", ko_model_path)
    assert of_type(log, "speech_played", 0) and rms(read_wav(heard)) > 100
    assert "cache" not in err.lower()  # nothing to tell the trainee
    assert all(path.read_bytes().startswith(b"VTLINE1\n") for path in cache_files(cache_home))  # rewritten whole


def test_a_muted_customer_leaves_the_cache_alone(headset, ko_model_path, tmp_path):
    cache_home = tmp_path / "cache"
    env = {**headset.env, "XDG_CACHE_HOME": str(cache_home)}
    log, _ = launch_until_he_speaks(env, tmp_path / "data", ko_model_path, "--mute")
    assert of_type(log, "customer_line", 0) and not of_type(log, "speech_played")
    assert not cache_files(cache_home)


def test_a_script_in_text_mode_leaves_the_cache_alone(tmp_path):
    cache_home = tmp_path / "cache"
    script = tmp_path / "replies.txt"
    script.write_text("Здравствуйте, служба поддержки, чем могу помочь?\n", encoding="utf-8")
    done = subprocess.run(
        [cli(), "practice", "--script", str(script), "--data-dir", str(tmp_path / "data"), "--seed", "3"],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home)}, capture_output=True, text=True, timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert not cache_files(cache_home)
