"""Audio files as the recognizer takes them: 16-bit PCM blocks of bounded size, any format libsndfile reads.

Every sample format (8/16/24/32-bit integer, 32/64-bit float, FLAC, OGG, ...) is read as float and
scaled to 16-bit here. libsndfile's own float-to-int16 conversion does not scale unless asked to, so
reading a float WAV as int16 gives all zeros: the silence an editor's default export used to become.
Channels and rate are kept; the recognizer downmixes and resamples as it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.errors import AudioFileError
from voice_trainer.speech.interfaces import Recognition, Recognizer

BLOCK_MS = 200  # what one read and one recognizer call take; bounds the memory a file of any length uses
MIN_RATE_HZ = 4000  # below this no speech survives (telephone audio is 8 kHz)
MAX_CHANNELS = 64
HINT = "give a WAV, FLAC or OGG file"


@dataclass(frozen=True)
class AudioFileInfo:
    path: Path
    rate_hz: int
    channels: int
    frames: int
    format: str  # e.g. "WAV (Microsoft), 32 bit float"

    @property
    def duration_ms(self) -> float:
        return 1000.0 * self.frames / self.rate_hz


class AudioFileReader:
    """An open audio file, read front to back in blocks; the whole file is never in memory."""

    def __init__(self, path: Path):
        import soundfile

        self.path = Path(path)
        self.where = _short(self.path)  # how messages name the file
        _check_is_a_file(self.path)
        try:
            self._file = soundfile.SoundFile(str(self.path))
        except Exception as err:  # libsndfile's errors share no base class across versions
            raise AudioFileError(f"{self.where}: cannot read it as audio ({_reason(err)}); {HINT}") from None
        try:
            self.info = self._checked_info()
        except AudioFileError:
            self._file.close()
            raise

    def _checked_info(self) -> AudioFileInfo:
        f = self._file
        info = AudioFileInfo(self.path, int(f.samplerate), int(f.channels), max(0, int(f.frames)),
                             f"{f.format_info}, {f.subtype_info}")
        if info.frames == 0:
            raise AudioFileError(f"{self.where}: the file holds no audio (0 samples); record or export it again")
        if info.rate_hz < MIN_RATE_HZ:
            raise AudioFileError(
                f"{self.where}: sample rate {info.rate_hz} Hz is too low to hold speech; give audio at 8000 Hz or more"
            )
        if not 1 <= info.channels <= MAX_CHANNELS:
            raise AudioFileError(f"{self.where}: {info.channels} channels; give mono or stereo audio")
        return info

    def blocks(self, block_ms: int = BLOCK_MS) -> Iterator[AudioChunk]:
        """16-bit blocks of at most `block_ms` each, in order, without timestamps (a file has no timeline)."""
        frames_per_block = max(1, self.info.rate_hz * block_ms // 1000)
        buffer = np.empty((frames_per_block, self.info.channels), dtype=np.float32)
        done = 0
        while True:
            try:
                got = self._file.read(frames_per_block, dtype="float32", always_2d=True, out=buffer)
            except Exception as err:
                at = _clock(1000.0 * done / self.info.rate_hz)
                raise AudioFileError(
                    f"{self.where}: reading stopped at {at} ({_reason(err)}); the file may be damaged or truncated"
                ) from None
            if len(got) == 0:
                break
            done += len(got)
            yield AudioChunk(to_pcm16(got), self.info.rate_hz, self.info.channels)
        if done == 0:
            raise AudioFileError(f"{self.where}: the file holds no readable audio; record or export it again")

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "AudioFileReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_audio_file(path: Path) -> AudioFileReader:
    """Opens and checks `path`; a file that is missing, not audio or empty fails here with one line."""
    return AudioFileReader(path)


def read_audio_file(path: Path) -> AudioChunk:
    """The whole file as one 16-bit chunk, channels and rate kept. For short files (one trainee turn)."""
    with open_audio_file(path) as reader:
        out = bytearray()
        for block in reader.blocks():
            out += block.audio
        return AudioChunk(bytes(out), reader.info.rate_hz, reader.info.channels)


def recognize_file(
    reader: AudioFileReader, recognizer: Recognizer, on_block: Callable[[AudioChunk], None] | None = None
) -> Recognition:
    """The whole file as one turn, streamed block by block as a live microphone would be; times from 0."""
    for block in reader.blocks():
        recognizer.accept(block)
        if on_block is not None:
            on_block(block)
    return recognizer.finish()


def to_pcm16(samples: np.ndarray) -> bytes:
    """Float samples (full scale ±1.0) as little-endian int16; out-of-range values clip, NaN is silence."""
    scaled = np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0) * 32768.0
    return np.clip(np.rint(scaled), -32768, 32767).astype("<i2").tobytes()


def _check_is_a_file(path: Path) -> None:
    where = _short(path)
    try:
        if path.is_dir():
            raise AudioFileError(f"{where}: is a folder, not an audio file; {HINT}")
        if not path.exists():
            raise AudioFileError(f"{where}: no such audio file; check the path")
        if not path.is_file():
            raise AudioFileError(f"{where}: not a regular file; {HINT}")
        if path.stat().st_size == 0:
            raise AudioFileError(f"{where}: the file is empty (0 bytes); {HINT}")
        with open(path, "rb"):
            pass
    except PermissionError as err:
        raise AudioFileError(f"{where}: cannot open it ({err.strerror}); check its permissions") from None
    except OSError as err:  # a name too long, a loop of links
        raise AudioFileError(f"{where}: cannot open it ({err.strerror or err}); check the path") from None


def _reason(err: Exception) -> str:
    text = (str(err).strip().splitlines() or [type(err).__name__])[0]
    if text.startswith("Error opening") and ": " in text:
        text = text.split(": ", 1)[1]
    return text.rstrip(". ")


def _clock(ms: float) -> str:
    seconds = int(ms // 1000)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _short(path: Path, limit: int = 120) -> str:
    text = str(path)
    return text if len(text) <= limit else f"{text[: limit // 2]}…{text[-limit // 2 :]}"
