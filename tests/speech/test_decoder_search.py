"""The free recognizer's cost levers: a narrowed decoder search (a temporary model view) and one vosk
recognizer kept for every turn, on the real Korean model and espeak-ng speech."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.errors import ModelError
from voice_trainer.speech.audio_file import read_audio_file
from voice_trainer.speech.vosk_recognizer import VoskRecognizer, _narrowed, load_model

PAD_MS = 500
CHUNK_MS = 30
# Korean phrases of three turns (espeak-ng's Korean is only roughly recognizable: the tests check the
# transcript's shape and timeline, not its words).
TURNS = ["안녕하세요 고객님 불편을 드려서 정말 죄송합니다",
         "언제부터 인터넷이 끊겼는지 말씀해 주시겠어요",
         "모뎀이 이십 초 만에 다시 연결되기 때문에 모르셨을 거예요"]


def _conf_value(conf: Path, name: str) -> str | None:
    found = re.search(rf"^--{name}=(\S+)\s*$", conf.read_text(), re.MULTILINE)
    return found.group(1) if found else None


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for part in sorted(folder.rglob("*")):
        if part.is_file():
            stat = part.stat()
            digest.update(f"{part.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def test_the_narrowed_view_carries_every_narrowed_search_option_and_keeps_the_rest(ko_model_path):
    conf = ko_model_path / "conf" / "model.conf"
    own = conf.read_text().splitlines()

    with _narrowed(ko_model_path, {"max-active": 700, "beam": 8.0, "lattice-beam": 1.0}) as view:
        assert view != ko_model_path
        viewed = view / "conf" / "model.conf"
        assert _conf_value(viewed, "max-active") == "700"
        assert _conf_value(viewed, "beam") == "8"
        assert _conf_value(viewed, "lattice-beam") == "1"
        untouched = [ln for ln in own if not re.match(r"--(max-active|beam|lattice-beam)=", ln)]
        assert [ln for ln in viewed.read_text().splitlines() if ln in untouched] == untouched
        assert (view / "am").resolve() == (ko_model_path / "am").resolve()
        assert (view / "conf" / "mfcc.conf").resolve() == (ko_model_path / "conf" / "mfcc.conf").resolve()
    assert not view.exists()
    assert conf.read_text().splitlines() == own


def test_a_wider_search_than_the_models_own_is_ignored_and_loads_the_model_itself(ko_model_path):
    own_beam = float(_conf_value(ko_model_path / "conf" / "model.conf", "beam"))
    with _narrowed(ko_model_path, {"beam": own_beam + 5, "max-active": 10**6}) as view:
        assert view == ko_model_path


def test_an_option_the_model_does_not_set_is_left_alone(ko_model_path, tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "conf").mkdir()
    (model / "conf" / "model.conf").write_text("--max-active=3000\n--acoustic-scale=1.0\n")
    with _narrowed(model, {"lattice-beam": 1.0, "max-active": 1000}) as view:
        text = (view / "conf" / "model.conf").read_text()
    assert text == "--max-active=1000\n--acoustic-scale=1.0\n"
    assert (model / "conf" / "model.conf").read_text() == "--max-active=3000\n--acoustic-scale=1.0\n"


def test_loading_with_a_narrowed_search_never_writes_to_the_installed_model(ko_model_path, espeak_wav):
    before = _tree_digest(ko_model_path)

    model = load_model(ko_model_path, max_active=700, beam=8.0, lattice_beam=1.0)
    words = _transcribe_turns(VoskRecognizer(model, partials=False), [espeak_wav(TURNS[0], pad_ms=PAD_MS)])[0]

    assert _tree_digest(ko_model_path) == before
    assert words and all(w.end_ms >= w.start_ms and 0 < w.conf <= 1 for w in words)


@pytest.mark.parametrize("option, value", [("beam", -1.0), ("lattice_beam", 0), ("max_active", 0),
                                           ("beam", float("nan")), ("beam", "wide"), ("lattice_beam", float("inf"))])
def test_a_bad_search_value_is_one_clear_error_naming_the_option(ko_model_path, option, value):
    with pytest.raises(ModelError) as err:
        load_model(ko_model_path, **{option: value})
    message = str(err.value)
    assert "\n" not in message
    assert option.replace("_", "-") in message and "positive number" in message


def _transcribe_turns(recognizer: VoskRecognizer, wavs: list[Path], gap_ms: float = 2000.0,
                      close_midway: bool = False) -> list[list]:
    """Each WAV as one turn on the session timeline (chunks stamped, turns `gap_ms` apart)."""
    turns, origin = [], 10_000.0
    for wav in wavs:
        audio = read_audio_file(wav)
        step = audio.rate_hz * CHUNK_MS // 1000 * 2
        pieces = range(0, len(audio.audio), step)
        for i, start in enumerate(pieces):
            recognizer.accept(AudioChunk(audio.audio[start : start + step], audio.rate_hz, 1, 2, origin + i * CHUNK_MS))
            if close_midway and i == len(pieces) // 2:
                recognizer.close_utterance()
        turns.append((origin, origin + audio.duration_ms, recognizer.finish().words))
        origin += audio.duration_ms + gap_ms
    for start_ms, end_ms, words in turns:
        assert words, "a turn of speech came back without words"
        for word in words:
            assert start_ms <= word.start_ms <= word.end_ms <= end_ms + CHUNK_MS
            assert 0 < word.conf <= 1
        assert [w.start_ms for w in words] == sorted(w.start_ms for w in words)
    return [words for _, _, words in turns]


@pytest.mark.parametrize("close_midway, keep_turns", [(False, None), (True, None), (False, 2)])
def test_the_full_pass_keeps_one_vosk_recognizer_and_every_turn_has_timed_words_inside_it(
        ko_model, espeak_wav, close_midway, keep_turns):
    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS]
    recognizer = VoskRecognizer(ko_model, partials=False, keep_turns=keep_turns)
    assert recognizer.keep_decoder, "free recognition should keep its vosk recognizer by default"

    kept = _transcribe_turns(recognizer, wavs, close_midway=close_midway)
    fresh = _transcribe_turns(VoskRecognizer(ko_model, partials=False, keep_decoder=False), wavs,
                              close_midway=close_midway)

    # vosk is not bit-for-bit repeatable here, so the same word may start a frame apart, and a word
    # may differ; the first word of each turn is where the times were shifted.
    for k, f in zip(kept, fresh):
        if k[0].text == f[0].text:
            assert k[0].start_ms == pytest.approx(f[0].start_ms, abs=3 * CHUNK_MS)


def test_a_grammar_recognizer_never_keeps_its_vosk_recognizer(ko_model):
    assert not VoskRecognizer(ko_model, grammar=["안녕하세요"], keep_decoder=True).keep_decoder


def test_word_agreement_is_one_minus_the_word_error_rate_turn_by_turn():
    from voice_trainer.bench import _word_agreement

    assert _word_agreement([["a", "b"], ["c", "d"]], [["a", "b"], ["c", "d"]]) == 1.0
    assert _word_agreement([["a", "b"], ["c", "d"]], [["a", "x"], ["c"]]) == 0.5  # one swapped, one dropped
    assert _word_agreement([["a"]], [[]]) == 0.0


def test_the_bench_budget_line_reads_the_free_pass_as_practice_runs_it(ko_model_path, espeak_wav):
    from voice_trainer.bench import BenchReport, free_rtf, recognition_speed
    from voice_trainer.settings import DEFAULT_DECODER_MAX_ACTIVE, DEFAULT_KEEP_FREE_DECODER

    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS[:2]]
    _, curve = recognition_speed(ko_model_path, wavs, DEFAULT_DECODER_MAX_ACTIVE)
    report = BenchReport(machine={}, settings={"decoder_max_active": DEFAULT_DECODER_MAX_ACTIVE}, rtf_curve=curve)

    product = next(r for r in curve if r["max_active"] == DEFAULT_DECODER_MAX_ACTIVE and r["chunk_ms"] == 30
                   and not r["partials"] and not r.get("grammar"))
    assert product["decoder"] == ("kept" if DEFAULT_KEEP_FREE_DECODER else "fresh")
    assert free_rtf(report, "rtf_cpu") == product["rtf_cpu"] and free_rtf(report) == product["rtf_wall"]
    assert {r["decoder"] for r in curve if not r.get("grammar")} == {"kept", "fresh"}
    free = [r for r in curve if not r.get("grammar") and not r["partials"]]
    assert all(0.0 <= r["agreement"] <= 1.0 for r in free)
    assert any("beam" in str(r["max_active"]) for r in free)
