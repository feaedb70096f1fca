"""Rendered customer lines kept on disk, so a repeated launch plays his opening without waiting for eSpeak.

One file per rendered sentence, named by a hash of everything that shapes its audio (text, voice,
rate, volume, pitch, sample rate, eSpeak NG and pyttsx3 versions). A file is written whole to a
temporary name and renamed into place, and read back only if its header, key and checksum agree:
a torn or foreign file is a miss (and removed), never an error. The folder is bounded: past
`max_bytes` the least recently used files go. Any disk trouble just means rendering as before.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from pathlib import Path

from voice_trainer.audio.chunk import AudioChunk

APP_NAME = "voice-trainer"
DEFAULT_MAX_BYTES = 64 * 1024 * 1024  # ~25 minutes of speech at 22050 Hz

_MAGIC = b"VTLINE1\n"
# magic, sha256 of the key, rate in Hz, payload length in bytes, blake2b-256 of the payload
_HEADER = struct.Struct(f"<{len(_MAGIC)}s32sIQ32s")


def default_cache_dir() -> Path:
    """The platform's user cache dir (~/.cache/voice-trainer/lines on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "lines"


class LineCache:
    """`get(key)` -> the audio rendered for `key` earlier, or None; `put(key, audio)` keeps it."""

    def __init__(self, folder: Path, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.folder = Path(folder)
        self.max_bytes = max_bytes

    def get(self, key: str) -> AudioChunk | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError:
            return None
        audio = _decode(data, _key_digest(key))
        if audio is None:
            _remove(path)  # torn or foreign: rendered again and rewritten
            return None
        try:
            os.utime(path)  # recently used: kept when the folder is trimmed
        except OSError:
            pass
        return audio

    def put(self, key: str, audio: AudioChunk) -> None:
        if audio.channels != 1 or audio.width != 2 or not audio.audio:
            return
        payload = audio.audio
        header = _HEADER.pack(_MAGIC, _key_digest(key), audio.rate_hz, len(payload), _payload_digest(payload))
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".part-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(header)
                    f.write(payload)
                os.replace(tmp, self._path(key))  # readers see the old file or the whole new one
            except BaseException:
                _remove(Path(tmp))
                raise
            self._trim()
        except OSError:
            pass  # a full or read-only disk: the line is simply rendered next time too

    def _path(self, key: str) -> Path:
        return self.folder / f"{_key_digest(key).hex()[:40]}.line"

    def _trim(self) -> None:
        files = []
        for path in self.folder.glob("*.line"):
            try:
                st = path.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, path))
        total = sum(size for _, size, _ in files)
        if total <= self.max_bytes:
            return
        for _, size, path in sorted(files, key=lambda f: f[0]):  # least recently used first
            _remove(path)
            total -= size
            if total <= self.max_bytes * 3 // 4:  # some room, so not every new line trims again
                return


def _decode(data: bytes, key_digest: bytes) -> AudioChunk | None:
    if len(data) < _HEADER.size:
        return None
    magic, digest, rate_hz, length, checksum = _HEADER.unpack_from(data)
    payload = data[_HEADER.size:]
    if magic != _MAGIC or digest != key_digest or length != len(payload) or length % 2 or not 0 < rate_hz < 1_000_000:
        return None
    if _payload_digest(payload) != checksum:
        return None
    return AudioChunk(payload, rate_hz)


def _key_digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _payload_digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=32).digest()


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass
