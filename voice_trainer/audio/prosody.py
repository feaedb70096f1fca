"""How a stretch of speech ends, by its pitch: fallen to the speaker's low (a finished phrase) or held level
(more to come). The words say the same thing when the recognizer hears them (`practice/turn_taking.py`);
the pitch says it whatever the recognizer heard, in any language.

People end a statement by letting the pitch fall to the bottom of their range ("final lowering"), and
hold it level (a plateau) when they stop mid-sentence to think; a level end before a pause is the
strongest sign of more to come (Gravano & Hirschberg 2011, turn-holding and turn-yielding cues in
task-oriented dialogue). So the pitch of the last voiced frames is compared with the median of the
speaker's own pitch over the turn so far, in semitones (so a deep and a high voice read alike):

    fallen at least FALL_ST below the turn's median   -> "falling"  (a phrase end)
    risen at least RISE_ST above it                   -> "rising"   (a question, or a list going on)
    in between                                        -> "level"    (holding the turn)
    too little voiced speech to tell                  -> "unknown"

Pitch is found per detector frame (30 ms, with the 15 ms before it) by the normalized cross-correlation
of the frame with itself at lags from 1/400 s to 1/60 s: the shortest lag that correlates nearly as well
as the best one is the period (the longer ones are its multiples).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MIN_HZ = 60.0
MAX_HZ = 400.0
VOICING = 0.6  # a frame with no lag correlating at least this well has no pitch (a consonant, a breath)
NEAR_BEST = 0.9  # the shortest lag within this share of the best correlation is the period
FALL_ST = 2.5
RISE_ST = 2.5
END_FRAMES = 3  # the phrase's end: the median of its last pitched frames...
END_WITHIN_MS = 300.0  # ...found this close to where the voice stopped
MIN_PITCHED = 8  # frames with pitch in the turn before its median means anything (~240 ms of vowels)
HISTORY_MS = 15  # audio before the frame, so a 30 ms frame holds two periods of a 60 Hz voice


# A frame this far above the turn's median is a breathy end read at twice its pitch (the tracker prefers the
# shorter period); this far below, a creaky one read at half. Up, the limit is lower: a fall of 4-5 semitones
# read an octave up lands 7-8 above. (A real rise that steep, a surprised question, then reads as a fall:
# both hand the turn over.)
OCTAVE_UP_ST = 7.0
OCTAVE_DOWN_ST = 9.0


def _folded(st: float, median: float) -> float:
    """A pitch read an octave off, moved back."""
    if st > median + OCTAVE_UP_ST:
        return st - 12.0
    if st < median - OCTAVE_DOWN_ST:
        return st + 12.0
    return st


@dataclass(frozen=True)
class PhraseEnd:
    """How the speech so far ends: `kind` is falling, rising, level or unknown; `end_st` and `median_st`
    are the end's and the turn's pitch in semitones over 100 Hz (None when unknown)."""

    kind: str
    end_st: float | None = None
    median_st: float | None = None


UNKNOWN = PhraseEnd("unknown")


class PitchTrack:
    """The pitch of one turn, frame by frame: `add()` each frame of the turn in order, `phrase_end()` in a pause."""

    def __init__(self, rate_hz: int):
        self.rate_hz = rate_hz
        self._history = np.zeros(rate_hz * HISTORY_MS // 1000, dtype=np.float64)
        self._pitched: list[tuple[float, float]] = []  # (frame end ms, semitones over 100 Hz)
        self._min_lag = max(2, int(rate_hz / MAX_HZ))
        self._max_lag = int(rate_hz / MIN_HZ)

    def add(self, audio: bytes, end_ms: float, voiced: bool) -> None:
        samples = np.frombuffer(audio, dtype="<i2").astype(np.float64)
        window = np.concatenate([self._history, samples])
        self._history = window[-len(self._history):]
        if not voiced:
            return
        hz = self.pitch_hz(window)
        if hz is not None:
            self._pitched.append((end_ms, 12.0 * math.log2(hz / 100.0)))

    def pitch_hz(self, window: np.ndarray) -> float | None:
        """The pitch of a stretch of audio, or None where it has none."""
        n = len(window)
        max_lag = min(self._max_lag, n // 2)
        if max_lag <= self._min_lag:
            return None
        x = window - window.mean()
        size = 1 << (2 * n - 1).bit_length()
        spectrum = np.fft.rfft(x, size)
        corr = np.fft.irfft(spectrum * np.conj(spectrum), size)[: max_lag + 1]
        energy = np.concatenate([[0.0], np.cumsum(x * x)])
        lags = np.arange(self._min_lag, max_lag + 1)
        head = energy[n - lags]  # x[0:n-k]
        tail = energy[n] - energy[lags]  # x[k:n]
        denominator = np.sqrt(head * tail)
        nccf = np.divide(corr[lags], denominator, out=np.zeros(len(lags)), where=denominator > 0)
        best = float(nccf.max())
        if best < VOICING:
            return None
        peaks = (nccf[1:-1] >= nccf[:-2]) & (nccf[1:-1] >= nccf[2:]) & (nccf[1:-1] >= NEAR_BEST * best)
        found = np.flatnonzero(peaks)
        lag = int(lags[found[0] + 1]) if found.size else int(lags[int(nccf.argmax())])
        return self.rate_hz / lag

    def phrase_end(self, voice_end_ms: float) -> PhraseEnd:
        """How the speech up to `voice_end_ms` (where the voice stopped) ends."""
        if len(self._pitched) < MIN_PITCHED:
            return UNKNOWN
        median = float(np.median([st for _, st in self._pitched]))
        recent = [_folded(st, median) for t, st in self._pitched[-END_FRAMES:] if voice_end_ms - t <= END_WITHIN_MS]
        if len(recent) < 2:
            return UNKNOWN  # the end was unvoiced or creaky: no pitch to read
        end = float(np.median(recent))
        if end <= median - FALL_ST:
            kind = "falling"
        elif end >= median + RISE_ST:
            kind = "rising"
        else:
            kind = "level"
        return PhraseEnd(kind, round(end, 2), round(median, 2))
