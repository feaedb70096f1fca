"""The session recording: stereo WAV on the session timeline, written as it goes, repairable after a kill."""

import os
import signal
import struct
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest
import soundfile as sf

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.recorder import SessionRecorder, is_complete, repair_wav
from voice_trainer.clock import ManualClock
from voice_trainer.errors import AudioFileError

RATE = 16000


def tone(freq_hz, duration_ms, rate_hz, channels=1, amplitude=0.3):
    t = np.arange(round(duration_ms * rate_hz / 1000)) / rate_hz
    wave = amplitude * np.sin(2 * np.pi * freq_hz * t)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def chunks(samples, rate_hz, start_ms, chunk_ms, timestamps=True):
    """Split a signal into device-sized chunks stamped on the session timeline."""
    step = round(chunk_ms * rate_hz / 1000)
    for i in range(0, len(samples), step):
        ts = start_ms + 1000.0 * i / rate_hz if timestamps or i == 0 else None
        yield AudioChunk.from_samples(samples[i:i + step], rate_hz, ts)


def rms(data, channel, start_ms, end_ms, rate_hz=RATE):
    part = data[round(start_ms * rate_hz / 1000):round(end_ms * rate_hz / 1000), channel]
    return float(np.sqrt(np.mean(part.astype(np.float64) ** 2))) if len(part) else 0.0


def dominant_hz(data, channel, start_ms, end_ms, rate_hz=RATE):
    part = data[round(start_ms * rate_hz / 1000):round(end_ms * rate_hz / 1000), channel]
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part))))
    return float(np.fft.rfftfreq(len(part), 1 / rate_hz)[np.argmax(spectrum)])


def deviation_from_tone(data, channel, freq_hz, start_ms, end_ms, rate_hz=RATE):
    """Largest difference from the ideal 0.3-amplitude tone starting at start_ms (edges excluded)."""
    lo, hi = round((start_ms + 10) * rate_hz / 1000), round((end_ms - 10) * rate_hz / 1000)
    t = np.arange(lo, hi) / rate_hz - start_ms / 1000
    return float(np.max(np.abs(data[lo:hi, channel] - 0.3 * np.sin(2 * np.pi * freq_hz * t))))


def onset_ms(data, channel, threshold=0.05, rate_hz=RATE):
    return 1000.0 * int(np.argmax(np.abs(data[:, channel]) > threshold)) / rate_hz


def sox_duration_s(path):
    out = subprocess.run(["sox", "--i", "-D", str(path)], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def test_mic_is_left_and_customer_is_right_at_their_session_offsets(tmp_path):
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path)
    rec.add_mic(AudioChunk.from_samples(tone(440, 500, RATE), RATE, timestamp_ms=0))
    rec.add_customer(AudioChunk.from_samples(tone(880, 500, RATE), RATE, timestamp_ms=700))
    assert rec.close() == pytest.approx(1.2)

    data, rate = sf.read(path)
    assert rate == RATE and data.shape == (19200, 2)
    for start in range(0, 500, 100):
        assert rms(data, 0, start, start + 100) > 0.15
        assert rms(data, 1, start, start + 100) < 0.001
    assert rms(data, 0, 500, 700) < 0.001 and rms(data, 1, 500, 700) < 0.001
    for start in range(700, 1200, 100):
        assert rms(data, 1, start, start + 100) > 0.15
        assert rms(data, 0, start, start + 100) < 0.001
    assert dominant_hz(data, 0, 0, 500) == pytest.approx(440, abs=5)
    assert dominant_hz(data, 1, 700, 1200) == pytest.approx(880, abs=5)


def test_device_rates_and_channel_counts_are_converted_and_aligned(tmp_path):
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path)
    # A 48 kHz stereo microphone in 10 ms device blocks; a 22.05 kHz mono synthesized line in 50 ms blocks.
    for chunk in chunks(tone(440, 600, 48000, channels=2), 48000, start_ms=300, chunk_ms=10):
        rec.add_mic(chunk)
    for chunk in chunks(tone(880, 500, 22050), 22050, start_ms=1000, chunk_ms=50, timestamps=False):
        rec.add_customer(chunk)
    rec.close()

    data, rate = sf.read(path)
    assert rate == RATE
    assert onset_ms(data, 0) == pytest.approx(300, abs=2)
    assert onset_ms(data, 1) == pytest.approx(1000, abs=2)
    assert len(data) / RATE == pytest.approx(1.5, abs=0.002)
    # The very tones that went in, with no clicks at the device-block boundaries.
    assert deviation_from_tone(data, 0, 440, 300, 900) < 0.002
    assert deviation_from_tone(data, 1, 880, 1000, 1500) < 0.002
    assert dominant_hz(data, 0, 300, 900) == pytest.approx(440, abs=5)
    assert dominant_hz(data, 1, 1000, 1500) == pytest.approx(880, abs=5)


def test_chunks_without_timestamp_follow_the_previous_chunk_of_their_side(tmp_path):
    path = tmp_path / "recording.wav"
    with SessionRecorder(path) as rec:
        rec.add_customer(AudioChunk.from_samples(tone(880, 200, RATE), RATE, timestamp_ms=400))
        rec.add_customer(AudioChunk.from_samples(tone(660, 200, RATE), RATE))
    data, _ = sf.read(path)
    assert len(data) == round(0.8 * RATE)
    assert dominant_hz(data, 1, 400, 600) == pytest.approx(880, abs=5)
    assert dominant_hz(data, 1, 600, 800) == pytest.approx(660, abs=5)
    assert rms(data, 1, 0, 400) < 0.001


def test_audio_is_on_disk_while_the_session_runs(tmp_path):
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path)
    for mic, customer in zip(
        chunks(tone(440, 3000, RATE), RATE, 0, 100), chunks(np.zeros(3 * RATE), RATE, 0, 100)
    ):
        rec.add_mic(mic)
        rec.add_customer(customer)
    # Both sides known up to 3 s: all but the last write step is already in the file, header included.
    assert is_complete(path)
    assert sf.info(path).frames / RATE >= 2.75
    rec.close()


def test_a_silent_side_holds_the_other_back_by_at_most_the_hold_time(tmp_path):
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path, hold_ms=1000)
    for mic in chunks(tone(440, 4000, RATE), RATE, 0, 100):
        rec.add_mic(mic)
    assert 2750 <= 1000 * sf.info(path).frames / RATE <= 3000
    rec.close()


def test_with_a_clock_silence_is_written_up_to_now_minus_the_hold(tmp_path):
    clock = ManualClock()
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path, clock=clock)
    rec.add_customer(AudioChunk.from_samples(tone(880, 500, RATE), RATE, timestamp_ms=0))
    assert sf.info(path).frames == 0  # a customer line played ahead of "now" is not written early
    clock.advance(5000)
    rec.add_customer(AudioChunk.from_samples(tone(880, 500, RATE), RATE, timestamp_ms=5000))
    assert sf.info(path).frames == 4 * RATE
    rec.close()
    data, _ = sf.read(path)
    assert len(data) == round(5.5 * RATE)
    assert rms(data, 1, 0, 500) > 0.15 and rms(data, 1, 600, 5000) < 0.001 and rms(data, 1, 5000, 5500) > 0.15


def test_mic_and_customer_from_two_threads_are_both_recorded_whole(tmp_path):
    path = tmp_path / "recording.wav"
    rec = SessionRecorder(path, clock=ManualClock())  # clock at 0: nothing is forced out before both sides arrive

    def feed(add, freq):
        for chunk in chunks(tone(freq, 2000, RATE), RATE, 0, 10):
            add(chunk)

    threads = [threading.Thread(target=feed, args=(rec.add_mic, 440)),
               threading.Thread(target=feed, args=(rec.add_customer, 880))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rec.close()
    data, _ = sf.read(path)
    assert len(data) == 2 * RATE
    assert rec.dropped_ms == {"mic": 0.0, "customer": 0.0}
    for start in range(0, 2000, 100):
        assert rms(data, 0, start, start + 100) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)
        assert rms(data, 1, start, start + 100) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


def test_recording_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "recording.wav"
    path.write_bytes(b"old")
    path.chmod(0o644)
    SessionRecorder(path).close()
    assert os.stat(path).st_mode & 0o777 == 0o600


RECORD_FOREVER = textwrap.dedent("""
    import sys, time
    import numpy as np
    from pathlib import Path
    from voice_trainer.audio.chunk import AudioChunk
    from voice_trainer.audio.recorder import SessionRecorder

    rec = SessionRecorder(Path(sys.argv[1]))
    t = np.arange(320) / 16000
    fed_ms = 0
    while True:
        mic = 0.3 * np.sin(2 * np.pi * 440 * (t + fed_ms / 1000))
        rec.add_mic(AudioChunk.from_samples(mic, 16000, fed_ms))
        rec.add_customer(AudioChunk.from_samples(mic * (fed_ms % 2000 < 1000), 16000, fed_ms))
        fed_ms += 20
        print(fed_ms, flush=True)
        time.sleep(0.002)  # paces the fake device so the kill lands mid-stream
""")


def test_kill_9_while_recording_leaves_a_playable_file_up_to_the_kill(tmp_path):
    path = tmp_path / "recording.wav"
    child = subprocess.Popen([sys.executable, "-c", RECORD_FOREVER, str(path)], stdout=subprocess.PIPE, text=True)
    fed_ms = 0
    while fed_ms < 2500:
        fed_ms = int(child.stdout.readline())
    child.send_signal(signal.SIGKILL)
    rest = child.stdout.read().split()
    assert child.wait() == -signal.SIGKILL
    fed_ms = int(rest[-1]) if rest else fed_ms

    as_left = sf.info(path).frames / RATE  # readable as the kill left it
    duration_s = repair_wav(path)
    assert is_complete(path)
    assert duration_s >= as_left
    # Both sides were known up to the kill, so at most one write step (250 ms) plus a chunk is lost.
    assert fed_ms / 1000 - 0.3 <= duration_s <= fed_ms / 1000 + 0.02
    assert sox_duration_s(path) == pytest.approx(duration_s, abs=0.001)
    data, _ = sf.read(path)
    assert len(data) == round(duration_s * RATE)
    assert rms(data, 0, 100, duration_s * 1000 - 20) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


def _close_then_tear(path, claim_bytes, extra=b""):
    rec = SessionRecorder(path)
    rec.add_mic(AudioChunk.from_samples(tone(440, 1000, RATE), RATE, 0))
    rec.close()
    with open(path, "r+b") as f:
        f.seek(4)
        f.write(struct.pack("<I", (claim_bytes + 36) & 0xFFFFFFFF))
        f.seek(40)
        f.write(struct.pack("<I", claim_bytes))
        f.seek(0, os.SEEK_END)
        f.write(extra)


def test_repair_fixes_a_short_header_and_drops_a_torn_last_frame(tmp_path):
    path = tmp_path / "recording.wav"
    _close_then_tear(path, claim_bytes=8000 * 4, extra=b"\x01\x02\x03")  # header says 0.5 s; 3 stray bytes
    assert not is_complete(path)
    assert sf.info(path).frames == 8000

    assert repair_wav(path) == pytest.approx(1.0)
    assert is_complete(path)
    assert os.path.getsize(path) == 44 + RATE * 4
    assert sf.info(path).frames == RATE
    assert sox_duration_s(path) == pytest.approx(1.0)


def test_repair_fixes_a_placeholder_size_bigger_than_the_file(tmp_path):
    path = tmp_path / "recording.wav"
    _close_then_tear(path, claim_bytes=0xFFFFFFF0)
    assert not is_complete(path)
    assert repair_wav(path) == pytest.approx(1.0)
    assert sox_duration_s(path) == pytest.approx(1.0)


def test_repair_is_idempotent_and_leaves_complete_files_alone(tmp_path):
    path = tmp_path / "recording.wav"
    _close_then_tear(path, claim_bytes=100, extra=b"\x01")
    first = repair_wav(path)
    repaired = path.read_bytes()
    mtime = os.stat(path).st_mtime_ns
    assert repair_wav(path) == first
    assert path.read_bytes() == repaired
    assert os.stat(path).st_mtime_ns == mtime


def test_repair_refuses_a_file_that_is_not_a_wav(tmp_path):
    path = tmp_path / "recording.wav"
    path.write_bytes(b"this is not audio at all")
    with pytest.raises(AudioFileError, match="not a WAV file"):
        repair_wav(path)


def test_timestamp_jitter_of_device_blocks_does_not_cut_holes_in_the_audio(tmp_path):
    path = tmp_path / "recording.wav"
    jitter = np.random.default_rng(1).uniform(-5, 5, size=100)
    jitter[0] = 0  # the first block sets where the run starts
    with SessionRecorder(path) as rec:
        for chunk, off in zip(chunks(tone(440, 1000, RATE), RATE, 200, 10), jitter):
            rec.add_mic(AudioChunk(chunk.audio, chunk.rate_hz, timestamp_ms=chunk.timestamp_ms + off))
    data, _ = sf.read(path)
    assert deviation_from_tone(data, 0, 440, 200, 1200) < 0.002


def test_a_jump_in_timestamps_starts_the_audio_at_the_new_place(tmp_path):
    path = tmp_path / "recording.wav"
    with SessionRecorder(path) as rec:
        rec.add_mic(AudioChunk.from_samples(tone(440, 300, RATE), RATE, 0))
        rec.add_mic(AudioChunk.from_samples(tone(440, 300, RATE), RATE, 800))  # device dropped 500 ms
    data, _ = sf.read(path)
    assert len(data) == round(1.1 * RATE)
    assert rms(data, 0, 300, 800) < 0.001
    assert deviation_from_tone(data, 0, 440, 800, 1100) < 0.002
