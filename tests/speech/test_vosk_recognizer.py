"""The Vosk recognizer on the real Korean model and espeak-ng speech.

espeak-ng Korean is only roughly recognizable, so without a grammar the tests check shape
(non-empty text, sane timings, agreement across formats); with a grammar, exact phrases.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector, SpeechAudio, TurnEnded
from voice_trainer.errors import AudioFileError, ModelError
from voice_trainer.speech import vosk_binding
from voice_trainer.speech.audio_file import read_audio_file
from voice_trainer.speech.vosk_recognizer import (
    VoskRecognizer,
    grammar_supported,
    load_model,
    model_rate_hz,
    transcribe_file,
)

GRAMMAR = ["안녕하세요", "감사합니다", "여보세요", "주세요"]
PAD_MS = 500


def chunks_of(path: Path, chunk_ms: int = 100, origin_ms: float | None = None) -> list[AudioChunk]:
    audio = read_audio_file(path)
    step = audio.rate_hz * chunk_ms // 1000 * audio.channels * 2
    out = []
    for i, start in enumerate(range(0, len(audio.audio), step)):
        stamp = None if origin_ms is None else origin_ms + i * chunk_ms
        out.append(AudioChunk(audio.audio[start : start + step], audio.rate_hz, audio.channels, 2, stamp))
    return out


def duration_ms(path: Path) -> float:
    info = sf.info(str(path))
    return 1000.0 * info.frames / info.samplerate


def test_the_korean_model_loads_as_a_vosk_model_at_16_khz(ko_model):
    assert isinstance(ko_model, vosk_binding.Model)
    assert VoskRecognizer(ko_model).rate_hz == 16000


def test_partial_text_appears_while_speaking_before_the_turn_is_finished(ko_model, espeak_wav):
    wav = espeak_wav("안녕하세요 감사합니다 여보세요", pad_ms=PAD_MS)
    recognizer = VoskRecognizer(ko_model)

    partials = [recognizer.accept(chunk) for chunk in chunks_of(wav)]
    final = recognizer.finish()

    assert any(partials), "no partial text before finish()"
    assert final.text


def test_final_words_have_increasing_times_inside_the_audio_and_confidences(ko_model, espeak_wav):
    wav = espeak_wav("안녕하세요 감사합니다 여보세요", pad_ms=PAD_MS)

    words = transcribe_file(wav, ko_model).words

    assert words
    for word in words:
        assert 0 <= word.start_ms <= word.end_ms <= duration_ms(wav)
        assert 0 < word.conf <= 1
    starts = [w.start_ms for w in words]
    assert starts == sorted(starts)
    assert words[0].start_ms >= PAD_MS - 200  # nothing "heard" in the leading silence


# Vosk's decoding of the same audio is not bit-for-bit repeatable on this model: a word boundary
# may move by one output frame (10 ms x frame-subsampling 3).
VOSK_FRAME_MS = 30


def test_word_times_sit_on_the_session_timeline_from_chunk_timestamps(ko_model, espeak_wav):
    wav = espeak_wav("감사합니다", pad_ms=PAD_MS)

    plain = VoskRecognizer(ko_model, grammar=GRAMMAR)
    for chunk in chunks_of(wav):
        plain.accept(chunk)
    before = plain.finish().words
    stamped = VoskRecognizer(ko_model, grammar=GRAMMAR)
    for chunk in chunks_of(wav, origin_ms=61_000):
        stamped.accept(chunk)
    after = stamped.finish().words

    assert [w.text for w in after] == [w.text for w in before] == ["감사합니다"]
    assert after[0].start_ms == pytest.approx(before[0].start_ms + 61_000, abs=VOSK_FRAME_MS)
    assert after[0].end_ms == pytest.approx(before[0].end_ms + 61_000, abs=VOSK_FRAME_MS)


def test_finish_readies_the_next_turn_and_unstamped_audio_continues_the_counted_timeline(ko_model, espeak_wav):
    wav = espeak_wav("감사합니다", pad_ms=PAD_MS)
    recognizer = VoskRecognizer(ko_model, grammar=GRAMMAR, offset_ms=1000)

    turns = []
    for _ in range(2):
        for chunk in chunks_of(wav):
            recognizer.accept(chunk)
        turns.append(recognizer.finish())

    assert [t.text for t in turns] == ["감사합니다", "감사합니다"]
    first, second = turns[0].words[0], turns[1].words[0]
    assert second.start_ms - first.start_ms == pytest.approx(duration_ms(wav), abs=VOSK_FRAME_MS)
    assert first.start_ms >= 1000 + PAD_MS - 200


@pytest.fixture(scope="module")
def transcribed(ko_model, espeak_wav):
    """transcribed(text, rate_hz, channels, grammar) -> Recognition, each combination decoded once."""
    done = {}

    def get(text, rate_hz=16000, channels=1, grammar=None):
        key = (text, rate_hz, channels, tuple(grammar or ()))
        if key not in done:
            wav = espeak_wav(text, rate_hz=rate_hz, channels=channels, pad_ms=PAD_MS)
            done[key] = transcribe_file(wav, ko_model, grammar)
        return done[key]

    return get


@pytest.mark.parametrize("rate_hz, channels", [(22050, 1), (44100, 1), (48000, 1), (16000, 2), (44100, 2)])
def test_any_rate_and_channel_count_gives_the_same_words(transcribed, rate_hz, channels):
    text = "감사합니다 여보세요"
    reference, other = transcribed(text), transcribed(text, rate_hz, channels)

    expected, got = {w.text for w in reference.words}, {w.text for w in other.words}
    assert len(expected & got) >= 0.5 * len(expected | got), f"{reference.text!r} vs {other.text!r}"
    assert transcribed(text, rate_hz, channels, GRAMMAR).text == transcribed(text, grammar=GRAMMAR).text == text


@pytest.mark.parametrize("phrase", ["감사합니다", "여보세요"])
def test_grammar_brings_back_the_exact_phrase(ko_model, espeak_wav, phrase):
    recognition = transcribe_file(espeak_wav(phrase, pad_ms=PAD_MS), ko_model, grammar=GRAMMAR)

    assert recognition.text == phrase


def test_grammar_restricts_output_to_grammar_words(ko_model, espeak_wav):
    wav = espeak_wav("인터넷이 안 돼요 빨리 고쳐 주세요", pad_ms=PAD_MS)
    free = transcribe_file(wav, ko_model)

    restricted = transcribe_file(wav, ko_model, grammar=["감사합니다", "여보세요"])

    assert not set(free.text.split()) <= {"감사합니다", "여보세요"}  # without it, other words come out
    assert set(restricted.text.split()) <= {"감사합니다", "여보세요"}
    assert "[unk]" not in restricted.text


def test_cyrillic_grammar_reaches_vosk_as_raw_utf8_not_escapes(ko_model):
    recognizer = VoskRecognizer(ko_model, grammar=["интернет не работает", "спасибо"])

    assert "интернет не работает" in recognizer.grammar_json
    assert "\\u" not in recognizer.grammar_json
    assert recognizer.grammar_json.endswith('"[unk]"]')
    # the Korean model has no Russian words: vosk drops them, and we say which
    assert recognizer.missing_words == ["интернет", "не", "работает", "спасибо"]


def test_known_grammar_words_are_not_reported_missing(ko_model):
    assert VoskRecognizer(ko_model, grammar=GRAMMAR).missing_words == []


def _model_copy(source: Path, dest: Path) -> Path:
    """A copy of the model with the big graph files linked, not copied."""
    dest.mkdir()
    for child in source.iterdir():
        if child.name in ("graph", "ivector"):
            (dest / child.name).symlink_to(child)
        elif child.is_dir():
            shutil.copytree(child, dest / child.name)
        else:
            shutil.copy2(child, dest / child.name)
    return dest


def test_truncated_model_file_gives_model_error_not_a_crash(ko_model_path, tmp_path):
    broken = _model_copy(ko_model_path, tmp_path / "broken")
    with open(broken / "am" / "final.mdl", "r+b") as mdl:
        mdl.truncate(100_000)

    with pytest.raises(ModelError, match="not a usable Vosk model.*models install"):
        load_model(broken)


def test_missing_model_file_gives_model_error_naming_it(ko_model_path, tmp_path):
    broken = _model_copy(ko_model_path, tmp_path / "broken")
    (broken / "am" / "final.mdl").unlink()

    with pytest.raises(ModelError, match="am/final.mdl"):
        load_model(broken)


def test_missing_model_folder_gives_model_error(tmp_path):
    with pytest.raises(ModelError, match="no such folder"):
        load_model(tmp_path / "nowhere")


def test_non_audio_file_gives_audio_file_error(ko_model, tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio\n")

    with pytest.raises(AudioFileError, match="notes.wav"):
        transcribe_file(text, ko_model)


def test_grammar_rule_follows_the_graph_files(ko_model_path, tmp_path):
    static = tmp_path / "big-model" / "graph"
    static.mkdir(parents=True)
    (static / "HCLG.fst").write_bytes(b"x")

    assert grammar_supported(ko_model_path)
    assert not grammar_supported(tmp_path / "big-model")


def test_model_rate_comes_from_mfcc_conf(ko_model_path, tmp_path):
    conf = tmp_path / "m8k" / "conf"
    conf.mkdir(parents=True)
    (conf / "mfcc.conf").write_text("--use-energy=false\n--sample-frequency=8000\n")

    assert model_rate_hz(tmp_path / "m8k") == 8000
    assert model_rate_hz(ko_model_path) == 16000


def test_detector_turn_audio_fed_to_the_recognizer_gives_words_on_the_session_timeline(ko_model, espeak_wav):
    voice = read_audio_file(espeak_wav("감사합니다", rate_hz=48000, channels=2)).samples()
    stream = np.concatenate([np.zeros((48000, 2), np.int16), voice, np.zeros((72000, 2), np.int16)])
    detector, recognizer = EndOfTurnDetector(), VoskRecognizer(ko_model, grammar=GRAMMAR)
    recognitions, turns = [], []
    step = 48000 * 20 // 1000  # 20 ms device blocks, stamped from 5 s into the session
    for start in range(0, len(stream), step):
        chunk = AudioChunk.from_samples(stream[start : start + step], 48000, timestamp_ms=5000 + start / 48)
        for signal in detector.feed(chunk):
            if isinstance(signal, SpeechAudio):
                recognizer.accept(signal.chunk)
            elif isinstance(signal, TurnEnded):
                turns.append(signal)
                recognitions.append(recognizer.finish())

    assert [r.text for r in recognitions] == ["감사합니다"]
    word = recognitions[0].words[0]
    assert word.start_ms == pytest.approx(5000 + 1000, abs=2 * VOSK_FRAME_MS)  # the voice starts 1 s in
    assert word.end_ms <= turns[0].end_ms + VOSK_FRAME_MS


def test_a_format_change_mid_turn_is_resampled_without_losing_the_turn(ko_model, espeak_wav):
    low = read_audio_file(espeak_wav("감사합니다", pad_ms=PAD_MS))
    high = read_audio_file(espeak_wav("감사합니다", rate_hz=44100, channels=2, pad_ms=PAD_MS))
    recognizer = VoskRecognizer(ko_model, grammar=GRAMMAR)

    split_ms = 900
    recognizer.accept(AudioChunk(low.audio[: 16 * split_ms * 2], 16000))
    recognizer.accept(AudioChunk(high.audio[int(44.1 * split_ms) * 4 :], 44100, 2))

    assert recognizer.finish().text == "감사합니다"
