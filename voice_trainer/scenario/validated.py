"""Scenarios validated earlier, kept on disk: a repeated launch skips parsing, validating and checking a
file it has already found valid (a fifth of a second before the customer can say his first word).

An entry is named by a hash of the file's text and of everything that decides what that text validates to:
the sources of this package (schema, checks, loader), the Python version, and the installed pydantic,
pydantic-core and PyYAML. A changed file or a changed program is a miss, never a stale scenario. An entry
is written whole to a temporary name and renamed into place, and read back only if its header, name and
checksum agree: a torn, foreign or unreadable entry is a miss (and removed), never an error. Only valid
files are kept; an invalid one is loaded in full every time, so its errors read exactly as they always do.

The entry is a pickle of the validated `ScenarioFile`, so it is read only from a folder that this user
owns and nobody else can write to; any other folder is no cache at all.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pickle
import struct
import sys
import tempfile
from pathlib import Path

from voice_trainer.scenario.schema import ScenarioFile

APP_NAME = "voice-trainer"

_MAGIC = b"VTSCEN1\n"
# magic, sha256 of the entry's key, payload length in bytes, blake2b-256 of the payload
_HEADER = struct.Struct(f"<{len(_MAGIC)}s32sQ32s")
# What validation depends on besides the file: PyYAML reads it, pydantic checks it.
_LIBRARIES = ("yaml", "pydantic", "pydantic_core")
_PACKAGE_DIR = Path(__file__).resolve().parent


def default_cache_dir() -> Path:
    """The platform's user cache dir (~/.cache/voice-trainer/scenarios on Linux)."""
    import platformdirs

    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "scenarios"


class ValidatedScenarios:
    """`get(text)` -> the `ScenarioFile` validated from this text earlier, or None; `put(text, data)` keeps it."""

    def __init__(self, folder: Path | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_dir()

    def get(self, text: str) -> ScenarioFile | None:
        key = _key(text)
        path = self._path(key)
        if not _private(self.folder):
            return None
        try:
            entry = path.read_bytes()
        except OSError:
            return None
        data = _decode(entry, key)
        if data is None:
            _remove(path)  # torn, foreign or from another program: validated again and rewritten
        return data

    def put(self, text: str, data: ScenarioFile) -> None:
        key = _key(text)
        try:
            payload = pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a scenario that will not pickle is simply validated every time
            return
        header = _HEADER.pack(_MAGIC, key, len(payload), _digest(payload))
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not _private(self.folder):
                return
            fd, tmp = tempfile.mkstemp(prefix=".part-", dir=self.folder)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(header)
                    f.write(payload)
                os.replace(tmp, self._path(key))  # readers see no entry or the whole new one
            except BaseException:
                _remove(Path(tmp))
                raise
        except OSError:
            pass  # a full or read-only disk: the file is validated again next time

    def _path(self, key: bytes) -> Path:
        return self.folder / f"{key.hex()[:40]}.scenario"


def _decode(entry: bytes, key: bytes) -> ScenarioFile | None:
    if len(entry) < _HEADER.size:
        return None
    magic, entry_key, length, digest = _HEADER.unpack_from(entry)
    payload = entry[_HEADER.size:]
    if magic != _MAGIC or entry_key != key or length != len(payload) or digest != _digest(payload):
        return None
    try:
        data = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - whatever is wrong with it, the file is validated again
        return None
    return data if isinstance(data, ScenarioFile) else None


def _key(text: str) -> bytes:
    return hashlib.sha256(_program() + text.encode("utf-8")).digest()


_PROGRAM: bytes | None = None


def _program() -> bytes:
    """A digest of what turns a file's text into a validated scenario, other than the text."""
    global _PROGRAM
    if _PROGRAM is None:
        h = hashlib.sha256(sys.version.encode())
        for source in sorted(_PACKAGE_DIR.glob("*.py")):
            h.update(source.name.encode() + b"\0" + source.read_bytes())
        for name in _LIBRARIES:
            h.update(_installed(name).encode())
        _PROGRAM = h.digest()
    return _PROGRAM


def _installed(name: str) -> str:
    """Where a library is installed and when, without importing it: an upgrade changes this."""
    try:
        spec = importlib.util.find_spec(name)
        origin = Path(spec.origin) if spec and spec.origin else None
        if origin is None:
            return f"{name}:none"
        stat = origin.stat()
        return f"{name}:{origin}:{stat.st_size}:{stat.st_mtime_ns}"
    except (OSError, ImportError, ValueError):
        return f"{name}:unknown"


def _private(folder: Path) -> bool:
    """Owned by this user and writable by nobody else (the entries are pickles: loading one runs code)."""
    try:
        st = folder.stat()
    except OSError:
        return False
    return st.st_uid == os.getuid() and not st.st_mode & 0o022


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=32).digest()


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
