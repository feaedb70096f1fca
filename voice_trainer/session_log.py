"""A session folder: the append-only JSONL event log, written as things happen, and result.json at the end."""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from voice_trainer.errors import SessionError
from voice_trainer.events import Event, from_json, to_json
from voice_trainer.settings import ensure_private_dir, sessions_dir

EVENTS_FILE = "events.jsonl"
RESULT_FILE = "result.json"
RECORDING_FILE = "recording.wav"
TRANSCRIPT_FILE = "transcript.json"


def new_session_id(trainee: str, now: datetime) -> str:
    slug = re.sub(r"[^\w-]+", "-", trainee.strip().lower(), flags=re.UNICODE).strip("-")[:24] or "anon"
    return f"{now:%Y%m%d-%H%M%S}-{slug}-{secrets.token_hex(3)}"


class SessionLog:
    """Writes one event per line and flushes at once: a kill loses nothing already written."""

    def __init__(self, folder: Path):
        self.folder = ensure_private_dir(folder)
        fd = os.open(folder / EVENTS_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        # Held while the session runs: start-up recovery in another process leaves a locked log alone.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._file = os.fdopen(fd, "a", encoding="utf-8")

    @classmethod
    def create(cls, data_dir: Path, session_id: str) -> "SessionLog":
        return cls(ensure_private_dir(sessions_dir(data_dir)) / session_id)

    def write(self, event: Event) -> None:
        self._file.write(json.dumps(to_json(event), ensure_ascii=False) + "\n")
        self._file.flush()

    def write_result(self, result: dict[str, Any]) -> None:
        write_json_atomic(self.folder / RESULT_FILE, result)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def write_json_atomic(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_events(folder: Path) -> list[Event]:
    """The timeline of a session folder. A torn last line (killed mid-write) is skipped, not fatal."""
    path = folder / EVENTS_FILE
    if not path.is_file():
        raise SessionError(f"{folder}: no {EVENTS_FILE}; this is not a session folder")
    return list(_parse(path))


def _parse(path: Path) -> Iterator[Event]:
    with path.open(encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            yield from_json(json.loads(line))
        except (ValueError, TypeError) as err:
            if n == len(lines):
                return  # torn final line
            raise SessionError(f"{path}:{n}: unreadable event ({err}); the log is damaged") from None
