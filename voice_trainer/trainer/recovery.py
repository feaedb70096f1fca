"""Sessions that never finished (crash, Ctrl-C, `kill -9`): repair the recording, score what was said,
and mark them interrupted. Run at start-up; running it again changes nothing.

A session folder is finished when it has result.json. That file is written last here, so a recovery that
is itself interrupted is simply redone next time. A folder whose event log is locked (flock) belongs to a
session still running in another process and is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voice_trainer.errors import VoiceTrainerError
from voice_trainer.events import SessionEnded, stamp
from voice_trainer.session_folder import SessionBusy, SessionFolder
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

    @property
    def ok(self) -> bool:
        return self.error is None


def recover_sessions(data_dir: Path, say: Callable[[str], None]) -> None:
    """Recover what a crash left unfinished and say so, one line per session (before any command)."""
    for found in recover_unfinished(data_dir):
        if found.ok:
            say(f"recovered interrupted session {found.session_id} ({found.outcome}, score {found.score})")
        else:
            say(f"could not recover {found.folder}: {found.error}")


def recover_unfinished(data_dir: Path) -> list[RecoveredSession]:
    """Recover every session folder with an event log but no result. One bad folder never stops the rest."""
    root = sessions_dir(Path(data_dir))
    if not root.is_dir():
        return []
    recovered = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        folder = SessionFolder(path)
        if not folder.is_session():
            continue
        if folder.has_result:
            _repair_recording_quietly(folder)  # killed after the result but before the recording was closed
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


def _recover(folder: SessionFolder) -> RecoveredSession:
    from voice_trainer.session import build_result, rescore  # the dialogue core: only when there is work

    try:
        events = folder.events()  # first, so a damaged folder is left exactly as it was
        started = folder.started(events)
        recording_s, recording_problem = _repair_recording(folder)
        score, _ = rescore(folder.scenario(started), events)
        if not any(isinstance(e, SessionEnded) for e in events):
            ended = stamp(SessionEnded(outcome=score.outcome, score=score.score, interrupted=True), events[-1].t_ms)
            folder.append(ended)
            folder.sync()
            events.append(ended)
        result = build_result(events, score, folder.path)
        result["interrupted"] = True
        folder.write_transcript(events)
        folder.write_result(result)
        return RecoveredSession(
            folder.path, started.session_id, score.outcome, score.score, recording_s, recording_problem
        )
    except Exception as err:  # noqa: BLE001 - one odd folder must not stop start-up or the other recoveries
        message = (
            str(err) if isinstance(err, VoiceTrainerError)
            else f"{folder}: cannot recover this session ({type(err).__name__}: {err}); it stays unfinished"
        )
        return RecoveredSession(folder.path, folder.id, error=message)


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


def _repair_recording_quietly(folder: SessionFolder) -> None:
    from voice_trainer.audio.recorder import is_complete, repair_wav

    try:
        if folder.has_recording and not is_complete(folder.recording_path):
            repair_wav(folder.recording_path)
    except VoiceTrainerError:
        pass  # a finished session with a broken recording is the report's problem, not start-up's
