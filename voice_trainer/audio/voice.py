"""The customer speaking: a line rendered sentence by sentence and played as soon as the first is ready.

Rendering the next sentence overlaps playing the current one, so the customer starts talking after
one sentence's render time, not the whole line's. `say_async` runs all of it off the caller's
thread, so the microphone loop keeps listening (and can call `stop()` on barge-in).
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Callable, Protocol

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.streams import PlaybackResult
from voice_trainer.clock import Clock
from voice_trainer.events import SpeechPlayed
from voice_trainer.speech.interfaces import Prosody, Synthesizer
from voice_trainer.speech.synthesizer import prosody_for, split_sentences


class Speaker(Protocol):
    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        """Blocking playback; returns early with interrupted=True once `stop` is set."""


class SpeechHandle:
    """A line being spoken in the background."""

    def __init__(self, future: Future):
        self._future = future

    def wait(self, timeout_s: float | None = None) -> PlaybackResult:
        """The result once the line has been played (or stopped); re-raises a render/playback error."""
        return self._future.result(timeout_s)

    @property
    def done(self) -> bool:
        return self._future.done()


_DONE = object()


class CustomerVoice:
    """Speaks customer lines through `speaker`; `on_played` gets a SpeechPlayed for each line."""

    def __init__(
        self,
        synth: Synthesizer,
        speaker: Speaker,
        *,
        clock: Clock,
        on_played: Callable[[SpeechPlayed], None] | None = None,
    ):
        self.synth = synth
        self.speaker = speaker
        self.clock = clock
        self.on_played = on_played
        self._active: set[threading.Event] = set()  # stop events of lines accepted and not finished
        self._active_lock = threading.Lock()
        self._one_at_a_time = threading.Lock()

    @property
    def speaking(self) -> bool:
        """True from the moment a line is accepted until it has been played or stopped."""
        with self._active_lock:
            return bool(self._active)

    def stop(self) -> None:
        """Barge-in: silence every accepted line within one playback block (also lines not started yet)."""
        with self._active_lock:
            for line_stop in self._active:
                line_stop.set()

    def say(self, text: str, anger: float, turn: int) -> PlaybackResult:
        """Speak `text` at `anger`; blocks until played or stopped."""
        return self._say(text, anger, turn, self._accept())

    def say_async(self, text: str, anger: float, turn: int) -> SpeechHandle:
        """Speak on a background thread; the caller keeps reading the microphone."""
        line_stop = self._accept()
        future: Future = Future()

        def run() -> None:
            try:
                future.set_result(self._say(text, anger, turn, line_stop))
            except BaseException as err:  # handed to whoever waits
                future.set_exception(err)

        threading.Thread(target=run, name=f"customer-line-{turn}", daemon=True).start()
        return SpeechHandle(future)

    def _accept(self) -> threading.Event:
        line_stop = threading.Event()
        with self._active_lock:
            self._active.add(line_stop)
        return line_stop

    def _say(self, text: str, anger: float, turn: int, line_stop: threading.Event) -> PlaybackResult:
        try:
            with self._one_at_a_time:
                result = self._speak(split_sentences(text), prosody_for(anger), line_stop)
        finally:
            with self._active_lock:
                self._active.discard(line_stop)
        if self.on_played is not None:
            self.on_played(
                SpeechPlayed(
                    t_ms=result.end_ms,
                    turn=turn,
                    start_ms=result.start_ms,
                    end_ms=result.end_ms,
                    interrupted=result.interrupted,
                )
            )
        return result

    def _speak(self, sentences: list[str], prosody: Prosody, stop: threading.Event) -> PlaybackResult:
        rendered: queue.Queue = queue.Queue(maxsize=2)

        def render_all() -> None:
            try:
                for sentence in sentences:
                    if stop.is_set():
                        break
                    rendered.put(self.synth.render(sentence, prosody))
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
        return PlaybackResult(start_ms if start_ms is not None else end_ms, end_ms, interrupted)


def _drain(items: queue.Queue) -> None:
    """Unblock a renderer waiting to put into a full queue."""
    while True:
        try:
            items.get_nowait()
        except queue.Empty:
            return
