"""What one viewer may see and change of the session library. The role rules live here and nowhere else.

A trainee sees their own sessions and progress: an account's name is the trainee name the sessions
carry (`practice --trainee`), compared case-insensitively. A trainer sees everyone's and may correct a
turn. In local mode the person who started `voice-trainer review` owns the library and is a trainer.
Every view of a session or its recording, and every correction, goes to the audit log when there is one.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable, ContextManager, Protocol

from voice_trainer.errors import VoiceTrainerError
from voice_trainer.session_folder import SessionFolder
from voice_trainer.trainer.library import Library, SessionSummary

TRAINER = "trainer"
TRAINEE = "trainee"
_SESSION_ID = re.compile(r"^[\w.-]{1,120}$", re.UNICODE)
PLAY_COALESCE_S = 300.0  # a browser fetches a recording in many ranges; one play is one audit entry


class Forbidden(VoiceTrainerError):
    """The viewer may not see or do this (403)."""


class NotFound(VoiceTrainerError):
    """No such session, trainee or recording (404)."""


@dataclass(frozen=True)
class Viewer:
    name: str
    role: str
    local: bool = False  # the owner of a local library, signed in by the key in the URL

    @property
    def is_trainer(self) -> bool:
        return self.role == TRAINER

    def may_see(self, trainee: str) -> bool:
        return self.is_trainer or (bool(trainee) and trainee.casefold() == self.name.casefold())


class AuditLog(Protocol):
    def record(self, actor: str, action: str, target: str, detail: str = "") -> None: ...


@dataclass(frozen=True)
class Filters:
    trainee: str | None = None
    outcome: str | None = None
    since: date | None = None


@dataclass(frozen=True)
class ListPage:
    sessions: list[SessionSummary]
    total: int
    page: int
    pages: int
    trainees: list[str]
    outcomes: list[str]


class Catalog:
    """The library as the review site serves it. `open_library()` gives a library for one request."""

    def __init__(self, open_library: Callable[[], ContextManager[Library]], audit: AuditLog | None = None,
                 clock: Callable[[], float] = time.monotonic, sync_every_s: float | None = 2.0):
        self._open = open_library
        self._audit = audit
        self._clock = clock
        self._sync_every_s = sync_every_s
        self._synced_at = float("-inf")
        self._plays: dict[tuple[str, str], float] = {}
        self._plays_lock = threading.Lock()

    # --- reading ------------------------------------------------------------------------------------

    def list_page(self, viewer: Viewer, filters: Filters, page: int, page_size: int) -> ListPage:
        with self._open() as library:
            self._sync(library)
            if viewer.is_trainer:
                trainees = library.trainees()
                chosen = filters.trainee
            else:
                trainees = [t for t in library.trainees() if viewer.may_see(t)]
                chosen = filters.trainee if filters.trainee in trainees else None
                if not trainees:
                    return ListPage([], 0, 1, 1, [], [])
            sessions: list[SessionSummary] = []
            for name in ([chosen] if chosen else trainees if not viewer.is_trainer else [None]):
                sessions += library.list(trainee=name, since=filters.since, outcome=filters.outcome)
        outcomes = sorted({s.outcome for s in sessions})
        sessions.sort(key=lambda s: (s.started_at, s.session_id), reverse=True)
        pages = max(1, math.ceil(len(sessions) / page_size))
        page = min(max(1, page), pages)
        shown = sessions[(page - 1) * page_size: page * page_size]
        return ListPage(shown, len(sessions), page, pages, trainees, outcomes)

    def session(self, viewer: Viewer, session_id: str) -> SessionSummary:
        """The session, if the viewer may see it. NotFound / Forbidden otherwise."""
        if not _SESSION_ID.match(session_id):
            raise NotFound("no such session")
        with self._open() as library:
            try:
                summary = library.get(session_id)
            except VoiceTrainerError:
                raise NotFound("no such session") from None
            if summary.session_id != session_id:  # prefixes are for the command line; a URL names one session
                raise NotFound("no such session")
            if summary.folder.resolve().parent != library.sessions_dir.resolve():
                raise NotFound("no such session")
        if not viewer.may_see(summary.trainee):
            raise Forbidden("this session belongs to another trainee")
        return summary

    def report(self, viewer: Viewer, session_id: str, audio_src: str) -> str:
        from voice_trainer.trainer.report import render_report

        summary = self.session(viewer, session_id)
        self._record(viewer, "view-session", session_id)
        return render_report(summary.folder, "html", audio_src=audio_src if summary.has_recording else None)

    def recording(self, viewer: Viewer, session_id: str, playing: bool) -> Path:
        """The recording's file; `playing` (a GET, not a HEAD) writes one audit entry per viewer and play."""
        summary = self.session(viewer, session_id)
        path = SessionFolder(summary.folder).recording_path
        if not path.is_file():
            raise NotFound("this session has no recording")
        if playing and self._first_play(viewer, session_id):
            self._record(viewer, "play-recording", session_id)
        return path

    def turns(self, viewer: Viewer, session_id: str) -> list[tuple[int, str]]:
        """(number, text as it stands) of each trainee turn, for the correction form."""
        folder = SessionFolder(self.session(viewer, session_id).folder)
        return [(t.index, t.text) for t in folder.turns()]

    def progress(self, viewer: Viewer, trainee: str):
        from voice_trainer.trainer.progress import progress

        if not viewer.may_see(trainee):
            raise Forbidden("this is another trainee's progress")
        with self._open() as library:
            try:
                return progress(library, trainee)
            except VoiceTrainerError:
                raise NotFound("no scored sessions for this trainee") from None

    def _sync(self, library: Library) -> None:
        """Index sessions recorded since the last look (at most every few seconds: a sync reads every folder)."""
        if self._sync_every_s is None or self._clock() - self._synced_at < self._sync_every_s:
            return
        library.sync()
        self._synced_at = self._clock()

    # --- changing -----------------------------------------------------------------------------------

    def correct(self, viewer: Viewer, session_id: str, turn: int, text: str):
        """Record what the trainee really said in one turn and re-score (as `sessions fix`). Trainers only."""
        from voice_trainer.trainer.corrections import fix_turn

        if not viewer.is_trainer:
            raise Forbidden("only trainers correct turns")
        summary = self.session(viewer, session_id)
        if turn not in {n for n, _ in self.turns(viewer, session_id)}:
            raise NotFound(f"this session has no turn {turn}")
        diff = fix_turn(summary.folder, turn, text)
        with self._open() as library:
            library.index(summary.folder)
        self._record(viewer, "correct-turn", session_id,
                     f"turn {turn}: {' '.join(text.split())!r}; score {diff.score_before} -> {diff.score_after}")
        return diff

    # --- the audit log ------------------------------------------------------------------------------

    def record(self, viewer_name: str, action: str, target: str, detail: str = "") -> None:
        if self._audit is not None:
            self._audit.record(viewer_name, action, target, detail)

    def _record(self, viewer: Viewer, action: str, target: str, detail: str = "") -> None:
        self.record(viewer.name, action, target, detail)

    def _first_play(self, viewer: Viewer, session_id: str) -> bool:
        now = self._clock()
        key = (viewer.name, session_id)
        with self._plays_lock:
            last = self._plays.get(key)
            self._plays[key] = now
            if len(self._plays) > 10_000:
                self._plays = {k: v for k, v in self._plays.items() if v > now - PLAY_COALESCE_S}
        return last is None or now - last > PLAY_COALESCE_S
