"""The session recording: a stereo WAV (left = trainee's microphone, right = customer's voice) on the
session timeline, written as the session goes so a crash or `kill -9` leaves a playable file.

Frame n of the file is at n / rate_hz seconds on the session timeline (ms since session start, the
origin of event `t_ms`). The header's sizes are rewritten after every write, *after* the data, so
after a kill they are at worst a little short; `repair_wav` makes them exact. When the disk fills (or
the file size limit is reached) the file is cut back to its last whole frame with exact sizes, the
recording stops there and DiskFull says so once; the file stays playable.
"""

from __future__ import annotations

import os
import struct
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.resample import StreamResampler
from voice_trainer.clock import Clock
from voice_trainer.errors import AudioFileError, DiskFull, room_advice, room_problem

HEADER_BYTES = 44
CHANNELS = 2  # left = mic, right = customer
SAMPLE_BYTES = 2


class _Track:
    """One side of the recording: its resampler, where its next sample goes, and its unwritten samples.

    `pending[i]` is the sample for file frame `written + i`; the recorder owns `written`.
    """

    def __init__(self, rate_hz: int, snap_ms: float):
        self.rate_hz = rate_hz
        self.snap_ms = snap_ms
        self.resampler: StreamResampler | None = None
        self.next_frame = 0  # where the next converted sample goes
        self.known_frames = 0  # everything before this is known for this side
        # Input timeline of the current run of contiguous chunks: where it started and how much was fed.
        # Comparing timestamps with this (not with the last timestamp) also catches slow clock drift.
        self.run_start_ms: float | None = None
        self.run_fed_ms = 0.0
        self.pending = np.zeros(0, dtype=np.int16)
        self.dropped_frames = 0

    def add(self, chunk: AudioChunk, written: int) -> None:
        fmt = (chunk.rate_hz, chunk.channels)
        ts = chunk.timestamp_ms
        expected_ms = None if self.run_start_ms is None else self.run_start_ms + self.run_fed_ms
        contiguous = ts is None or (expected_ms is not None and abs(ts - expected_ms) <= self.snap_ms)
        same_stream = self.resampler is not None and (self.resampler.in_rate_hz, self.resampler.in_channels) == fmt
        if not (contiguous and same_stream):
            self.drain(written)
        if not contiguous:
            self.next_frame = max(0, round(ts * self.rate_hz / 1000))  # type: ignore[operator]
            self.run_start_ms, self.run_fed_ms = ts, 0.0
        elif self.run_start_ms is None:
            self.run_start_ms, self.run_fed_ms = 1000.0 * self.next_frame / self.rate_hz, 0.0
        if self.resampler is None:
            self.resampler = StreamResampler(chunk.rate_hz, self.rate_hz, chunk.channels)
        self._place(self.resampler.convert(chunk).samples()[:, 0], written)
        self.run_fed_ms += chunk.duration_ms

    def drain(self, written: int) -> None:
        """End the current stream: the resampler's held-back tail goes out, the next chunk starts fresh."""
        if self.resampler is not None and self.resampler.in_rate_hz != self.rate_hz:
            empty = AudioChunk(b"", self.resampler.in_rate_hz, self.resampler.in_channels)
            self._place(self.resampler.convert(empty, last=True).samples()[:, 0], written)
        self.resampler = None

    def _place(self, samples: np.ndarray, written: int) -> None:
        start, end = self.next_frame, self.next_frame + len(samples)
        self.next_frame = end
        self.known_frames = max(self.known_frames, end)
        if end <= written:
            self.dropped_frames += len(samples)
            return
        if start < written:  # arrived after that part of the file was written: too late to record
            self.dropped_frames += written - start
            samples = samples[written - start:]
            start = written
        lo, hi = start - written, end - written
        if hi > len(self.pending):
            self.pending = np.concatenate([self.pending, np.zeros(hi - len(self.pending), dtype=np.int16)])
        self.pending[lo:hi] = samples

    def take(self, frames: int) -> np.ndarray:
        out = np.zeros(frames, dtype=np.int16)
        n = min(frames, len(self.pending))
        out[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return out


class SessionRecorder:
    """Stereo WAV of a session, written incrementally. Thread-safe: mic and customer audio may come
    from different threads.

    Audio is held only until both sides are known up to a point. One side may fall behind (silence
    has no chunks): with a `clock` (on the session timeline) frames older than now - `hold_ms` are
    written anyway; without one, a side may lag the other by at most `hold_ms`. Audio arriving for
    frames already written is dropped (counted in `dropped_ms`).
    """

    def __init__(
        self,
        path: Path,
        *,
        rate_hz: int = 16000,
        clock: Clock | None = None,
        hold_ms: float = 1000.0,
        write_every_ms: float = 250.0,
        fsync_every_ms: float = 2000.0,
        snap_ms: float = 30.0,
    ):
        self.path = Path(path)
        self.rate_hz = rate_hz
        self._clock = clock
        self._hold_frames = round(hold_ms * rate_hz / 1000)
        self._write_every_frames = max(1, round(write_every_ms * rate_hz / 1000))
        self._fsync_every_frames = max(1, round(fsync_every_ms * rate_hz / 1000))
        self._mic = _Track(rate_hz, snap_ms)
        self._customer = _Track(rate_hz, snap_ms)
        self._written = 0
        self._synced = 0
        self._lock = threading.Lock()
        self.failure: DiskFull | None = None  # the recording stopped here for lack of room
        self._halted = False
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as err:
            raise self._no_room(err) if room_problem(err) else AudioFileError(
                f"{self.path}: cannot create the recording ({err.strerror}); check permissions") from None
        os.fchmod(fd, 0o600)  # the file may have existed with wider permissions
        self._fd: int | None = fd
        try:
            _pwrite_all(fd, wav_header(rate_hz, CHANNELS, 0), 0)
        except _ShortWrite as short:
            os.close(fd)
            self._fd = None
            err = short.err
            raise self._no_room(err) if room_problem(err) else AudioFileError(
                f"{self.path}: cannot write the recording ({err.strerror})") from None

    @property
    def dropped_ms(self) -> dict[str, float]:
        return {
            "mic": 1000.0 * self._mic.dropped_frames / self.rate_hz,
            "customer": 1000.0 * self._customer.dropped_frames / self.rate_hz,
        }

    def add_mic(self, chunk: AudioChunk) -> None:
        self._add(self._mic, chunk)

    def add_customer(self, chunk: AudioChunk) -> None:
        self._add(self._customer, chunk)

    def halt(self) -> None:
        """Write nothing more from now on (the disk is full: the room left goes to the session's log);
        what is written stays a playable file."""
        with self._lock:
            self._halted = True

    def _add(self, track: _Track, chunk: AudioChunk) -> None:
        with self._lock:
            if self._fd is None or self._halted or self.failure is not None:
                # audio still trickling in from a device thread after close, or no room to write it
                track.dropped_frames += round(chunk.duration_ms * self.rate_hz / 1000)
                return
            track.add(chunk, self._written)
            frontier = self._safe_frontier()
            if frontier - self._written >= self._write_every_frames:
                self._write_until(frontier)

    def _safe_frontier(self) -> int:
        both_known = min(self._mic.known_frames, self._customer.known_frames)
        if self._clock is not None:
            lagging = round((self._clock.now_ms() - self._hold_ms()) * self.rate_hz / 1000)
        else:
            lagging = max(self._mic.known_frames, self._customer.known_frames) - self._hold_frames
        return max(both_known, lagging)

    def _hold_ms(self) -> float:
        return 1000.0 * self._hold_frames / self.rate_hz

    def flush(self, up_to_ms: float | None = None) -> None:
        """Write the timeline up to `up_to_ms` (default: everything received), silence where a side has
        no audio, and sync to disk."""
        with self._lock:
            if self._fd is None or self._halted or self.failure is not None:
                return
            if up_to_ms is None:
                self._mic.drain(self._written)
                self._customer.drain(self._written)
                frontier = max(self._mic.known_frames, self._customer.known_frames)
            else:
                frontier = round(up_to_ms * self.rate_hz / 1000)
            self._write_until(frontier)
            self._sync()

    def close(self) -> float:
        """Write everything and close. Returns the recording's duration in seconds. DiskFull if the
        disk fills only now (the file is closed and playable all the same)."""
        try:
            self.flush()
        finally:
            with self._lock:
                if self._fd is not None:
                    os.close(self._fd)
                    self._fd = None
        return self._written / self.rate_hz

    def __enter__(self) -> "SessionRecorder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write_until(self, frontier: int) -> None:
        frames = frontier - self._written
        if frames <= 0 or self._fd is None:
            return
        stereo = np.column_stack([self._mic.take(frames), self._customer.take(frames)]).astype("<i2")
        offset = HEADER_BYTES + self._written * CHANNELS * SAMPLE_BYTES
        try:
            _pwrite_all(self._fd, stereo.tobytes(), offset)
        except _ShortWrite as short:
            self._stop_at(self._written + short.done // (CHANNELS * SAMPLE_BYTES), short.err)
        self._written = frontier
        self._write_sizes()
        if self._written - self._synced >= self._fsync_every_frames:
            self._sync()

    def _write_sizes(self) -> None:
        # Data first, sizes second: after a kill the header never claims audio that is not there.
        # Rewriting the header's bytes takes no new room, so it works on a full disk too.
        data_bytes = self._written * CHANNELS * SAMPLE_BYTES
        os.pwrite(self._fd, struct.pack("<I", 36 + data_bytes), 4)  # type: ignore[arg-type]
        os.pwrite(self._fd, struct.pack("<I", data_bytes), 40)  # type: ignore[arg-type]

    def _stop_at(self, frames: int, err: OSError) -> None:
        """No room for more: cut the file to its last whole frame, make the header say so, stop. Raises."""
        self._written = frames
        fd = self._fd
        assert fd is not None
        os.ftruncate(fd, HEADER_BYTES + frames * CHANNELS * SAMPLE_BYTES)
        self._write_sizes()
        self._mic.pending = self._customer.pending = np.zeros(0, dtype=np.int16)
        if not room_problem(err):
            raise AudioFileError(f"{self.path}: cannot write the recording ({err.strerror}); it stops at "
                                 f"{_clock(frames / self.rate_hz)}") from None
        self.failure = self._no_room(err, stopped_s=frames / self.rate_hz)
        raise self.failure

    def _no_room(self, err: OSError, stopped_s: float | None = None) -> DiskFull:
        where = f"; the recording stops at {_clock(stopped_s)}" if stopped_s is not None else ""
        return DiskFull(f"{self.path}: {room_problem(err)} while recording{where}; {room_advice(err)}", self.path, err)

    def _sync(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError as err:
                self._stop_at(self._written, err)
            self._synced = self._written


class _ShortWrite(Exception):
    def __init__(self, done: int, err: OSError):
        self.done = done
        self.err = err


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    """All of `data` at `offset`; _ShortWrite with how much got written when a write fails part-way."""
    done = 0
    view = memoryview(data)
    try:
        while done < len(data):
            done += os.pwrite(fd, view[done:], offset + done)
    except OSError as err:
        raise _ShortWrite(done, err) from None


def _clock(seconds: float | None) -> str:
    whole = int(seconds or 0)
    return f"{whole // 60}:{whole % 60:02d}"


def wav_header(rate_hz: int, channels: int, data_bytes: int) -> bytes:
    block_align = channels * SAMPLE_BYTES
    return (
        b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVE"
        + b"fmt " + struct.pack("<IHHIIHH", 16, 1, channels, rate_hz, rate_hz * block_align, block_align, 16)
        + b"data" + struct.pack("<I", data_bytes)
    )


@dataclass(frozen=True)
class _WavLayout:
    file_bytes: int
    riff_bytes: int
    rate_hz: int
    block_align: int
    data_start: int
    data_bytes: int


def _layout(path: Path) -> _WavLayout:
    """Where the data chunk is and what the header claims, read by walking the RIFF chunks."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            file_bytes = os.fstat(f.fileno()).st_size
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
                raise AudioFileError(f"{path}: not a WAV file (no RIFF/WAVE header); it cannot be repaired")
            riff_bytes = struct.unpack("<I", head[4:8])[0]
            rate_hz = block_align = 0
            pos = 12
            while True:
                f.seek(pos)
                chunk = f.read(8)
                if len(chunk) < 8:
                    raise AudioFileError(f"{path}: no data chunk in the WAV file; it cannot be repaired")
                cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
                if cid == b"fmt ":
                    fmt = f.read(16)
                    if len(fmt) < 16:
                        raise AudioFileError(f"{path}: truncated fmt chunk; it cannot be repaired")
                    _, _, rate_hz, _, block_align, _ = struct.unpack("<HHIIHH", fmt)
                elif cid == b"data":
                    if not block_align:
                        raise AudioFileError(f"{path}: data chunk before fmt chunk; it cannot be repaired")
                    return _WavLayout(file_bytes, riff_bytes, rate_hz, block_align, pos + 8, size)
                pos += 8 + size + (size & 1)
    except OSError as err:
        raise AudioFileError(f"{path}: cannot read the recording ({err.strerror})") from None


def is_complete(path: Path) -> bool:
    """True when the header's RIFF and data sizes agree with the file's length."""
    w = _layout(Path(path))
    data_end = w.data_start + w.data_bytes
    return (
        w.riff_bytes + 8 == w.file_bytes
        and w.data_bytes % w.block_align == 0
        and data_end <= w.file_bytes
    )


def repair_wav(path: Path) -> float:
    """Make the header of an unfinished recording match its data, dropping a torn last frame.

    The data chunk is taken to run to the end of the file (as in our recordings). A complete file is
    left untouched. Returns the duration in seconds.
    """
    path = Path(path)
    w = _layout(path)
    if is_complete(path):
        return w.data_bytes / w.block_align / w.rate_hz
    frames = max(0, w.file_bytes - w.data_start) // w.block_align
    data_bytes = frames * w.block_align
    pad = data_bytes & 1
    try:
        with open(path, "r+b") as f:
            f.truncate(w.data_start + data_bytes)
            if pad:
                f.seek(0, os.SEEK_END)
                f.write(b"\0")
            f.seek(4)
            f.write(struct.pack("<I", w.data_start - 8 + data_bytes + pad))
            f.seek(w.data_start - 4)
            f.write(struct.pack("<I", data_bytes))
            f.flush()
            os.fsync(f.fileno())
    except OSError as err:
        raise AudioFileError(f"{path}: cannot repair the recording ({err.strerror}); check permissions") from None
    return frames / w.rate_hz
