"""How speech ends by its pitch (audio/prosody.py), read by the real end-of-turn detector (webrtcvad) from
real espeak-ng speech: a sentence's end falls to the voice's low; a pause inside a sentence (an SSML break,
spoken in one breath group) leaves the pitch level. Then the pitch tracker on tones whose pitch is known."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector
from voice_trainer.audio.prosody import PitchTrack

RATE = 16000


def pauses(wav: Path) -> list[str]:
    """How the speech ends at each pause of the file, as the detector reads it once a pause is 150 ms long."""
    samples, rate = sf.read(str(wav), dtype="int16")
    samples = np.concatenate([np.zeros(rate // 4, np.int16), samples, np.zeros(rate, np.int16)])
    detector = EndOfTurnDetector(RATE, trailing_silence_ms=5000)
    step = rate * 30 // 1000
    kinds: list[str] = []
    judged_at = None
    for i in range(0, len(samples), step):
        detector.feed(AudioChunk(samples[i: i + step].tobytes(), rate))
        end = detector._last_voiced_end_ms
        if detector.speaking and detector.silence_ms >= 150 and end != judged_at:
            judged_at = end
            kinds.append(detector.phrase_end().kind)
    return kinds


def espeak(tmp_path: Path, voice: str, text: str) -> Path:
    wav = tmp_path / "said.wav"
    ssml = ["-m"] if text.startswith("<speak>") else []
    subprocess.run(["espeak-ng", "-v", voice, *ssml, "-w", str(wav), text], check=True, capture_output=True)
    return wav


@pytest.mark.parametrize("voice, text", [
    ("ru", "Извините за неудобства, у нас была авария на линии."),
    ("en", "I'm sorry about the trouble, there was a fault on the line."),
    ("ko", "불편을 드려 정말 죄송합니다"),
])
def test_a_sentence_ends_falling(tmp_path, voice, text):
    assert pauses(espeak(tmp_path, voice, text))[-1] == "falling"


@pytest.mark.parametrize("voice, text", [
    ("ru", '<speak>Модем переподключается сам, потому что <break time="800ms"/> так устроено оборудование.</speak>'),
    ("ru", '<speak>Ваш номер договора три пять <break time="800ms"/> семь два.</speak>'),
    ("en", '<speak>The modem reconnects by itself because <break time="800ms"/> that is how it works.</speak>'),
    ("ko", '<speak>모뎀을 다시 켜 보세요 그리고 <break time="800ms"/> 연결을 확인해 주세요</speak>'),
])
def test_a_thinking_pause_inside_a_sentence_is_held_level(tmp_path, voice, text):
    kinds = pauses(espeak(tmp_path, voice, text))
    assert len(kinds) >= 2 and kinds[-2] == "level"  # the break; the sentence's own end comes after it
    assert "falling" not in kinds[:-1]


def tone(hz_from: float, hz_to: float, ms: int) -> np.ndarray:
    t = np.arange(RATE * ms // 1000) / RATE
    hz = np.linspace(hz_from, hz_to, len(t))
    phase = 2 * np.pi * np.cumsum(hz) / RATE
    voice = sum(np.sin(k * phase) / k for k in (1, 2, 3))  # a few harmonics, as a voice has
    return (6000 * voice).astype(np.int16)


def track(samples: np.ndarray) -> PitchTrack:
    pitch = PitchTrack(RATE)
    for i in range(0, len(samples) - 479, 480):
        pitch.add(samples[i: i + 480].tobytes(), 1000 * (i + 480) / RATE, voiced=True)
    return pitch


@pytest.mark.parametrize("hz", [85.0, 140.0, 220.0, 330.0])
def test_the_pitch_of_a_steady_voice_is_its_frequency(hz):
    window = tone(hz, hz, 45)
    assert PitchTrack(RATE).pitch_hz(window.astype(np.float64)) == pytest.approx(hz, rel=0.03)


def test_a_glide_down_rises_up_or_stays_put():
    steady = tone(180, 180, 1200)
    end_ms = 1000 * len(steady) // RATE
    assert track(np.concatenate([steady, tone(180, 120, 300)])).phrase_end(end_ms + 300).kind == "falling"
    assert track(np.concatenate([steady, tone(180, 260, 300)])).phrase_end(end_ms + 300).kind == "rising"
    assert track(np.concatenate([steady, tone(180, 185, 300)])).phrase_end(end_ms + 300).kind == "level"


def test_noise_and_too_little_voice_have_no_reading():
    noise = np.random.default_rng(1).normal(0, 3000, RATE).astype(np.int16)
    assert track(noise).phrase_end(1000).kind == "unknown"
    assert track(tone(150, 150, 150)).phrase_end(150).kind == "unknown"  # five frames: not enough to compare


def test_an_end_read_an_octave_off_is_folded_back():
    # A breathy last syllable read at double the pitch must not turn a fall into a rise.
    pitch = track(tone(200, 200, 1200))
    last_ms = pitch._pitched[-1][0]
    for i, st in enumerate([-4.0, -4.5, -5.0]):
        pitch._pitched.append((last_ms + 30 * (i + 1), 12.0 * np.log2(200 / 100) + st + 12.0))
    assert pitch.phrase_end(last_ms + 90).kind == "falling"
