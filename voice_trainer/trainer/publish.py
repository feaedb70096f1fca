"""Stations publish their sessions to the centre; nothing recorded waits on the network.

A session is written on the station first, as always. When it ends it is published: its recording copied
into the shared store (atomically, checksummed), then its row, timeline and result inserted in one
transaction with the checksum. Only then is `published.json` written into the session folder. Publishing
is idempotent: an id the centre already has (or has deleted) is never inserted again, so a retry after a
dropped connection, a kill or a second station syncing the same folder changes nothing.

If the database or the share cannot be reached, the call has already ended normally; one line says so
and the session stays in the backlog, which `voice-trainer sessions sync` (and every later start)
pushes. Interrupted sessions recovered at start are in that backlog too.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterator

from voice_trainer.errors import SessionError, VoiceTrainerError
from voice_trainer.session_folder import SessionBusy, SessionFolder
from voice_trainer.settings import sessions_dir
from voice_trainer.trainer.library.interface import UNFINISHED, LibraryError, SessionRecord, SessionSummary
from voice_trainer.trainer.printable import printable

PUBLISHED_FILE = "published.json"
Say = Callable[[str], None]


@dataclass
class PublishOutcome:
    published: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # the centre had them (an earlier attempt got through)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (session id, why)

    def line(self) -> str:
        parts = [f"published {len(self.published)} sessions"]
        if self.already:
            parts.append(f"{len(self.already)} were already at the centre")
        if self.failed:
            parts.append(f"{len(self.failed)} could not be published ({printable(self.failed[0][1])}); "
                         "run 'voice-trainer sessions sync' again")
        return "; ".join(parts)


def connect_centre(centre):
    """The centre's library (CentreSettings in, CentreLibrary out); LibraryError if it cannot be reached."""
    from voice_trainer.trainer.library.centre import CentreLibrary

    return CentreLibrary(centre.database, centre.recordings, connect_timeout_s=centre.connect_timeout_s)


# --- one session ------------------------------------------------------------------------------------


def is_published(folder: SessionFolder) -> bool:
    return (folder.path / PUBLISHED_FILE).is_file()


def publish_folder(centre, folder: SessionFolder, station: str) -> str:
    """Publish one finished session: 'published', or 'already' if the centre has (or deleted) it.

    LibraryError / OSError when the centre or the share fails; nothing is marked then, so it is retried."""
    from voice_trainer.trainer.library.folders import read_folder

    record = read_folder(folder, station=station).record
    summary = record.summary
    if summary.outcome == UNFINISHED and not summary.damage:
        raise SessionError(f"{summary.session_id}: not finished yet; it is published once it ends or is recovered")
    if centre.find(summary.session_id) is not None or centre.was_deleted(summary.session_id):
        _mark(folder, centre, summary)
        return "already"
    if folder.has_recording:
        centre.store.check()
        stored = centre.store.put(folder.recording_path, summary.session_id, record.started_utc)
        summary = replace(summary, recording_name=stored.name, recording_sha256=stored.sha256,
                          recording_bytes=stored.bytes)
    summary = replace(summary, station=station)
    inserted = centre.put(SessionRecord(summary, record.events, record.result))
    _mark(folder, centre, summary)
    return "published" if inserted else "already"


def _mark(folder: SessionFolder, centre, summary: SessionSummary) -> None:
    from voice_trainer.session_folder import write_json_atomic

    write_json_atomic(folder.path / PUBLISHED_FILE, {
        "session_id": summary.session_id,
        "centre": centre.location,
        "published_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "recording": summary.recording_name or None,
        "recording_sha256": summary.recording_sha256 or None,
    })


# --- the backlog ------------------------------------------------------------------------------------


def backlog(data_dir: Path) -> list[SessionFolder]:
    """Finished sessions on this machine not yet published (oldest first)."""
    root = sessions_dir(Path(data_dir))
    if not root.is_dir():
        return []
    found = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        folder = SessionFolder(path)
        if folder.is_session() and folder.has_result and not is_published(folder):
            found.append(folder)
    return found


def publish_backlog(settings, centre, say: Say, strict: bool = False) -> PublishOutcome:
    """Publish every finished session of this machine the centre does not have yet.

    A failure is one line and the rest is still tried (a damaged folder does not block the others); with
    the centre gone mid-way the remaining sessions simply stay in the backlog."""
    outcome = PublishOutcome()
    for folder in backlog(settings.data_dir):
        try:
            with _held(folder):
                result = publish_folder(centre, folder, settings.centre.station)
        except SessionBusy:
            continue  # its call is still running; it publishes itself when it ends
        except (VoiceTrainerError, OSError) as err:
            why = str(err) if isinstance(err, VoiceTrainerError) else f"{err.strerror or err} ({folder.path})"
            outcome.failed.append((folder.id, why))
            if isinstance(err, LibraryError):
                break  # the database went away: the others would fail the same way
            continue
        (outcome.published if result == "published" else outcome.already).append(folder.id)
    if outcome.failed and not strict:
        say(f"{len(outcome.failed)} sessions could not be published to the centre yet "
            f"({printable(outcome.failed[0][1])}); 'voice-trainer sessions sync' will push them")
    centre.store.sweep()
    return outcome


@contextmanager
def _held(folder: SessionFolder) -> Iterator[None]:
    """Hold the session's log while publishing: a call still running (or a recovery) is left alone, and
    two processes never publish the same folder at once."""
    folder.open_log()
    try:
        yield
    finally:
        folder.close()


# --- after a call -------------------------------------------------------------------------------------


def after_call(data_dir: Path, folder: Path, say: Say) -> None:
    """Index the finished session here and, at a centre, publish it and what earlier calls left behind.
    Never raises: the session is safe on this machine whatever the network does."""
    from voice_trainer.config import cli_settings

    try:
        from voice_trainer.trainer.library import LocalLibrary

        with LocalLibrary(data_dir) as library:
            library.index(folder)
    except (VoiceTrainerError, OSError) as err:
        say(f"the session library was not updated ({err}); `voice-trainer sessions list` will pick it up")
    try:
        settings = cli_settings(data_dir)
    except VoiceTrainerError as err:
        say(f"the session was not published: {err}")
        return
    if settings is None or not settings.centre.enabled:
        return
    session_id = Path(folder).name
    try:
        with connect_centre(settings.centre) as centre:
            finished = SessionFolder(folder)
            try:
                with _held(finished):
                    publish_folder(centre, finished, settings.centre.station)
            except SessionBusy:
                pass  # a `sessions sync` elsewhere is publishing it right now
            publish_backlog(settings, centre, say)
    except (VoiceTrainerError, OSError) as err:
        why = str(err) if isinstance(err, VoiceTrainerError) else f"{err.strerror or err}"
        say(f"session {session_id} is saved on this machine but not published to the centre yet ({why}); "
            "'voice-trainer sessions sync' will publish it")


# --- retention ------------------------------------------------------------------------------------------


def purge(library, doomed: list[SessionSummary], cutoff: datetime, settings, say: Say) -> int:
    """Delete these sessions (rows and recordings together). At a centre, this machine's own published
    copies from before the cutoff go too; an old session not yet published is kept and named."""
    done = 0
    for summary in doomed:
        try:
            library.delete(summary.session_id, reason="purged")
            done += 1
        except SessionError as err:
            say(f"not purged: {err}")
    if settings.centre.enabled:
        _purge_local_copies(settings.data_dir, cutoff, say)
    return done


def old_local_copies(data_dir: Path, cutoff: datetime) -> list[SessionFolder]:
    """This machine's session folders that started before the cutoff."""
    from voice_trainer.trainer.library.folders import summarize
    from voice_trainer.trainer.library.interface import utc_of

    root = sessions_dir(Path(data_dir))
    if not root.is_dir():
        return []
    limit = cutoff.isoformat(timespec="milliseconds")
    found = []
    for path in sorted(p for p in root.iterdir() if p.is_dir()):
        folder = SessionFolder(path)
        if folder.is_session() and utc_of(summarize(folder).started_at) < limit:
            found.append(folder)
    return found


def _purge_local_copies(data_dir: Path, cutoff: datetime, say: Say) -> None:
    """This machine's published copies from before the cutoff; an unpublished one is kept and named."""
    import shutil

    for folder in old_local_copies(data_dir, cutoff):
        if not is_published(folder):
            say(f"kept {folder.id} on this machine: it is older than the cutoff but not published yet; "
                "run 'voice-trainer sessions sync' first")
            continue
        try:
            shutil.rmtree(folder.path)
        except OSError as err:
            say(f"could not delete this machine's copy of {folder.id} ({err.strerror})")
