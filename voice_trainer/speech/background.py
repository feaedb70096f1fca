"""A recognizer on its own thread, so listening never waits for decoding.

Decoding costs a real share of a core (free recognition on the Korean small model needs ~0.3-0.5 s of
CPU per second of speech on this kind of machine with its vosk recognizer kept across turns, ~0.9 with a
fresh one per turn). On the listening thread, a slow stretch would delay the
end-of-turn rule itself; here the microphone loop only queues audio, and vosk (which releases the GIL
while it decodes) works on the other core. `accept` returns the newest partial text without waiting;
`close_utterance` is queued; `finish` waits for the queue to drain and returns the final words
(`finish_async` hands back a future instead, for a pass nobody waits for). Once a turn's words are
handed on, the thread does the recognizer's idle work (`between_turns`, if it has one).

The recognizer may arrive after the audio: `BackgroundRecognizer(make=...)` starts with only a way to
make one (which may wait for the model to finish loading). Audio is queued meanwhile and decoded once
the recognizer exists, so nothing the trainee says while the model loads is lost. If making it fails
(a broken model), the error is raised by the next call, `check()` included, and by every call after.
"""

from __future__ import annotations

import os
import queue
import threading
from concurrent.futures import Future
from typing import Callable

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech.interfaces import Recognition, Recognizer

_CLOSE = "close"
_STOP = "stop"


class BackgroundRecognizer:
    def __init__(
        self,
        recognizer: Recognizer | None = None,
        *,
        make: Callable[[], Recognizer] | None = None,
        nice: int = 0,
        name: str = "recognizer",
    ):
        """`recognizer`, or `make` to build it on the thread. `nice` > 0 lowers the thread's CPU priority
        (Linux): a pass that only makes the record yields the CPU to the one the reply waits for."""
        if (recognizer is None) == (make is None):
            raise ValueError("give a recognizer or a way to make one")
        self._recognizer = recognizer
        self._make = make
        self._nice = nice
        self.ready = threading.Event()  # the recognizer exists (or could not be made)
        if recognizer is not None:
            self.ready.set()
        self._jobs: queue.Queue = queue.Queue()
        self._partial = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    @property
    def rate_hz(self) -> int:
        return self._recognizer.rate_hz if self._recognizer is not None else 16000

    @property
    def partial(self) -> str:
        """The newest text of the turn so far (after an early final: the final text so far)."""
        return self._partial

    def check(self) -> None:
        """Raise the error that stopped the recognizer (it could not be made, or decoding failed)."""
        if self._error is not None:
            raise self._error

    def accept(self, chunk: AudioChunk) -> str:
        self.check()
        self._jobs.put(chunk)
        return self._partial

    def close_utterance(self) -> None:
        self._jobs.put(_CLOSE)

    def finish(self) -> Recognition:
        return self.finish_async().result()

    def finish_async(self) -> Future:
        """The turn's final words, once everything queued before has been decoded."""
        done: Future = Future()
        if self._error is not None:
            done.set_exception(self._error)
        else:
            self._jobs.put(done)
        return done

    def close(self) -> None:
        self._jobs.put(_STOP)
        self._thread.join(timeout=5)

    def _batch(self, first: AudioChunk) -> tuple[AudioChunk, object]:
        """Everything queued behind `first`, as one chunk. Each accept asks vosk for a partial result,
        which walks the whole utterance so far; when decoding falls behind, fewer, larger feeds let it
        catch up instead of falling further behind."""
        parts = [first.audio]
        while True:
            try:
                nxt = self._jobs.get_nowait()
            except queue.Empty:
                nxt = None
            if not (isinstance(nxt, AudioChunk) and (nxt.rate_hz, nxt.channels) == (first.rate_hz, first.channels)):
                break
            parts.append(nxt.audio)
        if len(parts) == 1:
            return first, nxt
        return AudioChunk(b"".join(parts), first.rate_hz, first.channels, first.width, first.timestamp_ms), nxt

    def _run(self) -> None:
        if self._nice > 0:
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self._nice)
            except (AttributeError, OSError):  # not Linux, or not allowed: run at normal priority
                pass
        if self._recognizer is None:
            try:
                self._recognizer = self._make()  # type: ignore[misc]
            except BaseException as err:  # raised on the listening thread's next call
                self._error = err
            finally:
                self.ready.set()
        self._between_turns()  # e.g. warm the recognizer up while the customer speaks his opening
        pending = None
        while True:
            job, pending = (pending, None) if pending is not None else (self._jobs.get(), None)
            if isinstance(job, str) and job == _STOP:
                return
            if isinstance(job, AudioChunk):
                job, pending = self._batch(job)
            if self._error is not None:
                if isinstance(job, Future):
                    job.set_exception(self._error)
                continue
            try:
                self._do(job)
            except BaseException as err:  # surfaced on the listening thread's next call
                self._error = err
                if isinstance(job, Future) and not job.done():
                    job.set_exception(err)

    def _between_turns(self) -> None:
        """The recognizer's idle work (VoskRecognizer: renew and warm its decoder, free memory), once the
        turn's words have been handed on: whoever waits for them never waits for this."""
        idle = getattr(self._recognizer, "between_turns", None)
        if idle is not None and self._error is None:
            try:
                idle()
            except BaseException as err:  # surfaced on the listening thread's next call
                self._error = err

    def _do(self, job: object) -> None:
        recognizer = self._recognizer
        assert recognizer is not None
        if isinstance(job, AudioChunk):
            self._partial = recognizer.accept(job)
        elif isinstance(job, Future):
            self._partial = ""
            job.set_result(recognizer.finish())
            self._between_turns()
        elif job == _CLOSE:
            so_far = recognizer.close_utterance()
            if isinstance(so_far, str):
                self._partial = so_far
