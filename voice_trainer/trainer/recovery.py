"""Sessions that never finished (crash, Ctrl-C, `kill -9`): repair the recording, score what was said,
and mark them interrupted. Run at start-up; running it again changes nothing.

A session folder is finished when it has result.json. That file is written last here, so a recovery that
is itself interrupted is simply redone next time.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from voice_trainer.audio.recorder import is_complete, repair_wav
from voice_trainer.errors import VoiceTrainerError
from voice_trainer.events import SessionEnded, SessionStarted, stamp
from voice_trainer.scenario.loader import Scenario, load
from voice_trainer.session import build_result, rescore
from voice_trainer.session_log import (
    EVENTS_FILE,
    RECORDING_FILE,
    RESULT_FILE,
    SessionLog,
    read_events,
    write_json_atomic,
)
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
    recording_s: float | None = None  # duration of the repaired recording, None without one
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def recover_unfinished(data_dir: Path, scenario_loader: ScenarioLoader | None = None) -> list[RecoveredSession]:
    """Recover every session folder with an event log but no result. One bad folder never stops the rest."""
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
        recovered.append(_recover(folder, loader))
    return recovered


def _recover(folder: Path, loader: ScenarioLoader) -> RecoveredSession:
    try:
        events = read_events(folder)  # first, so a damaged folder is left exactly as it was
        recording_s = _repair_recording(folder)
        started = next((e for e in events if isinstance(e, SessionStarted)), None)
        if started is None:
            raise VoiceTrainerError(f"{folder / EVENTS_FILE}: no session_started event; the log is damaged")
        scenario = loader(_scenario_spec(started), started.lang)
        score, _ = rescore(scenario, events)
        if not any(isinstance(e, SessionEnded) for e in events):
            ended = stamp(SessionEnded(outcome=score.outcome, score=score.score, interrupted=True), events[-1].t_ms)
            _drop_torn_last_line(folder / EVENTS_FILE)
            log = SessionLog(folder)
            try:
                log.write(ended)
            finally:
                log.close()
            events.append(ended)
        result = build_result(events, score, folder)
        result["interrupted"] = True
        write_transcript(folder, events)
        write_json_atomic(folder / RESULT_FILE, result)
        return RecoveredSession(folder, started.session_id, score.outcome, score.score, recording_s)
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


def _repair_recording(folder: Path) -> float | None:
    path = folder / RECORDING_FILE
    return repair_wav(path) if path.is_file() else None


def _repair_recording_quietly(folder: Path) -> None:
    path = folder / RECORDING_FILE
    try:
        if path.is_file() and not is_complete(path):
            repair_wav(path)
    except VoiceTrainerError:
        pass  # a finished session with a broken recording is the report's problem, not start-up's


def _drop_torn_last_line(path: Path) -> None:
    """Make sure the next appended event starts on its own line.

    A kill mid-write leaves a last line without its newline; appending to it would glue our event onto
    the fragment and turn a tolerated torn line into a damaged log.
    """
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    cut = data.rfind(b"\n") + 1
    try:
        json.loads(data[cut:].decode("utf-8"))
        whole = True
    except ValueError:
        whole = False
    with open(path, "r+b") as f:
        if whole:  # only the newline is missing
            f.seek(0, os.SEEK_END)
            f.write(b"\n")
        else:
            f.truncate(cut)
        f.flush()
        os.fsync(f.fileno())
