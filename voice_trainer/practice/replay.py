"""Replay practice: recorded trainee turns (one WAV per turn) run through the real recognizer, in order.

Nothing is played or listened to, so the session runs on a virtual clock that advances by the length
of each piece of audio: the timeline, the recording and the report look like the call happened live,
with `gap_ms` of silence between speakers.
"""

from __future__ import annotations

from typing import Callable

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.clock import FakeClock
from voice_trainer.events import CustomerLine, Notice, SpeechPlayed
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Prosody, Recognizer, Synthesizer

FEED_MS = 100
DEFAULT_GAP_MS = 600


class Replay:
    def __init__(
        self,
        session: Session,
        clock: FakeClock,
        recognizer: Recognizer,
        *,
        synthesizer: Synthesizer | None = None,
        prosody_for: Callable[[float], Prosody] | None = None,
        on_mic: Callable[[AudioChunk], None] | None = None,
        on_customer: Callable[[AudioChunk], None] | None = None,
        gap_ms: float = DEFAULT_GAP_MS,
    ):
        self.session = session
        self.clock = clock
        self.recognizer = recognizer
        self.synthesizer = synthesizer
        self.prosody_for = prosody_for or (lambda anger: Prosody())
        self.on_mic = on_mic
        self.on_customer = on_customer
        self.gap_ms = gap_ms

    def run(self, turns: list[AudioChunk], names: list[str] | None = None) -> None:
        before = len(self.session.events)
        self.session.start()
        self._customer_speaks(before, 0)
        for i, audio in enumerate(turns):
            if self.session.ended:
                left = (names or [])[i:] or [f"{len(turns) - i} more"]
                self.session.emit(Notice(kind="replay", message=f"the call ended; not replayed: {', '.join(left)}"))
                break
            self.clock.advance(self.gap_ms)
            self._trainee_speaks(audio)

    def _trainee_speaks(self, audio: AudioChunk) -> None:
        start_ms = self.session.clock.now_ms()
        placed = AudioChunk(audio.audio, audio.rate_hz, audio.channels, audio.width, start_ms)
        if self.on_mic:
            self.on_mic(placed)
        step = max(1, int(audio.rate_hz * FEED_MS / 1000)) * audio.channels * audio.width
        for offset in range(0, len(audio.audio), step):
            piece = audio.audio[offset : offset + step]
            at_ms = start_ms + 1000.0 * offset / (audio.rate_hz * audio.channels * audio.width)
            self.recognizer.accept(AudioChunk(piece, audio.rate_hz, audio.channels, audio.width, at_ms))
        recognition = self.recognizer.finish()
        self.clock.advance(audio.duration_ms)
        words = recognition.words
        voiced_start = words[0].start_ms if words else start_ms
        voiced_end = words[-1].end_ms if words else start_ms + audio.duration_ms
        before = len(self.session.events)
        self.session.trainee_says(recognition.text, words, start_ms=voiced_start, end_ms=voiced_end, source="replay")
        self.clock.advance(self.gap_ms)
        self._customer_speaks(before, self.session.turn)

    def _customer_speaks(self, since: int, turn: int) -> None:
        lines = [e for e in self.session.events[since:] if isinstance(e, CustomerLine) and e.text]
        if not lines or self.synthesizer is None:
            return
        text = " ".join(e.text for e in lines)
        audio = self.synthesizer.render(text, self.prosody_for(lines[-1].anger))
        start_ms = self.session.clock.now_ms()
        if self.on_customer:
            self.on_customer(AudioChunk(audio.audio, audio.rate_hz, audio.channels, audio.width, start_ms))
        self.clock.advance(audio.duration_ms)
        self.session.emit(SpeechPlayed(turn=turn, start_ms=start_ms, end_ms=start_ms + audio.duration_ms))
