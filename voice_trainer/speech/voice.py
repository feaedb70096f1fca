"""The customer's voice: how he sounds at an anger (prosody), a line cut into sentences, and
`CustomerVoice`, which renders a line sentence by sentence and plays each as soon as it is ready.

Rendering the next sentence overlaps playing the current one, so the customer starts talking after
one sentence's render time, not the whole line's. `say_async` runs all of it off the caller's thread,
so the microphone loop keeps listening (and can call `stop()` on barge-in). The speaker is anything
with `play(chunk, stop)`: the headset (audio/streams.py) or replay's virtual device.

`render_ahead` renders the first sentence of a line he may be about to say (a reply previewed while
the trainee pauses) and plays nothing. Only `say_async` plays, and it uses the ready audio only when
its line starts with exactly that sentence at exactly that prosody; anything else is dropped unheard.
"""

from __future__ import annotations

import queue
import re
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from voice_trainer.audio.streams import PlaybackResult, Speaker
from voice_trainer.clock import Clock
from voice_trainer.speech.interfaces import Prosody, Synthesizer

# --- prosody -----------------------------------------------------------------------------------

CALM = Prosody(rate_wpm=160, volume=0.75, pitch=45)
FURIOUS = Prosody(rate_wpm=220, volume=1.0, pitch=70)


def prosody_for(anger: float) -> Prosody:
    """How the customer sounds at `anger` 0..100: linear from CALM to FURIOUS, monotone in every field.

    Out-of-range anger is clamped, so a persona pushed past 100 sounds furious, not broken.
    """
    share = min(max(anger, 0.0), 100.0) / 100.0

    def between(calm: float, furious: float) -> float:
        return calm + (furious - calm) * share

    return Prosody(
        rate_wpm=round(between(CALM.rate_wpm, FURIOUS.rate_wpm)),
        volume=round(between(CALM.volume, FURIOUS.volume), 3),
        pitch=round(between(CALM.pitch, FURIOUS.pitch)),
    )


# --- sentences ---------------------------------------------------------------------------------

_ABBREVIATIONS = {
    # Russian
    "т.е", "т.д", "т.п", "т.к", "т.н", "и.о", "г", "гг", "ул", "д", "кв", "стр", "руб", "коп",
    "тыс", "млн", "млрд", "см", "им", "др", "пр", "проф", "доц", "тел", "мин", "сек", "ч",
    # English
    "mr", "mrs", "ms", "dr", "prof", "st", "vs", "etc", "e.g", "i.e", "no", "jr", "sr", "approx",
}
_BOUNDARY = re.compile(r"[.!?…]+[\"'»”)\]]*(?=\s)")
_MIN_SENTENCE_CHARS = 12


def split_sentences(text: str) -> list[str]:
    """Sentences at . ! ? … boundaries, punctuation kept.

    A dot does not end a sentence after a known abbreviation ("т.е.", "Mr.") or when the next
    word starts in lower case; "2.5" never splits (no space after the dot). Fragments shorter
    than a few words ("Да.") are merged into the next sentence, so the voice doesn't stutter.
    """
    text = " ".join(text.split())
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        if not _ends_sentence(text, match):
            continue
        pieces.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return _merge_short(pieces)


def _ends_sentence(text: str, match: re.Match[str]) -> bool:
    punct = match.group(0).rstrip("\"'»”)]")
    if "!" in punct or "?" in punct:
        return True
    after = text[match.end() :].lstrip()
    if after and after[0].islower():  # "т.е. мы", "Я жду... жду"
        return False
    before = text[: match.start()].split()
    word = before[-1].lower().strip("(\"'«") if before else ""
    return not (punct == "." and word in _ABBREVIATIONS)


def _merge_short(pieces: list[str]) -> list[str]:
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        piece = f"{carry} {piece}".strip() if carry else piece
        if len(piece) < _MIN_SENTENCE_CHARS:
            carry = piece
            continue
        merged.append(piece)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    return merged


# --- speaking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinePlayed:
    """One customer line as it was heard, on the session timeline, and what it cost to start."""

    turn: int
    start_ms: float
    end_ms: float
    interrupted: bool
    requested_ms: float  # when the line was handed to the voice
    synthesis_ms: float  # rendering its first sentence (wall time; only the wait when it was rendered ahead)
    rendered_ahead: bool = False  # its first sentence had been rendered before the line was said


class SpeechHandle:
    """A line being spoken in the background."""

    def __init__(self, future: Future):
        self._future = future

    def wait(self, timeout_s: float | None = None) -> LinePlayed:
        """The line once played (or stopped); re-raises a render/playback error; TimeoutError if not yet."""
        return self._future.result(timeout_s)

    @property
    def done(self) -> bool:
        return self._future.done()


_DONE = object()
_AHEAD_KEPT = 2  # lines rendered ahead and not yet said; older previews are dropped


class CustomerVoice:
    """Speaks customer lines through `speaker`, one at a time; `on_played` hears of each line played.

    A line counts as speaking from the moment it is accepted until `on_played` has returned, so
    whoever sees `speaking` turn False can rely on the line's report having been made.
    """

    def __init__(
        self,
        synth: Synthesizer,
        speaker: Speaker,
        *,
        clock: Clock,
        on_played: Callable[[LinePlayed], None] | None = None,
    ):
        self.synth = synth
        self.speaker = speaker
        self.clock = clock
        self.on_played = on_played
        self._active: set[threading.Event] = set()  # stop events of lines accepted and not finished
        self._active_lock = threading.Lock()
        self._one_at_a_time = threading.Lock()
        self._ahead: dict[tuple[str, Prosody], Future] = {}  # first sentences rendered ahead, newest last
        self._ahead_lock = threading.Lock()
        self._sounded = threading.Event()  # his first line is playing (or over): see `wait_until_speaking`

    @property
    def speaking(self) -> bool:
        with self._active_lock:
            return bool(self._active)

    def wait_until_speaking(self, timeout_s: float | None = None) -> bool:
        """Until his first line is rendered and its audio is going to the speaker (or the line has ended,
        played, cut or failed); False if `timeout_s` ran out first. Start-up work that would compete with
        rendering the opening line for the CPU waits for this."""
        return self._sounded.wait(timeout_s)

    def stop(self) -> None:
        """Barge-in: silence every accepted line within one playback block (also lines not started yet)."""
        with self._active_lock:
            for line_stop in self._active:
                line_stop.set()

    def render_ahead(self, text: str, anger: float) -> None:
        """Render the first sentence of a line he may say next, in the background. Nothing is played."""
        sentences = split_sentences(text)
        if not sentences:
            return
        key = (sentences[0], prosody_for(anger))
        with self._ahead_lock:
            if key in self._ahead:
                return
            while len(self._ahead) >= _AHEAD_KEPT:
                self._ahead.pop(next(iter(self._ahead)))
            rendered: Future = Future()
            self._ahead[key] = rendered

        def run() -> None:
            try:
                rendered.set_result(self.synth.render(*key))
            except BaseException as err:  # the line will be rendered again when said
                rendered.set_exception(err)

        threading.Thread(target=run, name="customer-render-ahead", daemon=True).start()

    def _rendered_ahead(self, sentence: str, prosody: Prosody) -> AudioChunk | None:
        """The audio rendered ahead for exactly this sentence and prosody (waiting for it if still
        rendering); every other line rendered ahead is dropped: he is saying something now."""
        with self._ahead_lock:
            rendered = self._ahead.pop((sentence, prosody), None)
            self._ahead.clear()
        if rendered is None:
            return None
        try:
            return rendered.result()
        except Exception:  # noqa: BLE001 - render it the usual way, which reports a real failure
            return None

    def say_async(self, text: str, anger: float, turn: int) -> SpeechHandle:
        """Speak on a background thread; the caller keeps going."""
        line_stop = self._accept()
        requested_ms = self.clock.now_ms()
        future: Future = Future()

        def run() -> None:
            try:
                future.set_result(self._say(text, anger, turn, line_stop, requested_ms))
            except BaseException as err:  # handed to whoever waits
                future.set_exception(err)

        threading.Thread(target=run, name=f"customer-line-{turn}", daemon=True).start()
        return SpeechHandle(future)

    def _accept(self) -> threading.Event:
        line_stop = threading.Event()
        with self._active_lock:
            self._active.add(line_stop)
        return line_stop

    def _say(self, text: str, anger: float, turn: int, line_stop: threading.Event, requested_ms: float) -> LinePlayed:
        try:
            with self._one_at_a_time:
                played, synthesis_ms, ahead = self._speak(split_sentences(text), prosody_for(anger), line_stop)
                line = LinePlayed(turn, played.start_ms, played.end_ms, played.interrupted, requested_ms, synthesis_ms,
                                  ahead)
                if self.on_played is not None:
                    self.on_played(line)
            return line
        finally:
            with self._active_lock:
                self._active.discard(line_stop)
            self._sounded.set()

    def _speak(self, sentences: list[str], prosody: Prosody,
               stop: threading.Event) -> tuple[PlaybackResult, float, bool]:
        rendered: queue.Queue = queue.Queue(maxsize=2)
        first_render_ms: list[float] = []
        ahead: list[bool] = []

        def render_all() -> None:
            try:
                for sentence in sentences:
                    if stop.is_set():
                        break
                    t0 = time.perf_counter()
                    audio = self._rendered_ahead(sentence, prosody) if not first_render_ms else None
                    if not first_render_ms:
                        ahead.append(audio is not None)
                    if audio is None:
                        audio = self.synth.render(sentence, prosody)
                    if not first_render_ms:
                        first_render_ms.append((time.perf_counter() - t0) * 1000)
                    rendered.put(audio)
                rendered.put(_DONE)
            except BaseException as err:
                rendered.put(err)

        renderer = threading.Thread(target=render_all, name="customer-render", daemon=True)
        renderer.start()
        start_ms: float | None = None
        end_ms: float | None = None
        played_count = 0
        interrupted = False
        try:
            while not interrupted:
                item = rendered.get()
                if item is _DONE:
                    interrupted = played_count < len(sentences)  # stopped before the renderer got there
                    break
                if isinstance(item, BaseException):
                    raise item
                if stop.is_set():
                    interrupted = True
                    break
                self._sounded.set()
                played = self.speaker.play(item, stop)
                played_count += 1
                start_ms = played.start_ms if start_ms is None else start_ms
                end_ms = played.end_ms
                interrupted = played.interrupted
        finally:
            stop.set()  # the renderer stops before its next sentence
            _drain(rendered)
            renderer.join()
        if end_ms is None:
            end_ms = self.clock.now_ms()
        result = PlaybackResult(start_ms if start_ms is not None else end_ms, end_ms, interrupted)
        return result, round(first_render_ms[0], 1) if first_render_ms else 0.0, bool(ahead and ahead[0])


def _drain(items: queue.Queue) -> None:
    """Unblock a renderer waiting to put into a full queue."""
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return
