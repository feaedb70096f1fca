"""Vosk speech recognition: partial text while the trainee speaks, timed words at the end of the turn.

vosk quirks handled here: failures are bare `Exception`s (turned into ModelError), results are
JSON strings, grammars must be JSON with raw UTF-8 (vosk does not decode \\uXXXX escapes), and
word times count from the recognizer's creation (all the audio it was ever fed), so they are shifted
onto the session timeline.

A new vosk recognizer is slow for its first second of audio: it builds its search graph (the small
models compose HCLr.fst with Gr.fst on the fly) as the decoding reaches each state, and keeps what it
built. On the benchmark's 2-3 s turns that warm-up was most of free recognition's cost, so a free
recognizer keeps one vosk recognizer for all its turns (`keep_decoder`); a grammar recognizer still
gets a fresh one per turn.

What a kept recognizer built stays in memory and grows with the audio it decoded (on the Korean small
model 35-40 MB on its first turn, 10-20 MB on each later one), so it is renewed after a few turns or
sooner once it has decoded enough seconds of audio (long turns renew sooner, short ones keep the
cadence), always between turns. `between_turns()` (called once a turn's result is out, off the reply
path) makes the new one at once and warms it on a moment of silence, then hands the memory vosk
freed back to the system (glibc keeps freed heap otherwise, and the process's peak RSS grows by it).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.resample import StreamResampler
from voice_trainer.errors import ModelError
from voice_trainer.events import Word
from voice_trainer.heap import release_freed_memory
from voice_trainer.speech import vosk_binding
from voice_trainer.speech.audio_file import read_audio_file
from voice_trainer.speech.interfaces import Recognition
from voice_trainer.speech.models import model_problem

DEFAULT_RATE_HZ = 16000
UNKNOWN_WORD = "[unk]"  # what a grammar recognizer says for speech outside the grammar; dropped from results
FILE_CHUNK_MS = 200
# Kaldi prints at or below this level; -3 silences warnings and errors both: load errors become our
# ModelError, and grammar words missing from the vocabulary are reported as `missing_words`.
VOSK_LOG_LEVEL = -3


class VoskModel(vosk_binding.Model):
    """A loaded vosk model that remembers its folder (vosk's own does not): the rate and grammar rule live there."""

    def __init__(self, path: Path, *, load_from: Path | None = None):
        self.path = Path(path)
        super().__init__(str(load_from or path))


def load_model(path: Path, *, max_active: int | None = None, beam: float | None = None,
               lattice_beam: float | None = None) -> vosk_binding.Model:
    """The model at `path`; `max_active`, `beam` and `lattice_beam` narrow its decoder search (only ever
    narrow it: a value wider than the model's own is ignored)."""
    path = Path(path)
    search = _search_options(max_active=max_active, beam=beam, lattice_beam=lattice_beam)
    problem = model_problem(path)
    if problem is None:
        vosk_binding.SetLogLevel(VOSK_LOG_LEVEL)
        try:
            with _narrowed(path, search) as load_from:
                model = VoskModel(path, load_from=load_from)
            release_freed_memory()
            return model
        except Exception as err:  # vosk raises bare Exception("Failed to create a model")
            problem = f"vosk could not load it: {err}"
    raise ModelError(
        f"{path}: not a usable Vosk model ({problem}); "
        "reinstall it with `voice-trainer models install LANG` or point --model at a model folder"
    )


def _search_options(**given: float | None) -> dict[str, float]:
    """The decoder options to narrow, as model.conf names them; a value that is not a positive number is
    refused here, before vosk would silently decode with it."""
    search = {}
    for name, value in given.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
            raise ModelError(f"decoder {name.replace('_', '-')} {value!r}: must be a positive number "
                             "(leave it out to keep the model's own)")
        search[name.replace("_", "-")] = value
    return search


@contextmanager
def _narrowed(path: Path, search: dict[str, float]) -> Iterator[Path]:
    """The model folder as vosk should load it: with a narrower search (`--max-active`, `--beam`,
    `--lattice-beam`), a temporary view of it (links to every part, its own conf/model.conf), removed once
    loaded since vosk reads everything at load. The installed model is never written to (it may be
    read-only or shared). An option the model's conf does not set is left alone: its default is unknown
    here, so a value given for it might widen the search."""
    conf = path / "conf" / "model.conf"
    try:
        text = conf.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    narrowed = text
    for name, value in search.items():
        found = re.search(rf"^--{name}=([0-9.eE+-]+)\s*$", narrowed, re.MULTILINE)
        try:
            own = float(found.group(1)) if found else None
        except ValueError:
            own = None
        if own is not None and value < own:
            shown = str(int(value)) if name == "max-active" else f"{float(value):g}"
            narrowed = narrowed[: found.start()] + f"--{name}={shown}" + narrowed[found.end():]
    if narrowed == text:
        yield path
        return
    view = Path(tempfile.mkdtemp(prefix="vt-model-"))
    try:
        for part in path.iterdir():
            if part.name != "conf":
                (view / part.name).symlink_to(part.resolve())
        (view / "conf").mkdir()
        for part in conf.parent.iterdir():
            if part.name != "model.conf":
                (view / "conf" / part.name).symlink_to(part.resolve())
        (view / "conf" / "model.conf").write_text(narrowed, encoding="utf-8")
        yield view
    finally:
        shutil.rmtree(view, ignore_errors=True)


def model_rate_hz(model_dir: Path | None) -> int:
    """The rate the model was trained at: --sample-frequency in conf/mfcc.conf, else 16 kHz."""
    if model_dir is None:
        return DEFAULT_RATE_HZ
    for conf in (model_dir / "conf" / "mfcc.conf", model_dir / "mfcc.conf"):
        try:
            found = re.search(r"--sample-frequency=(\d+)", conf.read_text(errors="replace"))
        except OSError:
            continue
        if found:
            return int(found.group(1))
    return DEFAULT_RATE_HZ


def grammar_supported(model_dir: Path | None) -> bool:
    """Rule: runtime grammars need vosk's lookahead graph (HCLr.fst + Gr.fst), which small models
    ship. Big models carry a static HCLG.fst; vosk ignores a grammar there (and logs an error).
    With an unknown folder we try: vosk keeps working without the grammar if it cannot use it."""
    if model_dir is None:
        return True
    for graph in (model_dir / "graph", model_dir):
        if (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file():
            return True
    return False


def grammar_json(phrases: list[str]) -> str:
    """The grammar as vosk reads it: a JSON list of phrases plus "[unk]", non-ASCII kept raw."""
    unique = list(dict.fromkeys(p.strip() for p in phrases if p.strip()))
    return json.dumps([*unique, UNKNOWN_WORD], ensure_ascii=False)


class VoskRecognizer:
    """Streaming recognizer for one speaker; `finish()` closes a turn and readies the next.

    Word times are on the session timeline: the turn's first chunk's `timestamp_ms`, or when
    chunks carry none, `offset_ms` plus the duration of everything fed before.

    `partials=False`: `accept` returns only the words of utterances vosk has closed, never asking for a
    partial result. A recognizer that only makes the record (the full transcript beside a faster live
    pass) has no use for them.
    """

    def __init__(self, model: vosk_binding.Model, *, grammar: list[str] | None = None, offset_ms: float = 0.0,
                 partials: bool = True, keep_decoder: bool | None = None, keep_turns: int | None = None,
                 renew_after_s: float | None = None, warm_up_ms: int | None = None):
        """`keep_decoder`: one vosk recognizer for `keep_turns` turns instead of a fresh one per turn (None:
        the defaults for free recognition, `settings.DEFAULT_KEEP_FREE_DECODER` and
        `DEFAULT_FREE_DECODER_TURNS`; a grammar recognizer never keeps one). What it built of its search
        graph stays in memory and grows with the audio it decoded, so it is renewed at the end of the turn
        that reaches `keep_turns` turns or `renew_after_s` seconds of audio decoded since it was made,
        whichever comes first (None: `DEFAULT_FREE_DECODER_RENEW_AFTER_S`; 0: by turns only); never within
        a turn. `warm_up_ms` of silence warm a kept one in `between_turns()` (None:
        `DEFAULT_FREE_DECODER_WARM_UP_MS`; 0: no warm-up)."""
        from voice_trainer.settings import (DEFAULT_FREE_DECODER_RENEW_AFTER_S, DEFAULT_FREE_DECODER_TURNS,
                                            DEFAULT_FREE_DECODER_WARM_UP_MS, DEFAULT_KEEP_FREE_DECODER)

        self._model = model
        self.partials = partials
        model_dir = getattr(model, "path", None)
        self.rate_hz = model_rate_hz(model_dir)
        self.grammar_json = grammar_json(grammar) if grammar and grammar_supported(model_dir) else None
        self.missing_words = _missing_words(model, grammar) if self.grammar_json else []
        keep = DEFAULT_KEEP_FREE_DECODER if keep_decoder is None else keep_decoder
        self.keep_decoder = keep and not self.grammar_json
        self.keep_turns = max(1, DEFAULT_FREE_DECODER_TURNS if keep_turns is None else keep_turns)
        renew_s = DEFAULT_FREE_DECODER_RENEW_AFTER_S if renew_after_s is None else renew_after_s
        self.renew_after_s = renew_s if renew_s and renew_s > 0 else float("inf")
        self.warm_up_ms = max(0, DEFAULT_FREE_DECODER_WARM_UP_MS if warm_up_ms is None else warm_up_ms)
        self.warm_up_cpu_s = 0.0  # CPU time spent warming kept recognizers, for the benchmark
        self._decoder_turns = 0
        self._fed_s = self._origin_fed_s = 0.0
        self._next_ms = offset_ms
        self._kaldi: vosk_binding.KaldiRecognizer | None = None
        self._new_turn()
        self._kaldi = self._make_kaldi()  # the first one now, so a model vosk refuses fails here

    def accept(self, chunk: AudioChunk) -> str:
        if self._turn_origin_ms is None:
            self._turn_origin_ms = chunk.timestamp_ms if chunk.timestamp_ms is not None else self._next_ms
            self._origin_fed_s = self._fed_s  # vosk's clock at the turn's first sample
        self._next_ms = (chunk.timestamp_ms if chunk.timestamp_ms is not None else self._next_ms) + chunk.duration_ms
        if self._feed(self._resampler_for(chunk).convert(chunk).audio) or not self.partials:
            return _text(self._closed_words)
        partial = json.loads(self._decoder().PartialResult()).get("partial", "")
        return " ".join(t for t in (_text(self._closed_words), _clean(partial)) if t)

    def finish(self) -> Recognition:
        self._flush_resampler()
        last = self._words(self._kaldi.FinalResult()) if self._kaldi is not None and self._fed_since_close else []
        words = tuple(self._closed_words + last)
        self._new_turn()
        return Recognition(_text(words), words)

    def between_turns(self) -> None:
        """Idle work once a turn's result has been handed on (never between `accept` calls of a turn):
        a kept vosk recognizer due for renewal is renewed now and warmed, not when the trainee's next
        turn starts; then the memory vosk freed goes back to the system."""
        if self._turn_open():
            return
        if self.keep_decoder and self.warm_up_ms and (self._kaldi is None or self._fed_s == 0):
            self._warm_up()
        release_freed_memory()

    def _warm_up(self) -> None:
        """Decode `warm_up_ms` of silence and drop what it heard: a new recognizer builds the start of its
        search graph on its first audio (~1 s of CPU on the small models), which would otherwise land on the
        trainee's next turn. The silence counts on vosk's clock like any audio, so word times stay right."""
        started = time.thread_time()
        self._decoder()
        self._feed(bytes(2 * (self.rate_hz * self.warm_up_ms // 1000)))
        self._kaldi.FinalResult()
        self._fed_since_close = False
        self.warm_up_cpu_s += time.thread_time() - started

    def _turn_open(self) -> bool:
        return self._turn_origin_ms is not None or self._fed_since_close or bool(self._closed_words)

    def _feed(self, audio: bytes) -> bool:
        """True when vosk closed an utterance on its own (a long pause inside our turn); its words are kept."""
        if not audio:
            return False
        self._fed_since_close = True
        decoder = self._decoder()
        self._fed_s += len(audio) / (2 * self.rate_hz)
        if not decoder.AcceptWaveform(audio):
            return False
        self._closed_words += self._words(self._kaldi.Result())
        return True

    def _resampler_for(self, chunk: AudioChunk) -> StreamResampler:
        current = self._resampler
        if current is None or (current.in_rate_hz, current.in_channels) != (chunk.rate_hz, chunk.channels):
            self._flush_resampler()  # the device changed format mid-turn (e.g. reopened at another rate)
            self._resampler = StreamResampler(chunk.rate_hz, self.rate_hz, chunk.channels)
        return self._resampler

    def _flush_resampler(self) -> None:
        if self._resampler is not None:
            self._feed(self._resampler.convert(_empty_like(self._resampler), last=True).audio)
            self._resampler = None

    def close_utterance(self) -> str:
        """Finalize what was said so far, keeping the turn open (a pause that may end it); returns the
        turn's text so far, final.

        FinalResult is the slow step at the end of a turn; doing it during the trailing silence
        takes it off the reply latency. If the trainee goes on, the next words start a new utterance
        whose times are anchored at its own first chunk.
        """
        if self._fed_since_close:
            self._closed_words += self._words(self._decoder().FinalResult())
            if not self.keep_decoder:
                self._kaldi = None
            self._turn_origin_ms = None
            self._fed_since_close = False
        return _text(self._closed_words)

    def _decoder(self) -> vosk_binding.KaldiRecognizer:
        # Made when audio arrives, not when the last turn ends: with a grammar, making one takes
        # ~100 ms, which belongs in the next turn's first chunk, not in this turn's reply latency.
        if self._kaldi is None:
            self._kaldi = self._make_kaldi()
        return self._kaldi

    def _new_turn(self) -> None:
        """After a turn (or at the start): the one place a kept vosk recognizer is let go, so a renewal
        never falls within a turn. Its audio counts warm-up silence too (`_fed_s`, all it decoded)."""
        if self._kaldi is not None:
            self._decoder_turns += 1
        if (not self.keep_decoder or self._decoder_turns >= self.keep_turns
                or (self._kaldi is not None and self._fed_s >= self.renew_after_s)):
            self._kaldi = None
        self._resampler: StreamResampler | None = None
        self._turn_origin_ms: float | None = None
        self._closed_words: list[Word] = []
        self._fed_since_close = False

    def _make_kaldi(self) -> vosk_binding.KaldiRecognizer:
        vosk_binding.SetLogLevel(VOSK_LOG_LEVEL)
        if self.grammar_json is not None:
            try:
                kaldi = vosk_binding.KaldiRecognizer(self._model, self.rate_hz, self.grammar_json)
            except Exception:  # the model cannot take a grammar after all: recognize freely
                self.grammar_json, self.missing_words = None, []
        if self.grammar_json is None:
            try:
                kaldi = vosk_binding.KaldiRecognizer(self._model, self.rate_hz)
            except Exception as err:
                raise ModelError(
                    f"vosk could not start a recognizer ({err}); check the model with `voice-trainer models list`"
                ) from None
        # Word times and confidences in final results only: partial results are read for their text,
        # and words in them would cost an alignment on every partial.
        kaldi.SetWords(True)
        self._fed_s = self._origin_fed_s = 0.0  # seconds of audio fed to it: vosk's word times count from 0 there
        self._decoder_turns = 0
        return kaldi

    def _words(self, result_json: str) -> list[Word]:
        origin_ms = (self._turn_origin_ms or 0.0) - 1000.0 * self._origin_fed_s
        return [
            Word(w["word"], origin_ms + 1000.0 * w["start"], origin_ms + 1000.0 * w["end"], float(w.get("conf", 1.0)))
            for w in json.loads(result_json).get("result", [])
            if w.get("word") != UNKNOWN_WORD
        ]


def transcribe_file(path: Path, model: vosk_binding.Model, grammar: list[str] | None = None) -> Recognition:
    return transcribe_chunk(read_audio_file(path), model, grammar)


def transcribe_chunk(audio: AudioChunk, model: vosk_binding.Model, grammar: list[str] | None = None) -> Recognition:
    """A whole recording as one turn, fed in small pieces as a live stream would be; times from 0."""
    recognizer = VoskRecognizer(model, grammar=grammar)
    step = max(1, audio.rate_hz * FILE_CHUNK_MS // 1000) * audio.channels * audio.width
    for start in range(0, len(audio.audio), step):
        recognizer.accept(AudioChunk(audio.audio[start : start + step], audio.rate_hz, audio.channels))
    return recognizer.finish()


def _missing_words(model: vosk_binding.Model, phrases: list[str]) -> list[str]:
    """Grammar words the model cannot say; vosk drops them from the grammar."""
    words = dict.fromkeys(w for p in phrases for w in p.split())
    return [w for w in words if model.vosk_model_find_word(w) < 0]


def _empty_like(resampler: StreamResampler) -> AudioChunk:
    return AudioChunk(b"", resampler.in_rate_hz, resampler.in_channels)


def _text(words) -> str:
    return " ".join(w.text for w in words)


def _clean(text: str) -> str:
    return " ".join(t for t in text.split() if t != UNKNOWN_WORD)

