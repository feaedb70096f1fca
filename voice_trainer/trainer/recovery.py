"""Sessions that never finished (crash, Ctrl-C, `kill -9`, a full disk): repair the recording, score what
was said, and mark them interrupted. A result.json left torn is rebuilt from the log. Run at start-up;
running it again changes nothing.

A session folder is finished when it has result.json. That file is written last here, so a recovery that
is itself interrupted is simply redone next time. A folder whose event log is locked (flock) belongs to a
session still running in another process and is left alone. A data dir that cannot be written (a
read-only disk or share) is left as it is: the commands that read it still work.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voice_trainer.errors import VoiceTrainerError
from voice_trainer.events import SessionEnded, stamp
from voice_trainer.session_folder import RESERVE_FILE, SessionBusy, SessionFolder
from voice_trainer.settings import sessions_dir


@dataclass(frozen=True)
class RecoveredSession:
    """One unfinished session found at start-up: what it was scored, or why it could not be recovered."""

    folder: Path
    session_id: str = ""
    outcome: str | None = None
    score: int | None = None
    recording_s: float | None = None  # duration of the repaired recording; None without a usable one
    recording_problem: str | None = None  # the recording could not be repaired (the session still is)
    error: str | None = None  # the session could not be recovered and stays unfinished
    finished: bool = False  # it had ended; only its torn result.json was rebuilt

    @property
    def ok(self) -> bool:
        return self.error is None


def recover_sessions(data_dir: Path, say: Callable[[str], None]) -> None:
    """Recover what a crash left unfinished and say so, one line per session (before any command)."""
    for found in recover_unfinished(data_dir):
        if found.ok and found.finished:
            say(f"rebuilt the damaged result of session {found.session_id} from its log "
                f"({found.outcome}, score {found.score})")
        elif found.ok:
            say(f"recovered interrupted session {found.session_id} ({found.outcome}, score {found.score})")
        else:
            say(f"could not recover {found.folder}: {found.error}")


def recover_unfinished(data_dir: Path) -> list[RecoveredSession]:
    """Recover every session folder with an event log but no result (or a torn one). One bad folder never
    stops the rest."""
    root = sessions_dir(Path(data_dir))
    if not root.is_dir() or not os.access(root, os.W_OK):
        return []
    recovered = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        folder = SessionFolder(path)
        if not folder.is_session():
            continue
        if folder.has_result and not _is_torn(folder.result_path):
            _tidy_finished(folder)  # killed after the result but before the recording was closed
            continue
        outcome = _recover_if_not_running(folder)
        if outcome is not None:
            recovered.append(outcome)
    return recovered


def _recover_if_not_running(folder: SessionFolder) -> RecoveredSession | None:
    try:
        folder.open_log()
    except SessionBusy:
        return None  # a live session (or another recovery) holds it
    except VoiceTrainerError as err:
        return RecoveredSession(folder.path, folder.id, error=str(err))
    try:
        return _recover(folder)
    finally:
        folder.close()  # also releases the lock


def _is_torn(path: Path) -> bool:
    """A result.json cut short or zero-filled: cheap enough for every session at every start (a wrong
    type inside a whole file is the reader's to find: `SessionFolder.result_or_rebuilt`)."""
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
            size = os.fstat(f.fileno()).st_size
            f.seek(max(0, size - 64))
            tail = f.read().rstrip()
    except OSError:
        return False  # unreadable is not torn; the reader says why
    return not (head.startswith(b"{") and tail.endswith(b"}"))


def _recover(folder: SessionFolder) -> RecoveredSession | None:
    """Score what the log holds (damaged lines skipped, never rewritten), then repair the recording, log
    the end and write the result. A folder that cannot be scored is left exactly as it was; one killed
    before its first event (nothing in it) is removed without a word."""
    try:
        timeline = folder.read()
        if _nothing_in_it(folder, timeline):
            if time.time() - folder.events_path.stat().st_mtime >= 60:
                folder.discard()  # killed between making the folder and its first event
            return None  # else a session starting this instant in another process, not locked yet
        started = folder.started(timeline.events)
        result = folder.rebuild_result()
    except Exception as err:  # noqa: BLE001 - one odd folder must not stop start-up or the other recoveries
        return RecoveredSession(folder.path, folder.id, error=_why_not(folder, err))
    torn = folder.has_result  # it ended and wrote a result that is now torn: the log says how it ended
    try:
        recording_s, recording_problem = _repair_recording(folder)
        if not any(isinstance(e, SessionEnded) for e in timeline.events):
            last_ms = max((e.t_ms for e in timeline.events), default=0.0)
            folder.append(stamp(SessionEnded(outcome=result["outcome"], score=result["score"], interrupted=True), last_ms))
            folder.sync()
        if not torn:
            result["interrupted"] = True
        folder.write_transcript(folder.read().events)
        folder.write_result(result)
        folder.drop_leftover_reserve()
    except Exception as err:  # noqa: BLE001
        return RecoveredSession(folder.path, folder.id, error=_why_not(folder, err))
    return RecoveredSession(
        folder.path, started.session_id, result["outcome"], result["score"], recording_s, recording_problem,
        finished=torn,
    )


def _why_not(folder: SessionFolder, err: Exception) -> str:
    message = (
        str(err) if isinstance(err, VoiceTrainerError)
        else f"{folder}: cannot recover this session ({type(err).__name__}: {err}); it stays unfinished"
    )
    try:
        damage = folder.read().skipped
    except VoiceTrainerError:
        damage = ()
    if damage:
        first = damage[0]
        message = f"{folder.events_path}:{first.line}: unreadable event ({first.reason}); the log is damaged: {message}"
    return message


def _repair_recording(folder: SessionFolder) -> tuple[float | None, str | None]:
    """(duration in seconds, problem). A recording that cannot be repaired does not stop the recovery:
    what the trainee said is in the event log."""
    from voice_trainer.audio.recorder import repair_wav

    if not folder.has_recording:
        return None, None
    try:
        return repair_wav(folder.recording_path), None
    except VoiceTrainerError as err:
        return None, str(err)


def _nothing_in_it(folder: SessionFolder, timeline) -> bool:
    """No event, no result and no audio."""
    from voice_trainer.audio.recorder import HEADER_BYTES

    if timeline.events or timeline.skipped or folder.has_result:
        return False
    recording = folder.recording_path
    return not recording.exists() or recording.stat().st_size <= HEADER_BYTES


def _tidy_finished(folder: SessionFolder) -> None:
    """A finished session killed before it closed its recording or gave back its room: complete both."""
    from voice_trainer.audio.recorder import is_complete, repair_wav

    try:
        if folder.has_recording and not is_complete(folder.recording_path):
            repair_wav(folder.recording_path)
    except VoiceTrainerError:
        pass  # a finished session with a broken recording is the report's problem, not start-up's
    if (folder.path / RESERVE_FILE).exists():
        try:
            folder.open_log()  # not while it is still closing
            folder.drop_leftover_reserve()
        except VoiceTrainerError:
            pass
        finally:
            folder.close()
