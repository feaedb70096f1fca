"""Audio passes as values that carry their rate and channel count, so resampling is a visible step."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AudioChunk:
    """Signed 16-bit little-endian PCM, interleaved when channels > 1.

    `timestamp_ms` is where the chunk's first sample sits on the session timeline
    (None when the source has no timeline, e.g. a file).
    """

    audio: bytes
    rate_hz: int
    channels: int = 1
    width: int = 2
    timestamp_ms: float | None = None

    @property
    def frames(self) -> int:
        return len(self.audio) // (self.width * self.channels)

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.frames / self.rate_hz

    def samples(self) -> np.ndarray:
        """int16 array shaped (frames, channels)."""
        return np.frombuffer(self.audio, dtype="<i2").reshape(-1, self.channels)

    @classmethod
    def from_samples(cls, samples: np.ndarray, rate_hz: int, timestamp_ms: float | None = None) -> "AudioChunk":
        arr = np.asarray(samples)
        if arr.dtype.kind == "f":
            arr = np.clip(arr * 32768.0, -32768, 32767)
        arr = arr.astype("<i2")
        channels = 1 if arr.ndim == 1 else arr.shape[1]
        return cls(arr.tobytes(), rate_hz, channels, 2, timestamp_ms)
