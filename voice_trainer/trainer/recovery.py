"""Sessions that never finished (crash, Ctrl-C, `kill -9`): repair the recording, score what was said,
and mark them interrupted. Run at start-up; running it again changes nothing.

A session folder is finished when it has result.json. That file is written last here, so a recovery that
is itself interrupted is simply redone next time. A folder whose event log is locked (flock) belongs to a
session still running in another process and is left alone.
"""

from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voice_trainer.audio.recorder import is_complete, repair_wav
from voice_trainer.errors import VoiceTrainerError
from voice_trainer.events import SessionEnded, SessionStarted, stamp, to_json
from voice_trainer.scenario.loader import Scenario, load
from voice_trainer.session import build_result, rescore
from voice_trainer.session_log import EVENTS_FILE, RECORDING_FILE, RESULT_FILE, read_events, write_json_atomic
from voice_trainer.settings import sessions_dir
from voice_trainer.transcript import write_transcript

ScenarioLoader = Callable[[str, str], Scenario]


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


def recover_unfinished(data_dir: Path, scenario_loader: ScenarioLoader | None = None) -> list[RecoveredSession]:
    """Recover every session folder with an event log but no result. One bad folder never stops the rest.

    `scenario_loader(spec, lang)` defaults to the scenario loader; spec is the file the session ran if it
    still exists, else the scenario's name.
    """
    root = sessions_dir(Path(data_dir))
    if not root.is_dir():
        return []
    loader = scenario_loader or load
    recovered = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        if not (folder / EVENTS_FILE).is_file():
            continue
        if (folder / RESULT_FILE).exists():
            _repair_recording_quietly(folder)  # killed after the result but before the recording was closed
            continue
        outcome = _recover_if_not_running(folder, loader)
        if outcome is not None:
            recovered.append(outcome)
    return recovered


def _recover_if_not_running(folder: Path, loader: ScenarioLoader) -> RecoveredSession | None:
    try:
        fd = os.open(folder / EVENTS_FILE, os.O_RDWR | os.O_APPEND)
    except OSError as err:
        return RecoveredSession(folder, folder.name, error=f"{folder / EVENTS_FILE}: cannot open ({err.strerror})")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live session (or another recovery) holds it
        return _recover(folder, fd, loader)
    finally:
        os.close(fd)  # also releases the lock


def _recover(folder: Path, log_fd: int, loader: ScenarioLoader) -> RecoveredSession:
    try:
        events = read_events(folder)  # first, so a damaged folder is left exactly as it was
        started = next((e for e in events if isinstance(e, SessionStarted)), None)
        if started is None:
            raise VoiceTrainerError(f"{folder / EVENTS_FILE}: no session_started event; the log is damaged")
        recording_s, recording_problem = _repair_recording(folder)
        scenario = loader(_scenario_spec(started), started.lang)
        score, _ = rescore(scenario, events)
        if not any(isinstance(e, SessionEnded) for e in events):
            ended = stamp(SessionEnded(outcome=score.outcome, score=score.score, interrupted=True), events[-1].t_ms)
            _drop_torn_last_line(log_fd)
            os.write(log_fd, (json.dumps(to_json(ended), ensure_ascii=False) + "\n").encode("utf-8"))
            os.fsync(log_fd)
            events.append(ended)
        result = build_result(events, score, folder)
        result["interrupted"] = True
        write_transcript(folder, events)
        write_json_atomic(folder / RESULT_FILE, result)
        return RecoveredSession(
            folder, started.session_id, score.outcome, score.score, recording_s, recording_problem
        )
    except Exception as err:  # noqa: BLE001 - one odd folder must not stop start-up or the other recoveries
        message = (
            str(err) if isinstance(err, VoiceTrainerError)
            else f"{folder}: cannot recover this session ({type(err).__name__}: {err}); it stays unfinished"
        )
        return RecoveredSession(folder, folder.name, error=message)


def _scenario_spec(started: SessionStarted) -> str:
    """The scenario file the session ran, if it is still there; else the scenario's name."""
    if started.scenario_file and Path(started.scenario_file).is_file():
        return started.scenario_file
    return started.scenario


def _repair_recording(folder: Path) -> tuple[float | None, str | None]:
    """(duration in seconds, problem). A recording that cannot be repaired does not stop the recovery:
    what the trainee said is in the event log."""
    path = folder / RECORDING_FILE
    if not path.is_file():
        return None, None
    try:
        return repair_wav(path), None
    except VoiceTrainerError as err:
        return None, str(err)


def _repair_recording_quietly(folder: Path) -> None:
    path = folder / RECORDING_FILE
    try:
        if path.is_file() and not is_complete(path):
            repair_wav(path)
    except VoiceTrainerError:
        pass  # a finished session with a broken recording is the report's problem, not start-up's


def _drop_torn_last_line(fd: int) -> None:
    """Make sure the next appended event starts on its own line.

    A kill mid-write leaves a last line without its newline; appending to it would glue our event onto
    the fragment and turn a tolerated torn line into a damaged log.
    """
    size = os.fstat(fd).st_size
    data = os.pread(fd, size, 0)
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:].decode("utf-8"))
        os.write(fd, b"\n")  # only the newline is missing
    except ValueError:
        os.ftruncate(fd, cut)
