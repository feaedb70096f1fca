"""The free recognizer's memory levers: its kept vosk recognizer renewed every few turns and warmed between
turns (off the reply path), and freed memory handed back to the system; real Korean model, espeak-ng speech."""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech.audio_file import read_audio_file
from voice_trainer.speech.background import BackgroundRecognizer
from voice_trainer.speech.interfaces import Recognition
from voice_trainer.heap import release_freed_memory
from voice_trainer.speech.vosk_recognizer import VoskRecognizer

PAD_MS = 500
CHUNK_MS = 30
GAP_MS = 2000.0
# espeak-ng's Korean is only roughly recognizable: the tests check the transcript's shape and timeline.
TURNS = ["안녕하세요 고객님 불편을 드려서 정말 죄송합니다",
         "언제부터 인터넷이 끊겼는지 말씀해 주시겠어요",
         "모뎀이 이십 초 만에 다시 연결되기 때문에 모르셨을 거예요"]


def _turns_as_practice_runs_them(recognizer: VoskRecognizer, wavs: list[Path]) -> list[tuple[float, float, tuple]]:
    """Each WAV as one turn on the session timeline (chunks stamped, turns GAP_MS apart), with the idle
    work between turns that practice's background thread does: (turn start ms, turn end ms, words)."""
    recognizer.between_turns()
    turns, origin = [], 10_000.0
    for wav in wavs:
        audio = read_audio_file(wav)
        step = audio.rate_hz * CHUNK_MS // 1000 * 2
        for i, start in enumerate(range(0, len(audio.audio), step)):
            recognizer.accept(AudioChunk(audio.audio[start : start + step], audio.rate_hz, 1, 2, origin + i * CHUNK_MS))
        turns.append((origin, origin + audio.duration_ms, recognizer.finish().words))
        recognizer.between_turns()
        origin += audio.duration_ms + GAP_MS
    return turns


def _assert_timed_words_inside_each_turn(turns) -> None:
    for start_ms, end_ms, words in turns:
        assert words, "a turn of speech came back without words"
        for word in words:
            assert start_ms <= word.start_ms <= word.end_ms <= end_ms + CHUNK_MS, (start_ms, end_ms, word)
            assert 0 < word.conf <= 1
        assert [w.start_ms for w in words] == sorted(w.start_ms for w in words)


def test_a_renewed_and_warmed_recognizer_times_every_turn_like_a_fresh_one(ko_model, espeak_wav):
    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS + TURNS[:1]]
    kept = VoskRecognizer(ko_model, partials=False, keep_turns=2, warm_up_ms=500)
    made = []
    kept_turns = _turns_as_practice_runs_them(_Watching(kept, made), wavs)
    fresh_turns = _turns_as_practice_runs_them(VoskRecognizer(ko_model, partials=False, keep_decoder=False), wavs)

    # (each noted vosk recognizer is kept alive in `made`, so no two share an id)
    assert len({id(k) for k in made}) == 2, "4 turns at 2 a recognizer: the first one and one renewal"
    _assert_timed_words_inside_each_turn(kept_turns)
    _assert_timed_words_inside_each_turn(fresh_turns)
    # vosk is not bit-for-bit repeatable here: the same first word may start a frame or two apart. The warm-up
    # silence counts on vosk's clock; were it not accounted for, the words after it would sit 500 ms late.
    for (_, _, k), (_, _, f) in zip(kept_turns, fresh_turns):
        if k[0].text == f[0].text:
            assert k[0].start_ms == pytest.approx(f[0].start_ms, abs=3 * CHUNK_MS)


class _Watching:
    """The recognizer, noting which vosk recognizer is in place after each step of a turn."""

    def __init__(self, recognizer: VoskRecognizer, made: list):
        self._recognizer, self._made = recognizer, made

    def accept(self, chunk: AudioChunk) -> str:
        text = self._recognizer.accept(chunk)
        self._made.append(self._recognizer._kaldi)
        return text

    def finish(self) -> Recognition:
        return self._recognizer.finish()

    def between_turns(self) -> None:
        self._recognizer.between_turns()


def _vosk_recognizer_per_turn(recognizer: VoskRecognizer, wavs: list[Path]):
    """The turns as practice runs them, noting the vosk recognizers each turn was decoded by; the noted
    ones are kept alive, so two ids differ only if the recognizers did."""
    made: list = []
    per_turn: list[set[int]] = []

    class Noting(_Watching):
        def finish(self):
            per_turn.append({id(k) for k in made})
            kept_alive.extend(made)
            made.clear()
            return super().finish()

    kept_alive: list = []
    turns = _turns_as_practice_runs_them(Noting(recognizer, made), wavs)
    assert all(len(ids) == 1 for ids in per_turn), "a turn was decoded by more than one vosk recognizer"
    return [ids.pop() for ids in per_turn], turns


def _seconds(wav: Path) -> float:
    return read_audio_file(wav).duration_ms / 1000


def test_a_recognizer_that_decoded_enough_seconds_is_renewed_before_its_turns_are_up(ko_model, espeak_wav):
    """Renewal by audio decoded: the turn that brings it to `renew_after_s` is its last, though `keep_turns`
    would allow more; the next turn is decoded by a new one, its words timed right."""
    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS[:2] * 2]
    first_two = _seconds(wavs[0]) + _seconds(wavs[1])
    # past the first turn (and its warm-up), reached by the second; the third alone is the first again
    recognizer = VoskRecognizer(ko_model, partials=False, keep_turns=10, renew_after_s=first_two - 0.5)
    ids, turns = _vosk_recognizer_per_turn(recognizer, wavs)
    assert ids[0] == ids[1], "one turn's audio is under the limit: the recognizer is kept"
    assert ids[2] != ids[1], "two turns' audio reach it: renewed before the third turn, with 10 turns allowed"
    assert ids[3] == ids[2]
    _assert_timed_words_inside_each_turn(turns)
    fresh = _turns_as_practice_runs_them(VoskRecognizer(ko_model, partials=False, keep_decoder=False), wavs)
    for (_, _, k), (_, _, f) in zip(turns, fresh):
        if k[0].text == f[0].text:
            assert k[0].start_ms == pytest.approx(f[0].start_ms, abs=3 * CHUNK_MS)


def test_a_recognizer_that_decoded_little_keeps_the_turn_cadence(ko_model, espeak_wav):
    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS + TURNS[:1]]
    enough = sum(_seconds(w) for w in wavs) + 10
    ids, turns = _vosk_recognizer_per_turn(
        VoskRecognizer(ko_model, partials=False, keep_turns=3, renew_after_s=enough), wavs)
    assert ids[0] == ids[1] == ids[2] != ids[3], "renewed by turns only: after the third"
    _assert_timed_words_inside_each_turn(turns)
    ids, _ = _vosk_recognizer_per_turn(VoskRecognizer(ko_model, partials=False, keep_turns=3, renew_after_s=0), wavs)
    assert ids[0] == ids[1] == ids[2] != ids[3], "0: no limit by seconds"


def test_a_turn_longer_than_the_limit_is_never_split_across_recognizers(ko_model, espeak_wav):
    """Renewal waits for the end of the turn, even when vosk closes an utterance mid-turn (a pause) and
    practice closes one during a pause; the words after the pause are timed on the same clock."""
    a = read_audio_file(espeak_wav(TURNS[0], pad_ms=PAD_MS))
    b = read_audio_file(espeak_wav(TURNS[1], pad_ms=PAD_MS))
    recognizer = VoskRecognizer(ko_model, partials=False, keep_turns=10, renew_after_s=1.0)
    recognizer.between_turns()
    seen = set()
    step = a.rate_hz * CHUNK_MS // 1000 * 2
    origin, t = 5_000.0, 5_000.0
    for part in (a, b):
        for start in range(0, len(part.audio), step):
            recognizer.accept(AudioChunk(part.audio[start : start + step], part.rate_hz, 1, 2, t))
            seen.add(id(recognizer._kaldi))
            t += CHUNK_MS
        recognizer.close_utterance()  # the pause between the two phrases
        t += 1000.0
    kept = recognizer._kaldi
    words = recognizer.finish().words
    assert len(seen) == 1 and kept is not None, "one vosk recognizer for the whole turn, past the limit"
    assert recognizer._kaldi is None, "renewed at the end of the turn"
    assert words and all(origin <= w.start_ms <= w.end_ms <= t for w in words)
    second_from = origin + a.duration_ms + 1000.0
    assert any(w.start_ms >= second_from for w in words), "words of the second phrase after its own start"
    recognizer.between_turns()
    assert recognizer._kaldi is not None and recognizer.finish().words == (), "the new one warmed, no words leaked"


def test_the_warm_up_puts_no_words_into_the_turn_after_it(ko_model, espeak_wav):
    recognizer = VoskRecognizer(ko_model, partials=False, keep_turns=1, warm_up_ms=1000)
    recognizer.between_turns()
    assert recognizer.finish().words == (), "a turn with no audio after a warm-up has no words"
    recognizer.between_turns()  # renewed (one turn a recognizer) and warmed again
    [(start_ms, end_ms, words)] = _turns_as_practice_runs_them(recognizer, [espeak_wav(TURNS[1], pad_ms=PAD_MS)])
    assert words and all(start_ms <= w.start_ms for w in words)


def test_idle_work_is_refused_while_a_turn_is_open(ko_model, espeak_wav):
    """between_turns mid-turn would feed silence into the trainee's words: it does nothing then."""
    audio = read_audio_file(espeak_wav(TURNS[0], pad_ms=PAD_MS))
    recognizer = VoskRecognizer(ko_model, partials=False, keep_turns=1, warm_up_ms=500)
    half = len(audio.audio) // 2 // 2 * 2
    recognizer.accept(AudioChunk(audio.audio[:half], audio.rate_hz, 1, 2, 0.0))
    fed_before = recognizer._fed_s
    recognizer.between_turns()
    assert recognizer._fed_s == fed_before
    recognizer.accept(AudioChunk(audio.audio[half:], audio.rate_hz))
    words = recognizer.finish().words
    assert words and words[-1].end_ms <= audio.duration_ms + CHUNK_MS


def test_a_grammar_recognizer_is_never_warmed(ko_model):
    recognizer = VoskRecognizer(ko_model, grammar=["안녕하세요"], warm_up_ms=500)
    recognizer.between_turns()
    assert recognizer._fed_s == 0.0


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc (Linux)")
def test_freed_heap_memory_goes_back_to_the_system():
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # 64 MB in 16 KB blocks (below glibc's mmap threshold: heap, as vosk's graph states are), each touched.
    blocks = [libc.malloc(16 * 1024) for _ in range(4096)]
    for block in blocks:
        ctypes.memset(block, 1, 16 * 1024)
    keep = blocks[-1]  # one live block at the top of the heap: glibc's own trimming cannot shrink past it
    for block in blocks[:-1]:
        libc.free(block)
    before = _rss_kb()
    release_freed_memory()
    after = _rss_kb()
    libc.free(keep)
    assert before - after > 32 * 1024, (before, after)


class _Slow:
    """A fake recognizer whose idle work waits until the test lets it go."""

    rate_hz = 16000

    def __init__(self):
        self.idle_started = threading.Event()
        self.release = threading.Event()
        self.idle_calls = 0

    def accept(self, chunk):
        return ""

    def close_utterance(self):
        return ""

    def finish(self):
        return Recognition("네", ())

    def between_turns(self):
        self.idle_calls += 1
        self.idle_started.set()
        assert self.release.wait(30)


def test_the_background_thread_hands_the_words_on_before_its_idle_work():
    slow = _Slow()
    background = BackgroundRecognizer(make=lambda: slow)
    assert slow.idle_started.wait(30), "idle work once the recognizer is made"
    slow.idle_started.clear()
    slow.release.set()
    slow.release.clear()
    background.accept(AudioChunk(bytes(960), 16000))
    result = background.finish_async().result(timeout=30)  # handed on while idle work is still to come
    assert result.text == "네"
    assert slow.idle_started.wait(30)
    slow.release.set()
    background.close()
    assert slow.idle_calls == 2


def test_an_error_in_idle_work_is_raised_by_the_next_call():
    failing = threading.Event()

    class Broken(_Slow):
        def between_turns(self):
            self.idle_calls += 1
            if self.idle_calls > 1:  # the one after the first turn
                failing.set()
                raise RuntimeError("idle work failed")

    background = BackgroundRecognizer(Broken())
    assert background.finish_async().result(timeout=30).text == "네"  # handed on before the idle work failed
    assert failing.wait(30)
    with pytest.raises(RuntimeError, match="idle work failed"):
        background.finish_async().result(timeout=30)
    background.close()


def test_the_bench_counts_the_warm_up_apart_and_never_drops_it(ko_model, espeak_wav):
    """The bench's free row decodes as practice does (idle work between turns); the CPU spent warming
    renewed recognizers is not in the turns' RTF, so it must show in its own figures."""
    from voice_trainer.bench import _decode_all

    wavs = [espeak_wav(text, pad_ms=PAD_MS) for text in TURNS[:2]]
    stats, heard = _decode_all(ko_model, wavs, None, CHUNK_MS, False, keep_decoder=True)
    assert all(heard)
    assert stats["warm_up_cpu_s"] > 0
    assert stats["rtf_cpu_with_warm_up"] == pytest.approx(stats["rtf_cpu"] + stats["warm_up_cpu_s"] / stats["audio_s"],
                                                         abs=0.003)
