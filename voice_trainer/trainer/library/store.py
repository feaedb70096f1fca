"""The centre's shared recordings store: a folder on a network share, one file per session.

    <store>/recordings/<yyyy>/<mm>/<session id>.wav

A recording is copied in under a temporary name, flushed to disk, then renamed: a reader never sees half a
file, and a copy cut off by a dropped network leaves only a temporary file (swept later). Its SHA-256 is
taken while copying and kept in the database; every read checks it.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from pathlib import Path

from voice_trainer.errors import SessionError
from voice_trainer.trainer.library.interface import Recordings, SessionSummary, StoredRecording

CHUNK_BYTES = 1 << 20
STALE_TEMP_S = 24 * 3600  # a temporary file this old belongs to a copy that will never finish
_SAFE_NAME = re.compile(r"^[\w.-]{1,200}$", re.UNICODE)


class RecordingError(SessionError):
    """A recording in the store is missing or does not match its checksum."""


class RecordingStore(Recordings):
    """Recordings by name under one root folder (the share); names come from the database, never a URL."""

    folders_are_truth = False

    def __init__(self, root: Path):
        self.root = Path(root)
        self.recordings_dir = self.root / "recordings"

    def check(self) -> None:
        """OSError-free: RecordingError when the store cannot be used (share not mounted, no permission)."""
        if not self.root.is_dir():
            raise RecordingError(f"{self.root}: the recordings store is not there (is the share mounted?)")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise RecordingError(f"{self.root}: the recordings store cannot be written; check the share's permissions")

    # --- writing -----------------------------------------------------------------------------------

    def put(self, source: Path, session_id: str, started_utc: str) -> StoredRecording:
        """Copy a recording in (atomically); the same recording put twice is one file. OSError on failure."""
        if not _SAFE_NAME.match(session_id):
            raise RecordingError(f"session id {session_id[:40]!r} cannot name a file in the store")
        name = f"{started_utc[:4]}/{started_utc[5:7]}/{session_id}.wav"
        target = self.recordings_dir / name
        _make_dirs(target.parent)
        temp = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        digest = hashlib.sha256()
        size = 0
        try:
            with open(source, "rb") as src:
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
                with os.fdopen(fd, "wb") as out:
                    while chunk := src.read(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            sha = digest.hexdigest()
            if target.is_file() and target.stat().st_size == size and file_sha256(target) == sha:
                temp.unlink()  # an earlier attempt got this far
            else:
                os.replace(temp, target)
                _fsync_dir(target.parent)
        except BaseException:
            try:
                temp.unlink()
            except OSError:
                pass
            raise
        return StoredRecording(name, sha, size)

    def remove_name(self, name: str) -> None:
        path = self._path(name)
        try:
            path.unlink()
        except FileNotFoundError:
            pass

    def sweep(self, older_than_s: float = STALE_TEMP_S) -> int:
        """Remove temporary files of copies that never finished."""
        removed = 0
        now = time.time()
        if not self.recordings_dir.is_dir():
            return 0
        for temp in self.recordings_dir.glob("*/*/.*.tmp"):
            try:
                if now - temp.stat().st_mtime > older_than_s:
                    temp.unlink()
                    removed += 1
            except OSError:
                pass
        return removed

    # --- reading -----------------------------------------------------------------------------------

    def verified(self, name: str, sha256: str) -> Path:
        """The recording's path once its content matches the checksum taken when it was published."""
        path = self._path(name)
        try:
            found = file_sha256(path)
        except FileNotFoundError:
            raise RecordingError(f"{path}: the recording is missing from the store (is the share mounted?)") from None
        except OSError as err:
            raise RecordingError(f"{path}: cannot read the recording ({err.strerror}); check the share") from None
        if found != sha256:
            raise RecordingError(f"{path}: the recording does not match its checksum (changed or damaged since it "
                                 "was published); restore it from the backup")
        return path

    def _path(self, name: str) -> Path:
        parts = name.split("/")
        if len(parts) != 3 or not all(_SAFE_NAME.match(p) and p not in (".", "..") for p in parts):
            raise RecordingError(f"{name[:80]!r} is not a recording name of this store")
        return self.recordings_dir.joinpath(*parts)

    # --- as the library's Recordings ---------------------------------------------------------------

    def path(self, summary: SessionSummary) -> Path | None:
        if not summary.recording_name:
            return None
        return self.verified(summary.recording_name, summary.recording_sha256)

    def remove(self, summary: SessionSummary) -> None:
        if summary.recording_name:
            self.remove_name(summary.recording_name)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _make_dirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o750)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some network file systems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)
