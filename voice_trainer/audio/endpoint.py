"""End of turn: when the trainee started speaking and when they are done.

Feed device audio chunk by chunk; get back `SpeechStarted`, `SpeechAudio` (every chunk of the
turn, pre-roll included, to hand to the recognizer) and `TurnEnded`. The caller's loop is:

    for signal in detector.feed(chunk):
        if isinstance(signal, SpeechAudio): recognizer.accept(signal.chunk)
        elif isinstance(signal, TurnEnded): recognition = recognizer.finish()

Rate rule: webrtcvad only takes 10/20/30 ms frames of mono 16-bit audio at 8/16/32/48 kHz, so
every chunk (any rate, any channel count) is first converted to mono at `rate_hz` (16 kHz by
default) and `SpeechAudio` chunks come out in that format, cut on frame boundaries.

Times are on the session timeline: the first chunk's `timestamp_ms` (0 when absent) plus the
samples counted since, so a late chunk timestamp cannot make a turn jump backwards.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
import webrtcvad

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.prosody import UNKNOWN, PhraseEnd, PitchTrack
from voice_trainer.audio.resample import StreamResampler

# The rationale for the default lives beside the setting (settings.py); one number, one place.
from voice_trainer.settings import DEFAULT_TRAILING_SILENCE_MS  # noqa: E402

# Audio kept from before the first voiced frame: webrtcvad fires a frame or two late on soft
# onsets (Russian "с", "ф"), and the recognizer needs that first syllable.
DEFAULT_PREROLL_MS = 300

# webrtcvad keeps saying "speech" for ~100 ms after a voice stops (its hangover). Over digital
# silence (a paused stream, a padded file) that would stretch every turn; frames this quiet
# (about -64 dBFS, far below any voice) are silence whatever the VAD says.
DEFAULT_MIN_RMS = 20.0

VAD_RATES_HZ = (8000, 16000, 32000, 48000)

# Inside the last voiced frame, the voice ends after the last step this long that is still louder than
# the background (10 dB over the noise heard between turns, and over the energy floor) and within 40 dB
# of the frame's loudest step: the end of a fading syllable, not the end of the frame.
END_STEP_MS = 2
END_OVER_NOISE = 3.0
END_DROP = 0.01


@dataclass(frozen=True)
class SpeechStarted:
    start_ms: float


@dataclass(frozen=True)
class SpeechAudio:
    """Audio belonging to the current turn (mono, detector rate), in order, pre-roll first."""

    chunk: AudioChunk


@dataclass(frozen=True)
class TurnEnded:
    """`end_ms` is where the voice stopped: inside the last voiced frame, at the end of its last 2 ms that
    are still loud (not the frame's end, up to 30 ms later); reason is "silence", "max_length" or
    "end_of_audio"."""

    start_ms: float
    end_ms: float
    reason: str


TurnSignal = SpeechStarted | SpeechAudio | TurnEnded


@dataclass
class _Frame:
    audio: bytes
    start_ms: float
    end_ms: float
    voiced: bool


class EndOfTurnDetector:
    def __init__(
        self,
        rate_hz: int = 16000,
        *,
        trailing_silence_ms: int = DEFAULT_TRAILING_SILENCE_MS,
        min_speech_ms: int = 120,
        max_turn_ms: int = 30000,
        aggressiveness: int = 2,
        frame_ms: int = 30,
        preroll_ms: int = DEFAULT_PREROLL_MS,
        min_rms: float = DEFAULT_MIN_RMS,
    ):
        if rate_hz not in VAD_RATES_HZ:
            raise ValueError(f"rate_hz must be one of {VAD_RATES_HZ}, got {rate_hz}")
        if frame_ms not in (10, 20, 30):
            raise ValueError(f"frame_ms must be 10, 20 or 30, got {frame_ms}")
        self.rate_hz = rate_hz
        self.trailing_silence_ms = trailing_silence_ms
        self.min_speech_ms = min_speech_ms
        self.max_turn_ms = max_turn_ms
        self.frame_ms = frame_ms
        self.preroll_ms = preroll_ms
        self.min_rms = min_rms  # energy gate: quieter frames count as silence whatever the VAD says
        self._vad = webrtcvad.Vad(aggressiveness)
        self._frame_bytes = rate_hz * frame_ms // 1000 * 2
        self._noise_rms = 0.0  # of unvoiced frames, slowly averaged; kept across resets (same room)
        self.reset()

    def reset(self) -> None:
        """Forget everything: the next chunk starts a new timeline."""
        self._resampler: StreamResampler | None = None
        self._origin_ms: float | None = None
        self._samples_seen = 0
        self._pending = b""
        self._preroll: deque[_Frame] = deque(maxlen=max(1, self.preroll_ms // self.frame_ms))
        self._candidate: list[_Frame] = []
        self._speaking = False
        self._start_ms = 0.0
        self._last_voiced_end_ms = 0.0
        self._silence_ms = 0.0
        self._pitch: PitchTrack | None = None

    @property
    def speaking(self) -> bool:
        return self._speaking

    @property
    def silence_ms(self) -> float:
        """Inside a turn: how long since the last voiced frame (0 while the trainee is talking)."""
        return self._silence_ms if self._speaking else 0.0

    def phrase_end(self) -> PhraseEnd:
        """Inside a turn: how the speech before the current pause ends, by its pitch (audio/prosody.py)."""
        if not self._speaking or self._pitch is None:
            return UNKNOWN
        return self._pitch.phrase_end(self._last_voiced_end_ms)

    def feed(self, chunk: AudioChunk) -> list[TurnSignal]:
        signals: list[TurnSignal] = []
        for frame in self._frames(chunk):
            self._step(frame, signals)
        return _merge_audio(signals)

    def flush(self) -> list[TurnSignal]:
        """End of the audio (a file, a closed stream): closes an open turn with reason "end_of_audio"."""
        signals: list[TurnSignal] = []
        if self._speaking:
            signals.append(TurnEnded(self._start_ms, self._last_voiced_end_ms, "end_of_audio"))
        self.reset()
        return signals

    def _frames(self, chunk: AudioChunk) -> list[_Frame]:
        if self._resampler is None or (
            (self._resampler.in_rate_hz, self._resampler.in_channels) != (chunk.rate_hz, chunk.channels)
        ):
            self._resampler = StreamResampler(chunk.rate_hz, self.rate_hz, chunk.channels)
        if self._origin_ms is None:
            self._origin_ms = chunk.timestamp_ms or 0.0
        self._pending += self._resampler.convert(chunk).audio
        frames = []
        while len(self._pending) >= self._frame_bytes:
            audio, self._pending = self._pending[: self._frame_bytes], self._pending[self._frame_bytes :]
            start_ms = self._origin_ms + 1000.0 * self._samples_seen / self.rate_hz
            self._samples_seen += len(audio) // 2
            frames.append(_Frame(audio, start_ms, start_ms + self.frame_ms, self._is_voiced(audio)))
        return frames

    def _is_voiced(self, audio: bytes) -> bool:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float64)
        level = float(np.sqrt(np.mean(samples * samples)))
        voiced = level >= self.min_rms and self._vad.is_speech(audio, self.rate_hz)
        if not voiced:
            self._noise_rms = level if self._noise_rms == 0 else 0.95 * self._noise_rms + 0.05 * level
        return voiced

    def _step(self, frame: _Frame, signals: list[TurnSignal]) -> None:
        if self._speaking:
            self._continue_turn(frame, signals)
        elif self._candidate or frame.voiced:
            self._grow_candidate(frame, signals)
        else:
            self._preroll.append(frame)

    def _grow_candidate(self, frame: _Frame, signals: list[TurnSignal]) -> None:
        """Voiced frames must add up to min_speech_ms before a gap as long again, or it was noise."""
        self._candidate.append(frame)
        voiced = [f for f in self._candidate if f.voiced]
        if len(voiced) * self.frame_ms >= self.min_speech_ms:
            self._start_turn(voiced[0].start_ms, self._voice_end_ms(voiced[-1]), signals)
            return
        silent_run = 0
        for f in reversed(self._candidate):
            if f.voiced:
                break
            silent_run += 1
        if silent_run * self.frame_ms >= self.min_speech_ms:
            for f in self._candidate:
                self._preroll.append(f)
            self._candidate = []

    def _start_turn(self, start_ms: float, last_voiced_end_ms: float, signals: list[TurnSignal]) -> None:
        self._speaking = True
        self._silence_ms = 0.0
        self._start_ms = start_ms
        self._last_voiced_end_ms = last_voiced_end_ms
        signals.append(SpeechStarted(start_ms))
        self._pitch = PitchTrack(self.rate_hz)
        for f in [*self._preroll, *self._candidate]:
            signals.append(SpeechAudio(self._chunk(f)))
            self._pitch.add(f.audio, f.end_ms, f.voiced)
        self._preroll.clear()
        self._candidate = []

    def _continue_turn(self, frame: _Frame, signals: list[TurnSignal]) -> None:
        if frame.end_ms - self._start_ms > self.max_turn_ms:
            # The frame that would overrun belongs to the next turn (a speaker who never stops).
            self._end_turn("max_length", signals)
            self._step(frame, signals)
            return
        signals.append(SpeechAudio(self._chunk(frame)))
        if self._pitch is not None:
            self._pitch.add(frame.audio, frame.end_ms, frame.voiced)
        if frame.voiced:
            self._last_voiced_end_ms = self._voice_end_ms(frame)
        self._silence_ms = frame.end_ms - self._last_voiced_end_ms
        if frame.end_ms - self._last_voiced_end_ms >= self.trailing_silence_ms:
            self._end_turn("silence", signals)

    def _voice_end_ms(self, frame: _Frame) -> float:
        """Where the voice stops inside a voiced frame (see END_STEP_MS)."""
        step = max(1, self.rate_hz * END_STEP_MS // 1000)
        samples = np.frombuffer(frame.audio, dtype="<i2").astype(np.float64)
        steps = len(samples) // step
        if steps == 0:
            return frame.end_ms
        levels = np.sqrt((samples[: steps * step].reshape(steps, step) ** 2).mean(axis=1))
        floor = max(self.min_rms, END_OVER_NOISE * self._noise_rms, END_DROP * float(levels.max()))
        loud = np.flatnonzero(levels >= floor)
        if loud.size == 0:
            return frame.end_ms
        return frame.start_ms + 1000.0 * (int(loud[-1]) + 1) * step / self.rate_hz

    def _end_turn(self, reason: str, signals: list[TurnSignal]) -> None:
        signals.append(TurnEnded(self._start_ms, self._last_voiced_end_ms, reason))
        self._speaking = False

    def _chunk(self, frame: _Frame) -> AudioChunk:
        return AudioChunk(frame.audio, self.rate_hz, 1, 2, frame.start_ms)


def _merge_audio(signals: list[TurnSignal]) -> list[TurnSignal]:
    """Adjacent frames of one feed() become one chunk: fewer, larger recognizer calls."""
    merged: list[TurnSignal] = []
    for signal in signals:
        last = merged[-1] if merged else None
        if isinstance(signal, SpeechAudio) and isinstance(last, SpeechAudio):
            joined = last.chunk.audio + signal.chunk.audio
            merged[-1] = SpeechAudio(AudioChunk(joined, last.chunk.rate_hz, 1, 2, last.chunk.timestamp_ms))
        else:
            merged.append(signal)
    return merged
