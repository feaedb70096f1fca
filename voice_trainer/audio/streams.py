"""Live audio: the microphone as a stream of stamped chunks, the speaker as interruptible playback.

Timestamps are on the session timeline of the injected Clock. The microphone stamps chunks by
counting samples from the moment the stream started (origin = clock.now_ms() right after start):
chunk n starts at origin + frames_before_n / rate. Sample counting keeps chunks exactly
contiguous, so word times from the recognizer line up with the recording; stamping each chunk
with the callback's wall-clock time would add the scheduler's jitter to every chunk.
"""

from __future__ import annotations

import math
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.devices import DeviceInfo, sounddevice, supported_rate
from voice_trainer.audio.resample import resample, to_mono
from voice_trainer.clock import Clock
from voice_trainer.errors import AudioDeviceError


@dataclass(frozen=True)
class PlaybackResult:
    """When a line was audible on the session timeline, and whether it was cut short."""

    start_ms: float
    end_ms: float
    interrupted: bool = False


class Microphone(Protocol):
    def read(self, timeout_s: float) -> AudioChunk | None:
        """The next chunk stamped on the session timeline; None when nothing came within `timeout_s`."""


class Speaker(Protocol):
    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        """Blocking playback; returns early with interrupted=True once `stop` is set."""

    def close(self) -> None:
        """Release the device."""


# A block arrives at most this long after its last sample was captured (the input latency of a sound server
# on a busy machine); a sample count further behind than that means blocks were lost, or the callback was
# held up and its backlog is about to arrive in a burst (see `MicStream._settle`).
MIC_LATE_MS = 150.0


class MicStream:
    """The trainee's microphone: `with MicStream(dev, clock=c) as mic: chunk = mic.read(0.1)`.

    Leave `rate_hz` None (the device's own rate) and let the recognizer resample: asking the sound
    server to convert costs latency (PulseAudio delayed a 16 kHz stream by ~1.7 s in our tests).
    """

    def __init__(
        self,
        device: DeviceInfo,
        *,
        rate_hz: int | None = None,
        channels: int = 1,
        block_ms: int = 30,
        clock: Clock,
    ):
        self.device = device
        self.rate_hz = supported_rate(device, rate_hz or device.default_rate_hz, input=True)
        self.channels = channels
        self.block_frames = max(1, self.rate_hz * block_ms // 1000)
        self.clock = clock
        self.overflows = 0  # blocks the device dropped because we read too slowly
        self._queue: queue.Queue[tuple[bytes, Any, float]] = queue.Queue()
        self._finished = threading.Event()
        self._stream: Any = None
        self._origin_ms = 0.0
        self._frames_read = 0
        self._usual_late_ms = 0.0  # how late an on-time block arrives: the sound server's own latency
        self._settled: list[tuple[bytes, Any, float]] = []  # a burst already judged, handed out block by block

    def __enter__(self) -> "MicStream":
        sd = sounddevice()
        try:
            self._stream = sd.RawInputStream(
                device=self.device.index,
                samplerate=self.rate_hz,
                channels=self.channels,
                dtype="int16",
                blocksize=self.block_frames,
                callback=self._on_audio,
                finished_callback=self._finished.set,
            )
            self._stream.start()
        except sd.PortAudioError as err:
            self._close_quietly()
            raise AudioDeviceError(
                f"cannot open input device {self.device.label()} at {self.rate_hz} Hz: {err}"
            ) from err
        self._origin_ms = self.clock.now_ms()
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_quietly()

    def _on_audio(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        # Runs on PortAudio's thread: hand the bytes over and return (vosk's test_microphone.py), with
        # when they arrived (see `read`).
        self._queue.put((bytes(indata), status, self.clock.now_ms()))

    def read(self, timeout_s: float) -> AudioChunk | None:
        """The next block (int16, `channels` interleaved) stamped on the session timeline; None on timeout."""
        if self._settled:
            return self._stamp(*self._settled.pop(0))
        try:
            item = self._queue.get(timeout=timeout_s)
        except queue.Empty:
            self._check_alive()
            return None
        if self._late_ms(item, self._frames_read) > MIC_LATE_MS:
            self._settled = self._settle(item)
            return self._stamp(*self._settled.pop(0))
        return self._stamp(*item)

    def _late_ms(self, item: tuple[bytes, Any, float], frames_before: int) -> float:
        """How long after its counted end a block arrived."""
        data, _, arrived_ms = item
        frames = len(data) // (2 * self.channels)
        return arrived_ms - (self._origin_ms + 1000.0 * (frames_before + frames) / self.rate_hz)

    def _settle(self, first: tuple[bytes, Any, float]) -> list[tuple[bytes, Any, float]]:
        """A block arrived later than a sound server delays one: either blocks were lost (the count fell
        behind for good) or the callback was held up on a busy machine and its backlog comes in a burst
        (the count is right; only the delivery was late). Gather the burst until blocks come at the pace
        they are captured again, and judge by its least late block: a held-up callback catches up (its
        last block is on time again), lost blocks leave every block late. Only a loss moves the count,
        by what it lost; moving it on a late burst stamped everything after it too late."""
        burst = [first]
        pace_s = self.block_frames / self.rate_hz
        while True:
            try:
                item = self._queue.get(timeout=2 * pace_s)
            except queue.Empty:
                break  # nothing more queued: the last block was the end of it
            burst.append(item)
            if item[2] - burst[-2][2] >= 500.0 * pace_s:
                break  # arriving at the capture pace again
        frames_before, least_late_ms = self._frames_read, math.inf
        for item in burst:
            least_late_ms = min(least_late_ms, self._late_ms(item, frames_before))
            frames_before += len(item[0]) // (2 * self.channels)
        if least_late_ms > MIC_LATE_MS:
            self._origin_ms += least_late_ms - self._usual_late_ms
        return burst

    def _stamp(self, data: bytes, status: Any, arrived_ms: float) -> AudioChunk:
        if status and status.input_overflow:
            self.overflows += 1
        late_ms = self._late_ms((data, status, arrived_ms), self._frames_read)
        if 0.0 <= late_ms <= MIC_LATE_MS:  # an on-time block: follow the sound server's usual latency
            self._usual_late_ms += 0.05 * (late_ms - self._usual_late_ms)
        chunk = AudioChunk(data, self.rate_hz, self.channels, 2,
                           timestamp_ms=self._origin_ms + 1000.0 * self._frames_read / self.rate_hz)
        self._frames_read += chunk.frames
        return chunk

    def _check_alive(self) -> None:
        stream = self._stream
        if stream is None:
            raise AudioDeviceError("the microphone stream is not open; use it in a `with` block")
        if self._finished.is_set() or not stream.active:
            raise AudioDeviceError(
                f"input device {self.device.label()} stopped delivering audio "
                "(unplugged, or the sound server went away); reconnect it and start again"
            )

    def _close_quietly(self) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        sd = sounddevice()
        try:
            stream.abort()
            stream.close()
        except sd.PortAudioError:
            pass  # the device is already gone; nothing left to release


# Output buffer. 60 ms ("low") underruns on a busy machine and the customer stutters; a barge-in still
# silences at once because an interrupted line is aborted (its buffer dropped), not drained.
_SPEAKER_LATENCY_S = 0.2


class SpeakerStream:
    """The customer's speaker: blocking playback in short blocks, so a stop event cuts it within one."""

    def __init__(
        self,
        device: DeviceInfo,
        *,
        rate_hz: int = 22050,
        clock: Clock,
        block_ms: int = 30,
        on_block: Callable[[AudioChunk], None] | None = None,
    ):
        self.device = device
        self.rate_hz = supported_rate(device, rate_hz, input=False)
        self.block_frames = max(1, self.rate_hz * block_ms // 1000)
        self.clock = clock
        self.on_block = on_block  # sees exactly what is played, stamped where it is heard
        # The first sample is heard this long after it is written (PortAudio's report for the device): a
        # USB or HDMI device, or one a driver reports as slow, does not make the customer read early.
        self.device_latency_ms = 1000.0 * device.low_output_latency_s
        self.underruns = 0
        self._stream: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> "SpeakerStream":
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open(self) -> None:
        if self._stream is not None:
            return
        sd = sounddevice()
        try:
            self._stream = sd.RawOutputStream(
                device=self.device.index,
                samplerate=self.rate_hz,
                channels=1,
                dtype="int16",
                blocksize=self.block_frames,
                latency=_SPEAKER_LATENCY_S,
            )
        except sd.PortAudioError as err:
            raise AudioDeviceError(
                f"cannot open output device {self.device.label()} at {self.rate_hz} Hz: {err}"
            ) from err

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.close()
            except sounddevice().PortAudioError:
                pass

    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        """Play `chunk` (any rate; resampled here) until done or until `stop` is set."""
        with self._lock:
            self.open()
            return self._play(resample(to_mono(chunk), self.rate_hz), stop)

    def _play(self, chunk: AudioChunk, stop: threading.Event | None) -> PlaybackResult:
        sd = sounddevice()
        stream = self._stream
        latency_ms = 1000.0 * float(stream.latency)
        start_ms: float | None = None
        try:
            stream.start()
            for offset, block in self._blocks(chunk.audio):
                if stop is not None and stop.is_set():
                    break
                if start_ms is None:
                    # Into an empty buffer, which the device starts playing after its own latency.
                    # Not the stream's reported latency: that is our buffer when full, and came out
                    # ~150 ms late on PulseAudio.
                    start_ms = self.clock.now_ms() + self.device_latency_ms
                self._write(stream, block)
                if self.on_block is not None:
                    at_ms = start_ms + 1000.0 * (offset // 2) / self.rate_hz
                    self.on_block(AudioChunk(block, self.rate_hz, 1, 2, at_ms))
            else:
                self._play_out(stream, latency_ms, stop)
            interrupted = stop is not None and stop.is_set()
            if interrupted:
                stream.abort()  # drop what is buffered: barge-in must be silent at once
            else:
                stream.stop()
        except sd.PortAudioError as err:
            raise AudioDeviceError(
                f"output device {self.device.label()} failed during playback: {err}; check the headset"
            ) from err
        end_ms = self.clock.now_ms()
        if start_ms is None:
            start_ms = end_ms
        return PlaybackResult(start_ms, max(start_ms, end_ms), interrupted)

    def _blocks(self, audio: bytes):
        block_bytes = self.block_frames * 2
        for offset in range(0, len(audio), block_bytes):
            yield offset, audio[offset : offset + block_bytes]

    def _play_out(self, stream: Any, latency_ms: float, stop: threading.Event | None) -> None:
        """Push a buffer's worth of silence so the line's last samples are heard before we return.

        Stopping the stream does not wait for its buffer here (ALSA's pulse plugin drops it on the
        next start), which cut the end off every sentence; after a full buffer of silence, only
        silence can be dropped, and the return time is when the line really ended.
        """
        silence = bytes(self.block_frames * 2)
        blocks = math.ceil(latency_ms / 1000.0 * self.rate_hz / self.block_frames) + 1
        for _ in range(blocks):
            if stop is not None and stop.is_set():
                return
            self._write(stream, silence)

    def _write(self, stream: Any, block: bytes) -> None:
        if stream.write(block):
            self.underruns += 1  # we were late: the listener heard a gap


def level_dbfs(chunk: AudioChunk) -> float:
    """Loudness of a chunk in dB relative to full scale (0 = clipping; silence is -inf, floored at -120)."""
    samples = chunk.samples().astype(np.float64)
    if samples.size == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(samples**2)))
    return max(-120.0, 20.0 * math.log10(max(rms, 1e-9) / 32768.0))
