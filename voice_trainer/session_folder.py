"""One session on disk, and the only code that reads or writes one.

    <data dir>/sessions/<session id>/
        events.jsonl     the timeline, one event per line, append-only: the truth
        result.json      the score, the rubric and the turns, written when the session ends
        recording.wav    left: the trainee's microphone, right: the customer's voice, on the session timeline
        transcript.json  what was said and when, derived from the timeline
        .reserve         room set aside while the session runs (see RESERVE_BYTES); gone when it ends

The session writes through it as the call goes; the library, the report, corrections, recovery and
export read through it. Like sqlite-utils' `Table`: one object for one thing on disk, with its
reading and its appending.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import secrets
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from voice_trainer.errors import DiskFull, SessionError, room_advice, room_problem
from voice_trainer.events import Event, SessionEnded, SessionStarted, Turn, from_json, to_json, turns_from
from voice_trainer.records import read_record
from voice_trainer.settings import ensure_private_dir, sessions_dir

if TYPE_CHECKING:
    from voice_trainer.scenario.loader import Scenario

EVENTS_FILE = "events.jsonl"
RESULT_FILE = "result.json"
RECORDING_FILE = "recording.wav"
TRANSCRIPT_FILE = "transcript.json"
RESERVE_FILE = ".reserve"

# Room set aside on disk while a session runs. When the disk fills mid-call, it is given back so the
# session can still log what was being written, its end, its result and its transcript (a long call's
# result and transcript are well under 200 KB): the session ends marked interrupted at once, not at the
# next start, and a disk already too full for it refuses to start a session rather than lose one.
RESERVE_BYTES = 1 << 20

# The session recording's rate: speech needs no more, and the recognizer works at 16 kHz.
RECORDING_RATE_HZ = 16000


def new_session_id(trainee: str, now: datetime) -> str:
    slug = re.sub(r"[^\w-]+", "-", trainee.strip().lower(), flags=re.UNICODE).strip("-")[:24] or "anon"
    return f"{now:%Y%m%d-%H%M%S}-{slug}-{secrets.token_hex(3)}"


class SessionBusy(SessionError):
    """Another process (a session still running, or a recovery) holds the session's log."""


# --- what a folder holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedLine:
    """A line of the log that could not be read as an event, and why."""

    line: int
    reason: str


@dataclass(frozen=True)
class Timeline:
    """A session's log as read: the events, and the lines that had to be skipped.

    A last line cut off mid-write (the process was killed) is expected and not counted as damage."""

    events: list[Event]
    skipped: tuple[SkippedLine, ...] = ()
    torn_tail: bool = False

    @property
    def damaged(self) -> bool:
        return bool(self.skipped)


@dataclass(frozen=True)
class ResultItem:
    """One rubric item as scored."""

    id: str
    title: str = ""
    phase: str = ""
    phase_title: str = ""
    points: float = 0.0
    met: bool = False
    said: str = ""
    praise: str = ""
    suggestion: str = ""


@dataclass(frozen=True)
class ResultPenalty:
    flag: str = ""
    title: str = ""
    times: int = 0
    points: float = 0.0
    suggestion: str = ""


@dataclass(frozen=True)
class ResultTurn:
    """What the scoring understood of one turn (the report shows these moves and states)."""

    turn: int
    moves: tuple[str, ...] = ()
    state: str = ""


@dataclass(frozen=True)
class SessionResult:
    """result.json, typed. `data` is the whole file as read, so rewriting it never drops a field."""

    outcome: str
    score: int
    success: bool | None = None
    interrupted: bool = False
    start_anger: float | None = None
    rubric: tuple[ResultItem, ...] = ()
    penalties: tuple[ResultPenalty, ...] = ()
    turns: tuple[ResultTurn, ...] = ()
    rescored: dict | None = None
    data: dict = field(default_factory=dict, compare=False, repr=False)
    # Why result.json was not used and this result was rebuilt from the log; None when read from the file.
    rebuilt: str | None = field(default=None, compare=False)

    @classmethod
    def from_json(cls, data: Any, where: str = RESULT_FILE, rebuilt: str | None = None) -> "SessionResult":
        """ValueError naming the field when something has the wrong type."""
        if not isinstance(data, dict):
            raise ValueError(f"{where} is not a JSON object")
        result = read_record(cls, {k: v for k, v in data.items() if k not in ("data", "rebuilt")}, where)
        object.__setattr__(result, "data", data)
        object.__setattr__(result, "rebuilt", rebuilt)
        return result

    def turn(self, index: int) -> ResultTurn | None:
        return next((t for t in self.turns if t.turn == index), None)


# --- the folder ------------------------------------------------------------------------------------


class SessionFolder:
    """`SessionFolder(path)` opens an existing session; `SessionFolder.create(data_dir, id)` starts a new one."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._fd: int | None = None
        self._appended = False
        self._reserve: Path | None = None
        self._when_full: list[Callable[[], None]] = []
        self.full: DiskFull | None = None  # the disk filled: the room set aside is being used up

    @classmethod
    def create(cls, data_dir: Path, session_id: str) -> "SessionFolder":
        """A new private folder whose log this process holds (locked) until `close()`, with room set aside
        for its end. DiskFull, leaving nothing behind, when there is no room to start a session."""
        root = ensure_private_dir(sessions_dir(data_dir))
        folder = cls(root / session_id)
        if folder.path.exists():
            raise SessionError(f"{folder.path}: a session of that id exists already; start again")
        try:
            ensure_private_dir(folder.path)
            folder.open_log()
            folder._set_aside()
        except DiskFull as err:
            folder.discard()
            raise DiskFull(
                f"{root}: {err.reason}, no session was started and nothing was saved; {err.advice}",
                root, err.os_error, err.reason,
            ) from None
        except BaseException:
            folder.discard()
            raise
        return folder

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"SessionFolder({str(self.path)!r})"

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def events_path(self) -> Path:
        return self.path / EVENTS_FILE

    @property
    def result_path(self) -> Path:
        return self.path / RESULT_FILE

    @property
    def recording_path(self) -> Path:
        return self.path / RECORDING_FILE

    @property
    def transcript_path(self) -> Path:
        return self.path / TRANSCRIPT_FILE

    def is_session(self) -> bool:
        return self.events_path.is_file()

    @property
    def has_recording(self) -> bool:
        return self.recording_path.is_file()

    @property
    def has_result(self) -> bool:
        return self.result_path.exists()

    # --- reading ------------------------------------------------------------------------------------

    def read(self) -> Timeline:
        """Every readable event; lines that are not events are skipped and listed, never fatal."""
        try:
            raw = self.events_path.read_bytes()
        except FileNotFoundError:
            raise SessionError(f"{self.path}: no {EVENTS_FILE}; this is not a session folder") from None
        except OSError as err:
            raise SessionError(f"{self.events_path}: cannot read the log ({err.strerror}); check permissions") from None
        lines = raw.split(b"\n")
        last = max((n for n, line in enumerate(lines, 1) if line.strip()), default=0)
        events: list[Event] = []
        skipped: list[SkippedLine] = []
        torn = False
        for n, line in enumerate(lines, 1):
            text = line.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                events.append(from_json(json.loads(text)))
            except (ValueError, RecursionError) as err:
                if n == last:
                    torn = True  # killed mid-write
                else:
                    skipped.append(SkippedLine(n, str(err) or type(err).__name__))
        return Timeline(events, tuple(skipped), torn)

    def events(self) -> list[Event]:
        """The timeline. SessionError if a line other than a torn last one cannot be read."""
        timeline = self.read()
        if timeline.skipped:
            first = timeline.skipped[0]
            raise SessionError(f"{self.events_path}:{first.line}: unreadable event ({first.reason}); the log is damaged")
        return timeline.events

    def started(self, events: list[Event] | None = None) -> SessionStarted:
        found = next((e for e in (self.events() if events is None else events) if isinstance(e, SessionStarted)), None)
        if found is None:
            raise SessionError(f"{self.events_path}: no session_started event; the log is damaged")
        return found

    def turns(self, events: list[Event] | None = None) -> list[Turn]:
        return turns_from(self.events() if events is None else events)

    def result(self) -> SessionResult | None:
        """result.json, or None while the session is unfinished. SessionError if it is unreadable."""
        path = self.result_path
        if not path.exists():
            return None
        hint = "re-score it with 'voice-trainer sessions rescore'"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as err:
            raise SessionError(f"{path}: unreadable result ({err}); {hint}") from None
        if not isinstance(data, dict):
            raise SessionError(f"{path}: result is not a JSON object; the file is damaged")
        try:
            return SessionResult.from_json(data)
        except ValueError as err:
            raise SessionError(f"{path}: {err}; the file is damaged, {hint}") from None

    def result_or_rebuilt(self) -> SessionResult:
        """result.json when it reads; else the result rebuilt from the log, which is the truth: `rebuilt`
        then says why (no result.json, torn, a field of the wrong type). Writes nothing, so it also
        serves a read-only data dir. SessionError when the log cannot give a result either."""
        try:
            result = self.result()
            why = None if result is not None else f"no {RESULT_FILE}"
        except SessionError as err:
            result, why = None, str(err)
        if result is not None:
            return result
        return SessionResult.from_json(self.rebuild_result(), rebuilt=why)

    def rebuild_result(self) -> dict[str, Any]:
        """The result as the session would have written it, from what its log holds (damaged lines
        skipped): the trainee's turns (with trainers' corrections) re-scored through the session's
        scenario, as recovery does. A log that never reached its end makes an interrupted result.
        SessionError when there is no session_started event or no scenario to score with."""
        from voice_trainer.errors import VoiceTrainerError
        from voice_trainer.session import build_result, rescore  # the dialogue core: only when needed

        events = self.read().events
        started = self.started(events)
        try:
            score, _ = rescore(self.scenario(started), events)
        except VoiceTrainerError as err:
            raise SessionError(f"{self.path}: cannot rebuild the result from the log: {err}") from None
        except Exception as err:  # noqa: BLE001 - an odd log must give one line, not stop a listing
            raise SessionError(
                f"{self.path}: cannot rebuild the result from the log ({type(err).__name__}: {err})"
            ) from None
        result = build_result(events, score, self.path)
        ended = next((e for e in reversed(events) if isinstance(e, SessionEnded)), None)
        result["interrupted"] = ended is None or ended.interrupted
        return result

    def scored_result(self) -> SessionResult:
        result = self.result()
        if result is None:
            raise SessionError(
                f"{self.path}: no {RESULT_FILE}; the session was never scored (finish or recover it first)"
            )
        return result

    def scenario(self, started: SessionStarted | None = None) -> "Scenario":
        """The scenario file the session ran if it is still there, else the scenario of that name and
        language. ScenarioError if neither can be loaded."""
        from voice_trainer.scenario.loader import load, load_file

        started = started or self.started()
        if started.scenario_file and Path(started.scenario_file).is_file():
            return load_file(Path(started.scenario_file))
        return load(started.scenario, started.lang)

    # --- writing ------------------------------------------------------------------------------------

    def open_log(self) -> None:
        """Hold the log for appending. SessionBusy if another process holds it (a running session).

        The lock lasts until `close()`: start-up recovery in another process leaves a held log alone."""
        if self._fd is not None:
            return
        try:
            fd = os.open(self.events_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as err:
            if room_problem(err):
                raise self._full(err, self.events_path, "opening the session log") from None
            raise SessionError(f"{self.events_path}: cannot open the log ({err.strerror}); check permissions") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SessionBusy(
                f"{self.path}: the session is in use by another voice-trainer; try again when it ends"
            ) from None
        self._fd = fd
        self._appended = False

    def append(self, event: Event) -> None:
        """One event, one line, written at once: a kill loses nothing already appended.

        A write that finds the disk full leaves the log as it was, gives back the room set aside and
        tries once more: the event is logged and `full` tells the session to end (`when_full` callbacks
        hear it first). DiskFull when even that fails; every event appended before is still whole."""
        self.open_log()
        data = (json.dumps(to_json(event), ensure_ascii=False) + "\n").encode("utf-8")
        try:
            self._write_line(data)
        except OSError as err:
            if not room_problem(err):
                raise SessionError(f"{self.events_path}: cannot write the log ({err.strerror})") from None
            full = self._full(err, self.events_path, "writing the session log")
            if not self.release_reserve():
                raise full from None
            try:
                self._write_line(data)
            except OSError:
                raise full from None
            self._found_full(full)

    def _write_line(self, data: bytes) -> None:
        fd = self._fd
        assert fd is not None
        if not self._appended:
            _end_with_newline(fd)
            self._appended = True
        size = os.fstat(fd).st_size
        try:
            while data:
                data = data[os.write(fd, data):]
        except OSError:
            os.ftruncate(fd, size)  # no half line: the log stays as it was (shrinking needs no room)
            raise

    def when_full(self, callback: Callable[[], None]) -> None:
        """`callback()` once, as soon as a write finds the disk full (the recorder stops, leaving the
        room set aside to the session's end)."""
        self._when_full.append(callback)

    def _found_full(self, full: DiskFull) -> None:
        if self.full is None:
            self.full = full
            for callback in self._when_full:
                callback()

    def _full(self, err: OSError, path: Path, doing: str) -> DiskFull:
        return DiskFull(f"{path}: {room_problem(err)} while {doing}; {room_advice(err)}", path, err)

    def sync(self) -> None:
        if self._fd is not None:
            try:
                os.fsync(self._fd)
            except OSError as err:
                if room_problem(err):
                    raise self._full(err, self.events_path, "writing the session log") from None
                raise SessionError(f"{self.events_path}: cannot write the log ({err.strerror})") from None

    def close(self) -> None:
        """Release the log (and its lock) and the room set aside."""
        self.release_reserve()
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def _set_aside(self) -> None:
        """Take RESERVE_BYTES of the disk for the session's end. DiskFull when the disk has not that much."""
        path = self.path / RESERVE_FILE
        fd = None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.posix_fallocate(fd, 0, RESERVE_BYTES)
        except OSError as err:
            if fd is not None:
                os.close(fd)
            path.unlink(missing_ok=True)
            if err.errno == errno.EFBIG:
                return  # a file size limit, not a full disk: room set aside would not help
            if room_problem(err):
                reason = f"{room_problem(err)} (less than {RESERVE_BYTES / 1e6:.1f} MB free)"
                raise DiskFull(f"{self.path}: {reason}", self.path, err, reason) from None
            raise SessionError(f"{self.path}: cannot write there ({err.strerror}); give a --data-dir you can write to") from None
        os.close(fd)
        self._reserve = path

    def release_reserve(self) -> bool:
        """Give the room set aside back to the disk; False if there was none."""
        path, self._reserve = self._reserve, None
        if path is None:
            return False
        path.unlink(missing_ok=True)
        return True

    def discard(self) -> None:
        """Remove a session that never got going (no room to start it, killed before its first event):
        nothing of it stays on disk for later commands to stumble on."""
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def drop_leftover_reserve(self) -> None:
        """The room a killed session had set aside goes back to the disk."""
        (self.path / RESERVE_FILE).unlink(missing_ok=True)

    def __enter__(self) -> "SessionFolder":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write_result(self, result: dict[str, Any]) -> None:
        self._write_json(self.result_path, result)

    def write_transcript(self, events: list[Event]) -> Path:
        from voice_trainer.transcript import transcript

        self._write_json(self.transcript_path, transcript(events))
        return self.transcript_path

    def _write_json(self, path: Path, data: Any) -> None:
        """Whole or not at all; on a full disk, once more in the room set aside for the session's end."""
        try:
            write_json_atomic(path, data)
        except DiskFull as full:
            if not self.release_reserve():
                raise
            self._found_full(full)
            write_json_atomic(path, data)


def write_json_atomic(path: Path, data: Any) -> None:
    """Whole or not at all: written beside, synced, then renamed over. DiskFull (the old file and no
    temporary left) when there is no room; other OSErrors as they come."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False, indent=2)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        if room_problem(err):
            raise DiskFull(f"{path}: {room_problem(err)} while writing it; {room_advice(err)}", path, err) from None
        raise


def _end_with_newline(fd: int) -> None:
    """Make sure the next appended event starts on its own line.

    A kill mid-write leaves a last line without its newline; appending to it would glue the next event
    onto the fragment and turn a tolerated torn line into a damaged log.
    """
    size = os.fstat(fd).st_size
    if size == 0:
        return
    data = os.pread(fd, size, 0)
    if data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:].decode("utf-8"))
        os.write(fd, b"\n")  # only the newline is missing
    except ValueError:
        os.ftruncate(fd, cut)
