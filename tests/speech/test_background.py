"""The recognizer on its own thread gives the same words as on the caller's, without blocking it."""

from __future__ import annotations

import time

import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech.background import BackgroundRecognizer
from voice_trainer.speech.audio_file import read_audio_file
from voice_trainer.speech.vosk_recognizer import VoskRecognizer

PHRASES = ["감사합니다", "여보세요"]


def chunks(audio: AudioChunk, ms: int = 30):
    step = int(audio.rate_hz * ms / 1000) * 2
    for i in range(0, len(audio.audio), step):
        yield AudioChunk(audio.audio[i : i + step], audio.rate_hz, 1, 2, 1000.0 * i / 2 / audio.rate_hz)


def test_same_words_as_the_recognizer_itself(ko_model, espeak_wav):
    audio = read_audio_file(espeak_wav("감사합니다", pad_ms=300))
    direct = VoskRecognizer(ko_model, grammar=PHRASES)
    for chunk in chunks(audio):
        direct.accept(chunk)
    expected = direct.finish()
    background = BackgroundRecognizer(VoskRecognizer(ko_model, grammar=PHRASES))
    for chunk in chunks(audio):
        background.accept(chunk)
    got = background.finish()
    background.close()
    assert got.text == expected.text == "감사합니다"
    assert [(w.text, round(w.start_ms), round(w.end_ms)) for w in got.words] == [
        (w.text, round(w.start_ms), round(w.end_ms)) for w in expected.words
    ]


def test_feeding_does_not_wait_for_decoding(ko_model, espeak_wav):
    audio = read_audio_file(espeak_wav("안녕하세요 고객님 연결 날짜를 알려 주세요"))
    background = BackgroundRecognizer(VoskRecognizer(ko_model))
    fed = list(chunks(audio))
    started = time.perf_counter()
    for chunk in fed:
        background.accept(chunk)
    feeding_s = time.perf_counter() - started
    result = background.finish()
    total_s = time.perf_counter() - started
    background.close()
    assert result.text
    assert feeding_s < 0.25 * total_s  # queued at once; the decoding happened on the other thread


def test_a_turn_closed_early_then_continued_keeps_all_words_in_order(ko_model, espeak_wav):
    first = read_audio_file(espeak_wav("감사합니다", pad_ms=300))
    second = read_audio_file(espeak_wav("여보세요", pad_ms=300))
    background = BackgroundRecognizer(VoskRecognizer(ko_model, grammar=PHRASES))
    for chunk in chunks(first):
        background.accept(chunk)
    background.close_utterance()  # a pause that did not end the turn
    offset = first.duration_ms
    for chunk in chunks(second):
        background.accept(AudioChunk(chunk.audio, chunk.rate_hz, 1, 2, chunk.timestamp_ms + offset))
    result = background.finish()
    background.close()
    assert result.text == "감사합니다 여보세요"
    assert result.words[0].end_ms <= offset < result.words[1].start_ms


def test_a_decoding_error_reaches_the_caller():
    class Broken:
        rate_hz = 16000

        def accept(self, chunk):
            raise RuntimeError("decoder died")

        def finish(self):
            raise AssertionError("not reached")

    background = BackgroundRecognizer(Broken())
    background.accept(AudioChunk(b"\0\0" * 160, 16000))
    with pytest.raises(RuntimeError, match="decoder died"):
        for _ in range(100):
            background.accept(AudioChunk(b"\0\0" * 160, 16000))
            time.sleep(0.01)
    background.close()
