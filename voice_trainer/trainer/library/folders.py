"""Session folders read into library records, whatever state they are in.

A folder is read as far as it can be: lines of the log that are not events are skipped and counted, a
torn or invalid result.json is rebuilt from the log (the log is the truth, as recovery does for
unfinished sessions), and what could not be read becomes the session's `damage`, shown wherever it is
listed. One damaged folder never hides the others.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from voice_trainer.errors import SessionError, VoiceTrainerError
from voice_trainer.events import Event, SessionEnded, SessionStarted, duration_s, to_json
from voice_trainer.session_folder import SessionFolder, SessionResult
from voice_trainer.trainer.library.interface import (
    UNFINISHED,
    Library,
    RubricMark,
    SessionRecord,
    SessionSummary,
    SyncReport,
)

_ID_TIME = re.compile(r"^(\d{8})-(\d{6})-")


@dataclass(frozen=True)
class FolderRead:
    """A folder as read: the record, and whether result.json was rebuilt (and written back)."""

    record: SessionRecord
    rebuilt: bool = False


def summarize(folder: Path | SessionFolder) -> SessionSummary:
    """The library row of one session folder, read as far as it can be."""
    return read_folder(folder, write=False).record.summary


def read_folder(folder: Path | SessionFolder, *, write: bool = True, station: str = "") -> FolderRead:
    """Read one session folder. SessionError only if it is not a session folder at all (no log).

    `write=False` never writes (a read-only data dir): a rebuilt result is used but not saved."""
    folder = folder if isinstance(folder, SessionFolder) else SessionFolder(folder)
    if not folder.is_session():
        raise SessionError(f"{folder.path}: not a session folder (no events.jsonl)")
    timeline = folder.read()
    events = timeline.events
    problems = [f"events.jsonl line {s.line}: {s.reason}" for s in timeline.skipped[:3]]
    if len(timeline.skipped) > 3:
        problems.append(f"{len(timeline.skipped) - 3} more damaged lines")
    if timeline.skipped:
        problems.insert(0, f"{len(timeline.skipped)} damaged line{'s' if len(timeline.skipped) > 1 else ''} skipped")
    started = next((e for e in events if isinstance(e, SessionStarted)), None)
    if started is None:
        problems.insert(0, "no session_started event")
    result, rebuilt, result_problem = _result(folder, events, started, write)
    if result_problem:
        problems.append(result_problem)
    summary = summary_of(events, result, folder.path, has_recording=folder.has_recording,
                         damage="; ".join(problems), station=station)
    record = SessionRecord(summary, [to_json(e) for e in events], result, folder_signature(folder))
    return FolderRead(record, rebuilt)


def _result(folder: SessionFolder, events: list[Event], started: SessionStarted | None,
            write: bool) -> tuple[dict[str, Any] | None, bool, str]:
    """(result, rebuilt?, problem). A result.json that cannot be read is rebuilt from the log."""
    if not folder.has_result:
        return None, False, ""
    try:
        return folder.result().data, False, ""  # type: ignore[union-attr]
    except SessionError as err:
        reason = str(err)
    if started is None:
        return None, False, f"result.json unreadable and the log has no start to rebuild it from ({reason})"
    try:
        result = rebuild_result(folder, events, started)
    except (VoiceTrainerError, Exception) as err:  # noqa: BLE001 - one odd folder must not stop the listing
        why = str(err) if isinstance(err, VoiceTrainerError) else f"{type(err).__name__}: {err}"
        return None, False, f"result.json unreadable and could not be rebuilt ({why})"
    if write:
        try:
            folder.write_result(result)
        except OSError:
            pass  # read-only: the rebuilt result is still used
    return result, True, ""


def rebuild_result(folder: SessionFolder, events: list[Event], started: SessionStarted) -> dict[str, Any]:
    """The result as the session would have written it, scored again from its log."""
    from voice_trainer.session import build_result, rescore

    scenario = folder.scenario(started)
    score, _ = rescore(scenario, events)
    result = build_result(events, score, folder.path)
    ended = next((e for e in reversed(events) if isinstance(e, SessionEnded)), None)
    result["interrupted"] = bool(ended.interrupted) if ended else True
    SessionResult.from_json(result)  # what is written must read back
    return result


def summary_of(events: list[Event], result: dict[str, Any] | None, folder: Path | None, *,
               has_recording: bool, damage: str = "", station: str = "") -> SessionSummary:
    """A library row from a timeline and its result (either may be partial)."""
    started = next((e for e in events if isinstance(e, SessionStarted)), None) or SessionStarted()
    ended = next((e for e in reversed(events) if isinstance(e, SessionEnded)), None)
    session_id = started.session_id or (folder.name if folder is not None else "")
    parsed = None
    if result is not None:
        try:
            parsed = SessionResult.from_json(result)
        except ValueError as err:
            damage = "; ".join(p for p in (damage, f"result: {err}") if p)
    if parsed is None:
        outcome, score, success, items = UNFINISHED, None, None, ()
        interrupted = bool(ended and ended.interrupted) if ended else True
    else:
        outcome, score, success = parsed.outcome, parsed.score, parsed.success
        interrupted = parsed.interrupted
        items = tuple(RubricMark(i.id, i.title, i.met) for i in parsed.rubric)
    return SessionSummary(
        session_id=session_id, folder=folder, trainee=started.trainee,
        started_at=started.started_at or _time_from_id(session_id), scenario=started.scenario,
        lang=started.lang, persona=started.persona, policy=started.policy, mode=started.mode, outcome=outcome,
        score=score, interrupted=interrupted, duration_s=duration_s(events), items=items,
        has_recording=has_recording, success=success, damage=damage, station=station,
    )


def _time_from_id(session_id: str) -> str:
    """A damaged log without its start still has the time in its id (see new_session_id)."""
    found = _ID_TIME.match(session_id)
    if not found:
        return ""
    try:
        moment = datetime.strptime(found.group(1) + found.group(2), "%Y%m%d%H%M%S")
    except ValueError:
        return ""
    return moment.replace(tzinfo=timezone.utc).astimezone().isoformat(timespec="milliseconds")


def folder_signature(folder: SessionFolder) -> str:
    parts = []
    for path in (folder.events_path, folder.result_path, folder.recording_path):
        try:
            st = path.stat()
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            parts.append("-")
    return "|".join(parts)


def index_folders(library: Library, sessions_dir: Path, *, write: bool = True, station: str = "") -> SyncReport:
    """Bring the local index up to the session folders: new or changed ones read, vanished ones dropped."""
    known = library.signatures()
    indexed, errors, seen = 0, [], set()
    try:
        folders = sorted(p for p in sessions_dir.iterdir() if p.is_dir()) if sessions_dir.is_dir() else []
    except OSError as err:
        raise SessionError(f"{sessions_dir}: cannot list the sessions ({err.strerror}); check permissions") from None
    for path in folders:
        seen.add(str(path))
        folder = SessionFolder(path)
        if not folder.is_session():
            errors.append((path, f"{path}: not a session folder (no events.jsonl); left alone"))
            continue
        if known.get(str(path), ("", None))[1] == folder_signature(folder):
            continue
        try:
            read = read_folder(folder, write=write, station=station)
        except SessionError as err:
            errors.append((path, str(err)))
            continue
        if read.record.summary.damage:
            errors.append((path, f"{read.record.session_id}: damaged ({read.record.summary.damage}); listed as damaged"))
        old = known.get(str(path))
        if old and old[0] != read.record.session_id:
            library.forget(old[0])
        library.put(read.record, replace=True)
        indexed += 1
    gone = [(folder, sid) for folder, (sid, _) in known.items() if folder not in seen]
    for _, session_id in gone:
        library.forget(session_id)
    return SyncReport(indexed=indexed, errors=errors, removed=len(gone))
