"""A recognizer on its own thread, so listening never waits for decoding.

Decoding costs a real share of a core (the Korean small model needs ~0.7 s of CPU per second of
speech on this kind of machine). On the listening thread, a slow stretch would delay the end-of-turn
rule itself; here the microphone loop only queues audio, and vosk (which releases the GIL while it
decodes) works on the other core. `accept` returns the newest partial text without waiting;
`close_utterance` is queued; `finish` waits for the queue to drain and returns the final words.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.speech.interfaces import Recognition, Recognizer

_CLOSE = "close"
_FINISH = "finish"
_STOP = "stop"


class BackgroundRecognizer:
    def __init__(self, recognizer: Recognizer):
        self._recognizer = recognizer
        self.rate_hz = recognizer.rate_hz
        self._jobs: queue.Queue = queue.Queue()
        self._partial = ""
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="recognizer", daemon=True)
        self._thread.start()

    def accept(self, chunk: AudioChunk) -> str:
        self._raise_pending()
        self._jobs.put(chunk)
        return self._partial

    def close_utterance(self) -> None:
        self._jobs.put(_CLOSE)

    def finish(self) -> Recognition:
        self._raise_pending()
        done: Future = Future()
        self._jobs.put((_FINISH, done))
        return done.result()

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

    def _raise_pending(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _run(self) -> None:
        pending = None
        while True:
            job, pending = (pending, None) if pending is not None else (self._jobs.get(), None)
            if job == _STOP:
                return
            try:
                if isinstance(job, AudioChunk):
                    job, pending = self._batch(job)
                    self._partial = self._recognizer.accept(job)
                elif job == _CLOSE:
                    self._recognizer.close_utterance()
                else:
                    _, done = job
                    self._partial = ""
                    try:
                        done.set_result(self._recognizer.finish())
                    except BaseException as err:  # the waiting thread gets it
                        done.set_exception(err)
            except BaseException as err:  # surfaced on the listening thread's next call
                self._error = err
