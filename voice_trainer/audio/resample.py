"""Converting device audio (any rate, any channel count) to what the recognizer wants, and back."""

from __future__ import annotations

import numpy as np
import soxr

from voice_trainer.audio.chunk import AudioChunk


def to_mono(chunk: AudioChunk) -> AudioChunk:
    if chunk.channels == 1:
        return chunk
    mixed = chunk.samples().astype(np.int32).mean(axis=1)
    return AudioChunk(mixed.astype("<i2").tobytes(), chunk.rate_hz, 1, 2, chunk.timestamp_ms)


def resample(chunk: AudioChunk, rate_hz: int) -> AudioChunk:
    """Whole-buffer conversion (files, rendered lines). For live streams use StreamResampler."""
    if chunk.rate_hz == rate_hz:
        return chunk
    samples = chunk.samples()
    out = soxr.resample(samples, chunk.rate_hz, rate_hz, quality="HQ")
    return AudioChunk(np.ascontiguousarray(out, dtype="<i2").tobytes(), rate_hz, chunk.channels, 2, chunk.timestamp_ms)


class StreamResampler:
    """Chunk-by-chunk conversion to mono at `rate_hz`, keeping filter state between chunks."""

    def __init__(self, in_rate_hz: int, rate_hz: int, in_channels: int = 1):
        self.in_rate_hz = in_rate_hz
        self.rate_hz = rate_hz
        self.in_channels = in_channels
        self._stream = (
            soxr.ResampleStream(in_rate_hz, rate_hz, 1, dtype="int16", quality="HQ")
            if in_rate_hz != rate_hz
            else None
        )

    def convert(self, chunk: AudioChunk, last: bool = False) -> AudioChunk:
        if chunk.rate_hz != self.in_rate_hz or chunk.channels != self.in_channels:
            raise ValueError(
                f"stream expects {self.in_rate_hz} Hz x{self.in_channels}, got {chunk.rate_hz} Hz x{chunk.channels}"
            )
        mono = to_mono(chunk)
        if self._stream is None:
            return mono
        out = self._stream.resample_chunk(mono.samples()[:, 0], last=last)
        return AudioChunk(np.ascontiguousarray(out, dtype="<i2").tobytes(), self.rate_hz, 1, 2, chunk.timestamp_ms)
