"""What one viewer may see and change of the session library. The role rules live here and nowhere else.

A trainee sees their own sessions and progress: an account's name is the trainee name the sessions
carry (`practice --trainee`), compared case-insensitively. A trainer sees everyone's and may correct a
turn. In local mode the person who started `voice-trainer review` owns the library and is a trainer.
Every view of a session or its recording, and every correction, goes to the library's audit log.
"""

from __future__ import annotations

import heapq
import math
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

from voice_trainer.errors import SessionError, VoiceTrainerError
from voice_trainer.trainer.library import Library, LocalLibrary, SessionSummary

TRAINER = "trainer"
TRAINEE = "trainee"
_SESSION_ID = re.compile(r"^[\w.-]{1,120}$", re.UNICODE)
PLAY_COALESCE_S = 300.0  # a browser fetches a recording in many ranges while seeking; one play is one entry
SYNC_EVERY_S = 2.0  # local mode: new session folders show up in the list this soon
TRAINEES_EVERY_S = 2.0  # the trainee names (a scan of the whole library at a centre) are looked up this often


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
    trainees: list[str]  # the names the viewer may filter by
    outcomes: list[str]  # outcomes seen so far, offered while typing the outcome filter


class Catalog:
    """The library as the review site serves it, to many requests at once (the library is thread-safe)."""

    def __init__(self, library: Library, clock: Callable[[], float] = time.monotonic):
        self.library = library
        self._clock = clock
        self._sync_lock = threading.Lock()
        self._synced_at = float("-inf")
        self._plays: dict[tuple[str, str], float] = {}
        self._outcomes: set[str] = {"unfinished"}
        self._trainees: tuple[float, list[str]] = (float("-inf"), [])
        self._verified: dict[tuple[str, str], tuple[Path, int, int]] = {}
        self._lock = threading.Lock()

    # --- reading ------------------------------------------------------------------------------------

    def list_page(self, viewer: Viewer, filters: Filters, page: int, page_size: int) -> ListPage:
        """Newest first, one page. A trainee's names are those equal to the account's in any case."""
        self._sync()
        library = self.library
        trainees = self._trainee_names()
        if not viewer.is_trainer:
            trainees = [t for t in trainees if viewer.may_see(t)]
        if filters.trainee:
            names = [t for t in trainees if t == filters.trainee] if not viewer.is_trainer else [filters.trainee]
        else:
            names = [None] if viewer.is_trainer else trainees
        query = {"since": filters.since, "outcome": filters.outcome}
        total = sum(library.count(trainee=name, **query) for name in names)
        pages = max(1, math.ceil(total / page_size))
        page = min(max(1, page), pages)
        offset = (page - 1) * page_size
        if len(names) == 1:
            sessions = library.page(total, offset, page_size, names[0], newest_first=True, **query)
        else:  # one person under several spellings: merge their newest-first lists, then take the page
            lists = [library.list(trainee=name, offset=0, limit=offset + page_size, newest_first=True, **query)
                     for name in names]
            merged = heapq.merge(*lists, key=lambda s: (s.started_at, s.session_id), reverse=True)
            sessions = list(merged)[offset: offset + page_size]
        with self._lock:
            self._outcomes.update(s.outcome for s in sessions)
            outcomes = sorted(self._outcomes)
        return ListPage(sessions, total, page, pages, trainees, outcomes)

    def _trainee_names(self) -> list[str]:
        at, names = self._trainees
        if self._clock() - at >= TRAINEES_EVERY_S:
            names = self.library.trainees()
            self._trainees = (self._clock(), names)
        return names

    def session(self, viewer: Viewer, session_id: str) -> SessionSummary:
        """The session, if the viewer may see it. NotFound / Forbidden otherwise."""
        if not _SESSION_ID.match(session_id):
            raise NotFound("no such session")
        try:
            summary = self.library.get(session_id)
        except SessionError:
            raise NotFound("no such session") from None
        if summary.session_id != session_id:  # prefixes are for the command line; a URL names one session
            raise NotFound("no such session")
        if not viewer.may_see(summary.trainee):
            raise Forbidden("this session belongs to another trainee")
        return summary

    def report(self, viewer: Viewer, session_id: str, audio_src: str) -> str:
        from voice_trainer.trainer.report import render_report

        summary = self.session(viewer, session_id)
        self.record(viewer.name, "view session", session_id)
        source = self.library.open(summary.session_id)
        return render_report(source, "html", audio_src=audio_src if summary.has_recording else None)

    def recording(self, viewer: Viewer, session_id: str, playing: bool) -> Path:
        """The recording's file; `playing` (a GET, not a HEAD) writes one audit entry per viewer and play."""
        summary = self.session(viewer, session_id)
        path = self._recording_path(summary)
        if path is None:
            raise NotFound("this session has no recording")
        if playing and self._first_play(viewer, session_id):
            self.record(viewer.name, "play recording", session_id)
        return path

    def turns(self, viewer: Viewer, session_id: str) -> list[tuple[int, str]]:
        """(number, text as it stands) of each trainee turn, for the correction form."""
        summary = self.session(viewer, session_id)
        return [(t.index, t.text) for t in self.library.open(summary.session_id).turns()]

    def progress(self, viewer: Viewer, trainee: str):
        from voice_trainer.trainer.progress import progress

        if not viewer.may_see(trainee):
            raise Forbidden("this is another trainee's progress")
        self._sync()
        try:
            return progress(self.library, trainee)  # finds "Anna"'s sessions for /progress/anna
        except SessionError:
            raise NotFound("no scored sessions for this trainee") from None

    # --- changing -----------------------------------------------------------------------------------

    def correct(self, viewer: Viewer, session_id: str, turn: int, text: str):
        """Record what the trainee really said in one turn and re-score (as `sessions fix`). Trainers only."""
        from voice_trainer.trainer.corrections import fix_turn

        if not viewer.is_trainer:
            raise Forbidden("only trainers correct turns")
        summary = self.session(viewer, session_id)
        source = self.library.open(summary.session_id)
        if turn not in {t.index for t in source.turns()}:
            raise NotFound(f"this session has no turn {turn}")
        diff = fix_turn(source, turn, text)
        if isinstance(self.library, LocalLibrary):
            self.library.index(summary.folder)  # the index row follows the folder, as after `sessions fix`
        self.record(viewer.name, "fix turn", session_id,
                    f"turn {turn}: {' '.join(text.split())!r}; score {diff.score_before} -> {diff.score_after}")
        return diff

    # --- the audit log ------------------------------------------------------------------------------

    def record(self, actor: str, action: str, target: str, detail: str = "") -> None:
        self.library.audit.record(actor, action, target, detail)

    def audit_entries(self, viewer: Viewer, limit: int) -> list:
        if not viewer.is_trainer:
            raise Forbidden("only trainers read the audit log")
        return self.library.audit.entries(limit=limit)

    # --- housekeeping -------------------------------------------------------------------------------

    def _sync(self) -> None:
        """Local mode: index session folders recorded since the last look (a sync reads every folder's
        signature, so at most every few seconds, and never two at once)."""
        if not isinstance(self.library, LocalLibrary) or self._clock() - self._synced_at < SYNC_EVERY_S:
            return
        if not self._sync_lock.acquire(blocking=False):
            return
        try:
            self.library.sync()
            self._synced_at = self._clock()
        finally:
            self._sync_lock.release()

    def _recording_path(self, summary: SessionSummary) -> Path | None:
        """The library checks a centre recording's checksum; a browser asks for one recording in many
        ranges, so a file checked once is trusted until its size or time changes."""
        key = (summary.session_id, summary.recording_sha256)
        with self._lock:
            known = self._verified.get(key)
        if known is not None:
            path, size, mtime_ns = known
            try:
                st = os.stat(path)
                if (st.st_size, st.st_mtime_ns) == (size, mtime_ns):
                    return path
            except OSError:
                pass
        path = self.library.recording(summary)
        if path is None or not path.is_file():
            return None
        st = path.stat()
        with self._lock:
            if len(self._verified) > 10_000:
                self._verified.clear()
            self._verified[key] = (path, st.st_size, st.st_mtime_ns)
        return path

    def _first_play(self, viewer: Viewer, session_id: str) -> bool:
        now = self._clock()
        key = (viewer.name, session_id)
        with self._lock:
            last = self._plays.get(key)
            self._plays[key] = now
            if len(self._plays) > 10_000:
                self._plays = {k: v for k, v in self._plays.items() if v > now - PLAY_COALESCE_S}
        return last is None or now - last > PLAY_COALESCE_S

