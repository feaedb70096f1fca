"""The small interfaces the session talks to; real implementations live one per module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.events import Word


@dataclass(frozen=True)
class Recognition:
    """A final result: words with times relative to the start of the audio fed since the last reset."""

    text: str
    words: tuple[Word, ...] = ()


class Recognizer(Protocol):
    rate_hz: int

    def accept(self, chunk: AudioChunk) -> str:
        """Feed mono 16-bit audio at any rate (resampled inside); returns the current partial text."""

    def close_utterance(self) -> str | None:
        """Finalize what was heard so far while the turn stays open (a pause that may end it): the slow
        final decoding happens during the trailing silence, not after it. Returns the turn's final text
        so far (None where the call is only queued)."""

    def finish(self) -> Recognition:
        """End of turn: the final words. The recognizer is ready for the next turn afterwards."""


@dataclass(frozen=True)
class Prosody:
    """How the customer sounds. Follows anger: faster, louder, higher when angry."""

    rate_wpm: int = 170
    volume: float = 0.8
    pitch: int = 50


class Synthesizer(Protocol):
    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        """Mono 16-bit audio of `text` spoken with `prosody`."""

    def close(self) -> None:
        """Release what rendering holds."""
