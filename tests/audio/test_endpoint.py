"""End of turn on real espeak-ng speech padded with silence, fed the way a microphone would."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import (
    DEFAULT_TRAILING_SILENCE_MS,
    EndOfTurnDetector,
    SpeechAudio,
    SpeechStarted,
    TurnEnded,
)

RATE = 16000
FRAME_MS = 30
HELLO = "안녕하세요"


def speech(espeak_wav, text: str = HELLO, rate_hz: int = RATE) -> np.ndarray:
    samples, _ = sf.read(espeak_wav(text, rate_hz=rate_hz), dtype="int16")
    return samples


def silence(ms: float, rate_hz: int = RATE) -> np.ndarray:
    return np.zeros(int(rate_hz * ms / 1000), dtype=np.int16)


def last_voiced_ms(samples: np.ndarray, rate_hz: int = RATE) -> float:
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 100)[0]
    return 1000.0 * (loud[-1] + 1) / rate_hz


def first_voiced_ms(samples: np.ndarray, rate_hz: int = RATE) -> float:
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 100)[0]
    return 1000.0 * loud[0] / rate_hz


def feed_stream(detector, samples, rate_hz=RATE, chunk_ms=FRAME_MS, origin_ms=None, channels=1):
    """Feeds like a device callback; returns [(time the chunk ended, signal)]."""
    step = rate_hz * chunk_ms // 1000
    out = []
    for i in range(0, len(samples), step):
        part = samples[i : i + step]
        stamp = None if origin_ms is None else origin_ms + 1000.0 * i / rate_hz
        chunk = AudioChunk.from_samples(part, rate_hz, timestamp_ms=stamp)
        if channels == 2:
            chunk = AudioChunk.from_samples(np.stack([part, part], axis=1), rate_hz, timestamp_ms=stamp)
        fed_until_ms = 1000.0 * (i + len(part)) / rate_hz + (origin_ms or 0.0)
        out += [(fed_until_ms, s) for s in detector.feed(chunk)]
    return out


def of_type(timed, kind):
    return [s for _, s in timed if isinstance(s, kind)]


def test_leading_silence_is_ignored_and_the_turn_starts_at_the_voice(espeak_wav):
    voice = speech(espeak_wav)
    stream = np.concatenate([silence(1500), voice, silence(1500)])

    timed = feed_stream(EndOfTurnDetector(), stream)

    started = of_type(timed, SpeechStarted)
    assert len(started) == 1
    assert abs(started[0].start_ms - (1500 + first_voiced_ms(voice))) <= FRAME_MS
    assert len(of_type(timed, TurnEnded)) == 1


def test_turn_ends_within_trailing_silence_plus_one_frame_after_the_last_voiced_sample(espeak_wav):
    stream = np.concatenate([silence(1000), speech(espeak_wav), silence(2000)])
    last_ms = last_voiced_ms(stream)

    timed = feed_stream(EndOfTurnDetector(), stream)

    (when_ms, ended), = [(t, s) for t, s in timed if isinstance(s, TurnEnded)]
    assert ended.reason == "silence"
    assert DEFAULT_TRAILING_SILENCE_MS <= when_ms - last_ms <= DEFAULT_TRAILING_SILENCE_MS + FRAME_MS
    assert last_ms <= ended.end_ms <= last_ms + FRAME_MS


def test_a_pause_shorter_than_the_trailing_silence_stays_one_turn(espeak_wav):
    voice = speech(espeak_wav)
    stream = np.concatenate([silence(500), voice, silence(400), voice, silence(1500)])

    ended = of_type(feed_stream(EndOfTurnDetector(), stream), TurnEnded)

    assert len(ended) == 1
    assert ended[0].end_ms >= last_voiced_ms(stream)


def test_a_pause_longer_than_the_trailing_silence_splits_the_turns(espeak_wav):
    voice = speech(espeak_wav)
    stream = np.concatenate([silence(500), voice, silence(1200), voice, silence(1500)])

    ended = of_type(feed_stream(EndOfTurnDetector(), stream), TurnEnded)

    assert [e.reason for e in ended] == ["silence", "silence"]
    assert ended[0].end_ms < 500 + len(voice) * 1000 / RATE + FRAME_MS
    assert ended[1].start_ms > ended[0].end_ms + 1000


def test_max_turn_length_cuts_a_long_turn(espeak_wav):
    voice = speech(espeak_wav, "안녕하세요 인터넷이 안 돼요 빨리 고쳐 주세요")
    stream = np.concatenate([silence(300), voice, silence(1500)])

    ended = of_type(feed_stream(EndOfTurnDetector(max_turn_ms=1000), stream), TurnEnded)

    assert ended[0].reason == "max_length"
    assert all(e.end_ms - e.start_ms <= 1000 for e in ended)
    assert ended[1].start_ms == ended[0].end_ms  # the speaker goes on: the next turn picks up at the cut


@pytest.mark.parametrize("burst", ["white noise click", "60 ms of speech"])
def test_a_short_burst_does_not_start_a_turn(espeak_wav, burst):
    rng = np.random.default_rng(7)
    if burst == "white noise click":
        noise = rng.integers(-20000, 20000, size=RATE * 15 // 1000).astype(np.int16)
    else:
        voice = speech(espeak_wav)
        middle = len(voice) // 3
        noise = voice[middle : middle + RATE * 60 // 1000]
    stream = np.concatenate([silence(1000), noise, silence(1500)])

    assert feed_stream(EndOfTurnDetector(), stream) == []


def test_turn_audio_includes_preroll_before_the_first_voiced_frame_and_is_contiguous(espeak_wav):
    voice = speech(espeak_wav)
    stream = np.concatenate([silence(1000), voice, silence(1500)])

    timed = feed_stream(EndOfTurnDetector(), stream)

    started = of_type(timed, SpeechStarted)[0]
    audio = [s.chunk for s in of_type(timed, SpeechAudio)]
    assert audio[0].timestamp_ms < started.start_ms
    for before, after in zip(audio, audio[1:]):
        assert after.timestamp_ms == pytest.approx(before.timestamp_ms + before.duration_ms)
    turn = np.concatenate([c.samples()[:, 0] for c in audio])
    offset = int((1000 - audio[0].timestamp_ms) * RATE / 1000)
    np.testing.assert_array_equal(turn[offset : offset + len(voice)], voice)


def test_signals_come_in_order_start_audio_end(espeak_wav):
    stream = np.concatenate([silence(500), speech(espeak_wav), silence(1500)])

    kinds = [type(s).__name__ for _, s in feed_stream(EndOfTurnDetector(), stream)]

    assert kinds[0] == "SpeechStarted" and kinds[-1] == "TurnEnded"
    assert set(kinds[1:-1]) == {"SpeechAudio"}


def test_times_follow_chunk_timestamps_on_the_session_timeline(espeak_wav):
    stream = np.concatenate([silence(500), speech(espeak_wav), silence(1500)])

    plain = of_type(feed_stream(EndOfTurnDetector(), stream), TurnEnded)[0]
    stamped = of_type(feed_stream(EndOfTurnDetector(), stream, origin_ms=42_000), TurnEnded)[0]

    assert stamped.start_ms == pytest.approx(plain.start_ms + 42_000)
    assert stamped.end_ms == pytest.approx(plain.end_ms + 42_000)


def test_device_audio_at_44100_hz_stereo_gives_the_same_turn(espeak_wav):
    native = np.concatenate([silence(500), speech(espeak_wav), silence(1500)])
    device = np.concatenate([silence(500, 44100), speech(espeak_wav, rate_hz=44100), silence(1500, 44100)])

    expected = of_type(feed_stream(EndOfTurnDetector(), native), TurnEnded)[0]
    timed = feed_stream(EndOfTurnDetector(), device, rate_hz=44100, chunk_ms=20, channels=2)
    got = of_type(timed, TurnEnded)[0]

    assert abs(got.start_ms - expected.start_ms) <= 2 * FRAME_MS
    assert abs(got.end_ms - expected.end_ms) <= 2 * FRAME_MS
    assert all(s.chunk.rate_hz == RATE and s.chunk.channels == 1 for s in of_type(timed, SpeechAudio))


def test_flush_closes_a_turn_cut_off_by_the_end_of_the_audio(espeak_wav):
    detector = EndOfTurnDetector()
    timed = feed_stream(detector, np.concatenate([silence(300), speech(espeak_wav)]))
    assert of_type(timed, TurnEnded) == []

    (ended,) = detector.flush()

    assert ended.reason == "end_of_audio"
    assert not detector.speaking


def test_reset_forgets_a_turn_in_progress(espeak_wav):
    detector = EndOfTurnDetector()
    feed_stream(detector, np.concatenate([silence(300), speech(espeak_wav)]))
    assert detector.speaking

    detector.reset()

    assert not detector.speaking
    assert feed_stream(detector, silence(2000)) == []


def test_unsupported_vad_rate_is_refused():
    with pytest.raises(ValueError, match="rate_hz"):
        EndOfTurnDetector(rate_hz=22050)
