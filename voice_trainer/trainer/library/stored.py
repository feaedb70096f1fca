"""A session as the centre's library holds it, read and corrected like a session folder.

The report, corrections and re-scoring take a `SessionFolder` or a `StoredSession`: the same reading
methods (`read`, `events`, `started`, `turns`, `result`, `scenario`, the recording) and the same two
writes (`append` an event, `write_result`), here into the database instead of files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from voice_trainer.errors import SessionError
from voice_trainer.events import Event, SessionStarted, Turn, from_json, to_json, turns_from
from voice_trainer.session_folder import SessionResult, SkippedLine, Timeline

if TYPE_CHECKING:
    from voice_trainer.scenario.loader import Scenario
    from voice_trainer.trainer.library.interface import Library, SessionSummary


class StoredSession:
    def __init__(self, library: "Library", summary: "SessionSummary"):
        self.library = library
        self.summary = summary
        self._record = None

    def __repr__(self) -> str:
        return f"StoredSession({self.id!r} in {self.library.location})"

    def __str__(self) -> str:
        return f"session {self.id}"

    @property
    def id(self) -> str:
        return self.summary.session_id

    @property
    def path(self) -> Path | None:
        """The folder on the station that recorded it (not necessarily on this machine)."""
        return self.summary.folder

    def _loaded(self):
        if self._record is None:
            self._record = self.library.record(self.id)
        return self._record

    # --- reading, as SessionFolder ------------------------------------------------------------------

    def read(self) -> Timeline:
        events, skipped = [], []
        for n, data in enumerate(self._loaded().events, 1):
            try:
                events.append(from_json(data))
            except ValueError as err:  # stored by an older or newer voice-trainer
                skipped.append(SkippedLine(n, str(err)))
        return Timeline(events, tuple(skipped))

    def events(self) -> list[Event]:
        timeline = self.read()
        if timeline.skipped:
            first = timeline.skipped[0]
            raise SessionError(f"{self}: stored event {first.line} is unreadable ({first.reason})")
        return timeline.events

    def started(self, events: list[Event] | None = None) -> SessionStarted:
        found = next((e for e in (self.events() if events is None else events) if isinstance(e, SessionStarted)), None)
        if found is None:
            raise SessionError(f"{self}: no session_started event; the session is damaged")
        return found

    def turns(self, events: list[Event] | None = None) -> list[Turn]:
        return turns_from(self.events() if events is None else events)

    def result(self) -> SessionResult | None:
        data = self._loaded().result
        if data is None:
            return None
        try:
            return SessionResult.from_json(data)
        except ValueError as err:
            raise SessionError(f"{self}: stored result unreadable ({err}); re-score it with "
                               "'voice-trainer sessions rescore --save'") from None

    def scored_result(self) -> SessionResult:
        result = self.result()
        if result is None:
            raise SessionError(f"{self}: the session was never scored")
        return result

    def scenario(self, started: SessionStarted | None = None) -> "Scenario":
        """The scenario of that name and language on this machine (the station's file may not be here)."""
        from voice_trainer.scenario.loader import load, load_file

        started = started or self.started()
        if started.scenario_file and Path(started.scenario_file).is_file():
            return load_file(Path(started.scenario_file))
        return load(started.scenario, started.lang)

    @property
    def has_recording(self) -> bool:
        return self.summary.has_recording

    @property
    def has_result(self) -> bool:
        return self._loaded().result is not None

    @property
    def recording_path(self) -> Path:
        """The recording in the shared store, its checksum verified (RecordingError if it does not match)."""
        path = self.library.recording(self.summary)
        if path is None:
            raise SessionError(f"{self}: has no recording")
        return path

    # --- writing, as SessionFolder ------------------------------------------------------------------

    def append(self, event: Event) -> None:
        self.library.append_event(self.id, to_json(event))
        self._record = None

    def write_result(self, result: dict[str, Any]) -> None:
        self.summary = self.library.write_result(self.id, result)
        self._record = None

    def open_log(self) -> None:
        pass

    def sync(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> "StoredSession":
        return self

    def __exit__(self, *exc: object) -> None:
        pass
