"""Microphone and speaker streams on the virtual headset (real PortAudio through PulseAudio)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.devices import pick_input, pick_output
from voice_trainer.audio.streams import MicStream, SpeakerStream, level_dbfs
from voice_trainer.clock import ManualClock, MonotonicClock
from voice_trainer.errors import AudioDeviceError
from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer
from voice_trainer.speech.voice import prosody_for
from tests.fixtures.headset import loud_span_ms, read_wav, rms, write_wav

pytestmark = pytest.mark.audio

LINE = "Здравствуйте, у меня опять пропал интернет. Сколько можно ждать мастера?"


@pytest.fixture(scope="module")
def line() -> AudioChunk:
    synth = Pyttsx3Synthesizer("ru")
    try:
        return synth.render(LINE, prosody_for(30))
    finally:
        synth.close()


def record_mic(mic: MicStream, until: threading.Event, idle_reads_after: int = 10) -> list[AudioChunk]:
    """Chunks until `until` is set and then `idle_reads_after` more blocks (the tail still in flight)."""
    chunks: list[AudioChunk] = []
    extra = 0
    while extra < idle_reads_after:
        chunk = mic.read(2.0)
        assert chunk is not None, "the microphone stopped delivering audio"
        chunks.append(chunk)
        if until.is_set():
            extra += 1
    return chunks


def joined(chunks: list[AudioChunk]) -> AudioChunk:
    return AudioChunk(b"".join(c.audio for c in chunks), chunks[0].rate_hz, chunks[0].channels)


def test_the_microphone_hears_what_is_played_into_it(headset, line, tmp_path):
    wav = write_wav(tmp_path / "line.wav", line)
    with MicStream(pick_input(None), clock=MonotonicClock()) as mic:
        silence = joined([mic.read(2.0) for _ in range(5)])
        player = headset.play_into_mic(wav, wait=False)
        finished = threading.Event()
        threading.Thread(target=lambda: (player.wait(), finished.set()), daemon=True).start()
        heard = joined(record_mic(mic, finished))
    assert rms(silence) < 50
    assert rms(heard) > 10 * max(rms(silence), 1.0)
    # as long as what was played (paplay may stretch it with gaps on a loaded machine)
    assert 0.85 * loud_span_ms(line) <= loud_span_ms(heard) <= 1.5 * loud_span_ms(line), f"{loud_span_ms(heard)} ms"


def test_microphone_chunks_are_stamped_back_to_back_on_the_session_timeline(headset):
    clock = MonotonicClock()
    before_ms = clock.now_ms()
    with MicStream(pick_input(None), clock=clock, block_ms=20) as mic:
        chunks = [mic.read(2.0) for _ in range(20)]
    assert all(c is not None for c in chunks)
    stamps = [c.timestamp_ms for c in chunks]
    assert before_ms <= stamps[0] <= clock.now_ms()
    for earlier, later in zip(chunks, chunks[1:]):
        assert later.timestamp_ms == pytest.approx(earlier.timestamp_ms + earlier.duration_ms)
    assert chunks[0].rate_hz == pick_input(None).default_rate_hz


def test_reading_an_unopened_microphone_is_an_audio_device_error(headset):
    mic = MicStream(pick_input(None), clock=ManualClock())
    with pytest.raises(AudioDeviceError, match="not open"):
        mic.read(0.01)


def test_blocks_the_device_dropped_do_not_stamp_later_speech_too_early(headset):
    """Counting samples stamps each block; when the device loses blocks (a starved callback on a busy
    machine), the count is re-anchored to when blocks arrive, so later speech is not stamped back inside
    what came before (the customer's line, on the recording)."""
    clock = ManualClock(0.0)
    with MicStream(pick_input(None), clock=clock) as mic:
        pass  # only to learn the device; blocks are handed in below the way PortAudio's callback does
    block = bytes(2 * mic.block_frames)
    mic._stream = type("Open", (), {"active": True})()
    clock.advance(30.0)
    mic._on_audio(block, mic.block_frames, None, None)
    first = mic.read(0.01)
    clock.advance(2000.0)  # two seconds of blocks lost
    mic._on_audio(block, mic.block_frames, None, None)
    later = mic.read(0.01)
    assert first.timestamp_ms == pytest.approx(0.0)
    assert later.timestamp_ms >= 2030.0 - later.duration_ms - 150.0
    clock.advance(30.0)
    mic._on_audio(block, mic.block_frames, None, None)
    assert mic.read(0.01).timestamp_ms == pytest.approx(later.timestamp_ms + later.duration_ms)  # counting again


def _mic_fed_on_time(blocks: int):
    """A microphone on the real device, with `blocks` blocks handed in on time the way PortAudio's callback
    does (the clock is the test's): (clock, mic, a silent block, one block's duration in ms)."""
    clock = ManualClock(0.0)
    with MicStream(pick_input(None), clock=clock) as mic:
        pass  # only to learn the device
    block = bytes(2 * mic.block_frames)
    pace = 1000.0 * mic.block_frames / mic.rate_hz
    mic._stream = type("Open", (), {"active": True})()
    for _ in range(blocks):
        clock.advance(pace)
        mic._on_audio(block, mic.block_frames, None, None)
    return clock, mic, block, pace


def test_a_held_up_callback_delivering_its_backlog_at_once_does_not_move_the_count(headset):
    """On a busy machine PortAudio's callback can be held up and then deliver half a second of blocks at
    once. Nothing was lost: the blocks keep their counted times, and the speech after the burst is not
    stamped later than it was spoken (which made end-of-turn waits read negative on the bench)."""
    clock, mic, block, pace = _mic_fed_on_time(5)
    clock.advance(20 * pace)  # held up for 20 blocks, then all of them at once
    for _ in range(20):
        mic._on_audio(block, mic.block_frames, None, None)
    clock.advance(pace)
    mic._on_audio(block, mic.block_frames, None, None)  # on time again
    stamps = [mic.read(0.01).timestamp_ms for _ in range(26)]
    assert stamps == pytest.approx([i * pace for i in range(26)])


def test_blocks_lost_while_the_callback_was_held_up_move_the_count_by_what_was_lost(headset):
    clock, mic, block, pace = _mic_fed_on_time(5)
    clock.advance(30 * pace)  # held up for 30 blocks; only the last 10 survive, delivered at once
    for _ in range(10):
        mic._on_audio(block, mic.block_frames, None, None)
    for _ in range(3):
        clock.advance(pace)
        mic._on_audio(block, mic.block_frames, None, None)
    stamps = [mic.read(0.01).timestamp_ms for _ in range(18)]
    assert stamps[:5] == pytest.approx([i * pace for i in range(5)])
    # the 10 survivors are the 10 blocks before the hold-up ended, then the count runs on
    assert stamps[5:] == pytest.approx([(25 + i) * pace for i in range(13)])


def test_the_speaker_plays_a_line_whole(headset, line, tmp_path):
    clock = MonotonicClock()
    with headset.record_speaker(tmp_path / "speaker.wav") as recording:
        with SpeakerStream(pick_output(None), clock=clock) as speaker:
            result = speaker.play(line)
    heard = read_wav(recording)
    measured = f"line {line.duration_ms:.0f} ms, {result}, heard {loud_span_ms(heard):.0f} ms, {speaker.underruns} underruns"
    assert not result.interrupted
    # Whole: nothing cut off. A loaded machine may stretch it with gaps (underruns), never shorten it.
    assert 0.9 * line.duration_ms <= result.end_ms - result.start_ms <= 1.5 * line.duration_ms, measured
    assert 0.9 * loud_span_ms(line) <= loud_span_ms(heard) <= 1.5 * loud_span_ms(line), measured
    assert rms(heard) > 0.5 * rms(line)


def test_back_to_back_lines_are_heard_to_their_last_sample(headset, tmp_path):
    # A tone has no trailing silence to hide a cut: every lost buffer tail shortens what is heard.
    tone = AudioChunk.from_samples((8000 * np.sin(np.arange(22050) * 0.1)).astype("<i2"), 22050)
    with headset.record_speaker(tmp_path / "speaker.wav") as recording:
        with SpeakerStream(pick_output(None), clock=MonotonicClock()) as speaker:
            results = [speaker.play(tone) for _ in range(3)]
    heard_ms = loud_span_ms(read_wav(recording), threshold=1000)
    assert 2900 <= heard_ms <= 3600, f"heard {heard_ms} ms of 3000"
    for earlier, later in zip(results, results[1:]):
        assert earlier.end_ms <= later.start_ms
    assert all(900 <= r.end_ms - r.start_ms <= 1500 for r in results), results


def test_audio_at_another_rate_is_resampled_to_the_speaker(headset, line, tmp_path):
    at_16k = AudioChunk.from_samples(
        np.interp(np.arange(0, line.frames, 22050 / 16000), np.arange(line.frames), line.samples()[:, 0]).astype("<i2"),
        16000,
    )
    with headset.record_speaker(tmp_path / "speaker.wav") as recording:
        with SpeakerStream(pick_output(None), rate_hz=22050, clock=MonotonicClock()) as speaker:
            speaker.play(at_16k)
    heard_ms = loud_span_ms(read_wav(recording))
    assert 0.9 * loud_span_ms(line) <= heard_ms <= 1.5 * loud_span_ms(line), f"heard {heard_ms:.0f} ms"


def test_a_stop_event_cuts_playback_within_a_block(headset, line, tmp_path):
    stop = threading.Event()
    blocks: list[AudioChunk] = []

    def stop_after_ten_blocks(block: AudioChunk) -> None:
        blocks.append(block)
        if len(blocks) == 10:
            stop.set()

    with headset.record_speaker(tmp_path / "speaker.wav") as recording:
        with SpeakerStream(pick_output(None), clock=MonotonicClock(), block_ms=30, on_block=stop_after_ten_blocks) as speaker:
            result = speaker.play(line, stop)
    assert result.interrupted
    assert len(blocks) == 10  # not one block more after the stop
    assert result.end_ms - result.start_ms < 0.5 * line.duration_ms
    assert loud_span_ms(read_wav(recording)) < 0.5 * loud_span_ms(line)


def test_on_block_sees_exactly_what_is_played_and_where(headset, line):
    blocks: list[AudioChunk] = []
    with SpeakerStream(pick_output(None), clock=MonotonicClock(), on_block=blocks.append) as speaker:
        result = speaker.play(line)
    assert b"".join(b.audio for b in blocks) == line.audio  # the speaker runs at 22050 Hz here: no resampling
    assert blocks[0].timestamp_ms == result.start_ms
    for earlier, later in zip(blocks, blocks[1:]):
        assert later.timestamp_ms == pytest.approx(earlier.timestamp_ms + earlier.duration_ms)


def test_level_is_zero_dbfs_at_full_scale_and_low_for_quiet_audio():
    full = AudioChunk.from_samples(np.full(1000, 32767, dtype="<i2"), 16000)
    quiet = AudioChunk.from_samples(np.full(1000, 33, dtype="<i2"), 16000)
    assert level_dbfs(full) == pytest.approx(0.0, abs=0.01)
    assert level_dbfs(quiet) == pytest.approx(-60.0, abs=0.1)
    assert level_dbfs(AudioChunk(b"", 16000)) == -120.0


VANISHING_HEADSET = """
import os, sys, tempfile
from pathlib import Path
from tests.fixtures.headset import start_pulse
from voice_trainer.audio import devices
from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.streams import MicStream, SpeakerStream
from voice_trainer.clock import MonotonicClock
from voice_trainer.errors import AudioDeviceError

def pull_the_plug(headset):
    server = headset.processes[0]
    server.kill()
    server.wait()

root = Path(sys.argv[1])
for part in ("mic", "speaker"):
    headset = start_pulse(root / part)
    os.environ.update(headset.client_env)
    devices.rescan()
    try:
        if part == "mic":
            with MicStream(devices.pick_input(None), clock=MonotonicClock()) as mic:
                assert mic.read(15.0) is not None  # a fresh server on a busy machine can take a while
                pull_the_plug(headset)
                for _ in range(20):
                    mic.read(0.5)
        else:
            with SpeakerStream(devices.pick_output(None), clock=MonotonicClock()) as speaker:
                pull_the_plug(headset)
                speaker.play(AudioChunk(bytes(44100), 22050))
        print(part, "no error")
    except AudioDeviceError as err:
        print(part, "error:", err)
    finally:
        headset.stop()
"""


def test_a_headset_that_vanishes_mid_stream_is_an_audio_device_error(tmp_path):
    # Its own process and its own PulseAudio server, killed half-way; the shared headset stays up.
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", VANISHING_HEADSET, str(tmp_path)],
        cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)}, capture_output=True, text=True, timeout=120,
    )
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    assert lines[0].startswith("mic error: input device") and "stopped delivering audio" in lines[0], done.stdout + done.stderr
    assert lines[1].startswith("speaker error: output device") and "check the headset" in lines[1], done.stdout + done.stderr
