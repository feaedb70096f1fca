"""Replay practice: turns from recorded WAVs (one per turn), run through the real recognizer in order.

Nothing is played or listened to, so the session runs on a `ManualClock` that advances by the length
of each piece of audio: the timeline, the recording and the report look like the call happened live.
The trainee starts `gap_ms` after the customer stops, and the turn ends `gap_ms` after the trainee's
audio (where a live call's trailing silence would end it). The customer speaks through the same
observer as live (practice/customer.py), on a virtual device that plays in the replay's time.
"""

from __future__ import annotations

import threading
from typing import Callable

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.streams import PlaybackResult
from voice_trainer.clock import ManualClock
from voice_trainer.events import Notice
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Recognizer

FEED_MS = 100
DEFAULT_GAP_MS = 600


class VirtualSpeaker:
    """A device that plays at once in the replay's time: the clock advances by the audio's length."""

    def __init__(self, clock: ManualClock, session_clock, on_block: Callable[[AudioChunk], None] | None = None):
        self.clock = clock
        self.session_clock = session_clock  # the session timeline on which blocks are stamped
        self.on_block = on_block

    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        start_ms = self.session_clock.now_ms()
        if self.on_block is not None:
            self.on_block(AudioChunk(chunk.audio, chunk.rate_hz, chunk.channels, chunk.width, start_ms))
        self.clock.advance(chunk.duration_ms)
        return PlaybackResult(start_ms, self.session_clock.now_ms(), interrupted=False)

    def close(self) -> None:
        pass


class Replay:
    def __init__(
        self,
        session: Session,
        clock: ManualClock,
        recognizer: Recognizer,
        *,
        customer: SpokenCustomer | None = None,
        on_mic: Callable[[AudioChunk], None] | None = None,
        gap_ms: float = DEFAULT_GAP_MS,
    ):
        self.session = session
        self.clock = clock
        self.recognizer = recognizer
        self.customer = customer
        self.on_mic = on_mic
        self.gap_ms = gap_ms

    def run(self, turns: list[AudioChunk], names: list[str] | None = None) -> None:
        self.session.start()
        self._wait_for_customer()
        for i, audio in enumerate(turns):
            if self.session.ended:
                left = (names or [])[i:] or [f"{len(turns) - i} more"]
                self.session.emit(Notice(kind="replay", message=f"the call ended; not replayed: {', '.join(left)}"))
                break
            self.clock.advance(self.gap_ms)
            self._trainee_speaks(audio)
            self._wait_for_customer()

    def _trainee_speaks(self, audio: AudioChunk) -> None:
        start_ms = self.session.clock.now_ms()
        if self.on_mic:
            self.on_mic(AudioChunk(audio.audio, audio.rate_hz, audio.channels, audio.width, start_ms))
        step = max(1, int(audio.rate_hz * FEED_MS / 1000)) * audio.channels * audio.width
        for offset in range(0, len(audio.audio), step):
            piece = audio.audio[offset : offset + step]
            at_ms = start_ms + 1000.0 * offset / (audio.rate_hz * audio.channels * audio.width)
            self.recognizer.accept(AudioChunk(piece, audio.rate_hz, audio.channels, audio.width, at_ms))
        recognition = self.recognizer.finish()
        self.clock.advance(audio.duration_ms + self.gap_ms)  # the audio, then the pause that ends the turn
        words = recognition.words
        voiced_start = words[0].start_ms if words else start_ms
        voiced_end = words[-1].end_ms if words else start_ms + audio.duration_ms
        self.session.trainee_says(recognition.text, words, start_ms=voiced_start, end_ms=voiced_end, source="replay")

    def _wait_for_customer(self) -> None:
        if self.customer is not None:
            self.customer.wait()
