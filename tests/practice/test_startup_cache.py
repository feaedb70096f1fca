"""The cache of rendered customer lines: a repeated launch plays lines eSpeak rendered before, a torn or
foreign file is rendered again without a fuss, anything that changes the sound misses, and it stays bounded.

The synthesizer tests run the real eSpeak NG; they count the lines the engine is asked to render by
wrapping its render job (the one place a line reaches eSpeak).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech import synthesizer
from voice_trainer.speech.interfaces import Prosody
from voice_trainer.speech.line_cache import LineCache
from voice_trainer.speech.voice import prosody_for

LINE = "Пять месяцев ни одного обрыва, а сегодня четыре раза подряд!"


@pytest.fixture
def engine_renders(monkeypatch) -> list[str]:
    """The texts eSpeak was asked to render, in order."""
    rendered: list[str] = []
    original = synthesizer._RenderJob.__call__

    def counted(job, engine):
        rendered.append(job.text)
        return original(job, engine)

    monkeypatch.setattr(synthesizer._RenderJob, "__call__", counted)
    return rendered


def synth(cache_dir: Path, lang: str = "ru", voice: str | None = None) -> synthesizer.Pyttsx3Synthesizer:
    return synthesizer.Pyttsx3Synthesizer(lang, voice=voice, cache=LineCache(cache_dir))


def test_a_line_rendered_once_is_played_from_the_cache_by_the_next_synthesizer(tmp_path, engine_renders):
    with synth(tmp_path) as first:
        rendered = first.render(LINE, prosody_for(40))
    assert engine_renders == [LINE]
    assert len(list(tmp_path.glob("*.line"))) == 1
    with synth(tmp_path) as second:  # a new launch: a new synthesizer, the same cache folder
        again = second.render(LINE, prosody_for(40))
    assert engine_renders == [LINE]  # eSpeak was not asked again
    assert again == rendered and again.rate_hz == synthesizer.RATE_HZ and again.duration_ms > 1000


@pytest.mark.parametrize("damage", ["torn", "garbage", "empty", "another line's audio"])
def test_a_damaged_cache_file_is_rendered_again_and_rewritten(tmp_path, engine_renders, damage):
    with synth(tmp_path) as first:
        rendered = first.render(LINE, prosody_for(40))
        first.render("Другая фраза, совсем другая.", prosody_for(40))
    files = sorted(tmp_path.glob("*.line"), key=lambda p: p.stat().st_size)
    path = max(files, key=lambda p: p.stat().st_size)  # the longer line is LINE
    data = path.read_bytes()
    if damage == "torn":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(bytes(range(256)) * 40)
    elif damage == "empty":
        path.write_bytes(b"")
    else:  # a whole, valid file written for another key
        path.write_bytes(files[0].read_bytes())
    with synth(tmp_path) as second:
        again = second.render(LINE, prosody_for(40))
    assert engine_renders[-1] == LINE and len(engine_renders) == 3  # rendered again, no error
    assert abs(again.duration_ms - rendered.duration_ms) < 50  # eSpeak is not bit-exact from run to run
    with synth(tmp_path) as third:  # and the file is whole again
        assert third.render(LINE, prosody_for(40)) == again
    assert len(engine_renders) == 3


@pytest.mark.parametrize("change", ["text", "rate", "pitch", "volume", "voice"])
def test_anything_that_changes_the_sound_misses_the_cache(tmp_path, engine_renders, change):
    base = Prosody(rate_wpm=170, volume=0.8, pitch=50)
    with synth(tmp_path) as first:
        first.render(LINE, base)
    text, prosody, voice = LINE, base, None
    if change == "text":
        text = LINE.replace("четыре", "пять")
    elif change == "rate":
        prosody = Prosody(rate_wpm=200, volume=0.8, pitch=50)
    elif change == "pitch":
        prosody = Prosody(rate_wpm=170, volume=0.8, pitch=70)
    elif change == "volume":
        prosody = Prosody(rate_wpm=170, volume=1.0, pitch=50)
    else:
        voice = "ru-cl" if _has_voice("ru-cl") else "uk"
    with synth(tmp_path, voice=voice) as second:
        second.render(text, prosody)
    assert engine_renders == [LINE, text]
    assert len(list(tmp_path.glob("*.line"))) == 2


def _has_voice(name: str) -> bool:
    voices = synthesizer._engine_worker().submit(synthesizer._list_voices).result()
    return any(name in (voice_id.lower(), lang) for voice_id, lang in voices)


def test_without_a_cache_every_line_is_rendered(engine_renders):
    with synthesizer.Pyttsx3Synthesizer("ru") as plain:
        plain.render(LINE, prosody_for(40))
        plain.render(LINE, prosody_for(40))
    assert engine_renders == [LINE, LINE]


# --- the cache folder itself ---------------------------------------------------------------------


def tone(seconds: float, rate_hz: int = 22050) -> AudioChunk:
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return AudioChunk.from_samples((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate_hz)


def test_the_cache_stays_within_its_size_and_drops_the_least_recently_used(tmp_path):
    import os

    cache = LineCache(tmp_path, max_bytes=5 * 44100 + 2000)  # room for about five one-second lines
    files: dict[int, Path] = {}
    for n in range(5):
        before = set(tmp_path.glob("*.line"))
        cache.put(f"line {n}", tone(1.0))
        (files[n],) = set(tmp_path.glob("*.line")) - before
        os.utime(files[n], (1_000_000 + n, 1_000_000 + n))  # written in this order, long ago
    assert cache.get("line 0") is not None  # the oldest, but used just now
    for n in (5, 6):
        cache.put(f"line {n}", tone(1.0))
    total = sum(p.stat().st_size for p in tmp_path.glob("*.line"))
    assert total <= 5 * 44100 + 2000
    assert cache.get("line 0") is not None and cache.get("line 6") is not None
    assert cache.get("line 1") is None and cache.get("line 2") is None  # the least recently used went
    assert not list(tmp_path.glob(".part-*"))  # no temporary files left behind


def test_an_unwritable_cache_folder_only_means_no_cache(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = LineCache(blocker / "lines")
    cache.put("line", tone(0.2))
    assert cache.get("line") is None


# --- the model load waits for his first line ----------------------------------------------------


class HeldSpeaker:
    """Plays nothing until released; records what it was given (a fake at the hardware boundary)."""

    def __init__(self):
        import threading

        self.playing = threading.Event()
        self.release = threading.Event()

    def play(self, chunk, stop=None):
        from voice_trainer.audio.streams import PlaybackResult

        self.playing.set()
        self.release.wait(30)
        return PlaybackResult(0.0, chunk.duration_ms)

    def close(self):
        pass


class ToneSynth:
    rate_hz = 22050

    def __init__(self, fail: bool = False):
        self.fail = fail

    def render(self, text, prosody):
        if self.fail:
            raise RuntimeError("eSpeak broke")
        return tone(0.3)

    def close(self):
        pass


def test_wait_until_speaking_returns_once_his_first_line_goes_to_the_speaker():
    from voice_trainer.clock import ManualClock
    from voice_trainer.speech.voice import CustomerVoice

    speaker = HeldSpeaker()
    voice = CustomerVoice(ToneSynth(), speaker, clock=ManualClock())
    assert voice.wait_until_speaking(0) is False  # nothing said yet
    handle = voice.say_async("Алло! Это опять я, у меня снова нет интернета.", 50, 0)
    assert voice.wait_until_speaking(30) is True
    assert not handle.done  # his line is still going out (the speaker holds it)
    assert speaker.playing.wait(30)
    speaker.release.set()
    handle.wait(30)


def test_a_first_line_that_fails_does_not_hold_start_up():
    from voice_trainer.clock import ManualClock
    from voice_trainer.speech.voice import CustomerVoice

    voice = CustomerVoice(ToneSynth(fail=True), HeldSpeaker(), clock=ManualClock())
    handle = voice.say_async("Алло! Это опять я.", 50, 0)
    assert voice.wait_until_speaking(30) is True
    with pytest.raises(RuntimeError):
        handle.wait(30)
