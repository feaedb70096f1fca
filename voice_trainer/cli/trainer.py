"""CLI commands for trainers: report, sessions, progress, users, config, review.

Each command builds the settings once (`config.cli_settings`) and opens the library they ask for: this
machine's (SQLite over the session folders) or the centre's (PostgreSQL and the shared store).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Iterator, Optional

import typer

from voice_trainer.cli.app import app, sessions_app
from voice_trainer.cli.options import DataDir, OnlyTrainee, SessionId, Since
from voice_trainer.errors import SessionError, UsageError
from voice_trainer.trainer.printable import printable

users_app = typer.Typer(help="Accounts of the review site: trainers and trainees.", no_args_is_help=True)
config_app = typer.Typer(help="The settings in force and where each came from.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(config_app, name="config")

MAX_SESSION_SPEC = 255  # longer is no id and no folder name


def _say(line: str) -> None:
    print(f"voice-trainer: {line}", file=sys.stderr, flush=True)


def _settings(data_dir: Optional[Path]):
    from voice_trainer.config import cli_settings, load_settings

    return cli_settings(data_dir) or load_settings(data_dir=data_dir)


def _recover(data_dir: Path) -> None:
    """Sessions a crash left unfinished are repaired and marked interrupted (not in a read-only data dir)."""
    from voice_trainer.trainer.recovery import recover_sessions

    if data_dir.is_dir() and os.access(data_dir, os.W_OK | os.X_OK):
        recover_sessions(data_dir, _say)


@contextmanager
def _library(data_dir: Optional[Path], sync: bool = True) -> Iterator:
    """The library in force. Here: the session folders indexed first. At a centre: this machine's
    unpublished sessions pushed first (one line if the centre cannot take them now)."""
    from voice_trainer.trainer.library import LocalLibrary

    settings = _settings(data_dir)
    _recover(settings.data_dir)
    if not settings.centre.enabled:
        with LocalLibrary(settings.data_dir, station=settings.centre.station) as library:
            if sync:
                _warn_damaged(library.sync())
            yield library
        return
    from voice_trainer.trainer.publish import connect_centre, publish_backlog

    with connect_centre(settings.centre) as centre:
        if sync:
            publish_backlog(settings, centre, _say)
        yield centre


def _warn_damaged(report) -> None:
    for folder, message in report.errors:
        _say(f"warning: {printable(message)}")


def _since(text: Optional[str]) -> Optional[date]:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {printable(text)[:40]}: not a date; write it as YYYY-MM-DD, e.g. 2024-05-31") from None


def _session_spec(spec: str) -> str:
    if len(spec) > MAX_SESSION_SPEC:
        raise UsageError(f"session {printable(spec[:24])}… is {len(spec)} characters long: no session id or folder "
                         "is; run 'voice-trainer sessions list' to see the ids")
    return spec


def _folder_given(spec: str):
    """A session folder named by its path (with a '/'), without any library; None for an id."""
    from voice_trainer.session_folder import EVENTS_FILE, SessionFolder

    if os.sep not in spec:
        return None
    path = Path(spec).expanduser()
    if (path / EVENTS_FILE).is_file():
        return SessionFolder(path)
    if path.is_dir():
        raise SessionError(f"{printable(spec)}: not a session folder (no {EVENTS_FILE})")
    raise SessionError(f"{printable(spec)}: no such session folder; give a session id or a folder with {EVENTS_FILE}")


def _actor(settings) -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    return f"{user}@{settings.centre.station}" if settings.centre.station else user


def _check_output(path: Path, what: str) -> None:
    parent = path.expanduser().parent
    if not parent.is_dir():
        raise UsageError(f"{printable(path)}: the folder {printable(parent)} does not exist; create it or choose "
                         f"another path for the {what}")


def _write_private(path: Path, text: str, what: str) -> None:
    from voice_trainer.trainer.library import open_private

    _check_output(path, what)
    try:
        with open_private(path) as f:
            f.write(text)
    except OSError as err:
        raise UsageError(f"{printable(path)}: cannot write the {what} ({err.strerror}); choose another path") from None


# --- report ----------------------------------------------------------------------------------------------


@app.command()
def report(
    session: SessionId,
    fmt: str = typer.Option("html", "--format", "-f", help="html (one self-contained file), md or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here (html default: <folder>/report.html)."),
    data_dir: DataDir = None,
) -> None:
    """Write the review report of a session: timeline with audio, anger chart, rubric phase by phase."""
    from voice_trainer.trainer.report import FORMATS, render_report

    if fmt not in FORMATS:
        raise UsageError(f"--format {printable(fmt)[:20]}: use one of {', '.join(FORMATS)}")
    spec = _session_spec(session)
    if output is not None:
        _check_output(output, "report")
    source = _folder_given(spec)
    if source is not None:
        text = render_report(source, fmt)
    else:
        with _library(data_dir) as library:
            source = library.open(spec)
            text = render_report(source, fmt)
            if fmt == "html" and source.has_recording and not library.recordings.folders_are_truth:
                library.audit.record(_actor(_settings(data_dir)), "view recording", source.id, "report")
    if fmt == "html" and output is None:
        output = _default_report_path(source)
    if output is None:
        print(text)
        return
    _write_private(output, text, "report")
    print(output)


def _default_report_path(source) -> Path:
    """<folder>/report.html where the folder is here and writable, else <id>.report.html here."""
    folder = getattr(source, "path", None)
    if folder is not None and Path(folder).is_dir() and os.access(folder, os.W_OK) and \
            not isinstance(source, _stored_type()):
        return Path(folder) / "report.html"
    return Path(f"{source.id}.report.html")


def _stored_type():
    from voice_trainer.trainer.library.stored import StoredSession

    return StoredSession


# --- sessions --------------------------------------------------------------------------------------------


@sessions_app.command("list")
def sessions_list(
    trainee: OnlyTrainee = None,
    since: Since = None,
    page: int = typer.Option(1, "--page", min=1, help="Which page of --limit sessions (1 = the oldest)."),
    limit: int = typer.Option(0, "--limit", min=0, help="Sessions per page (0: all; 50 when --page is given)."),
    newest: bool = typer.Option(False, "--newest", help="Newest first."),
    json_out: bool = typer.Option(False, "--json", help="One JSON array of sessions."),
    data_dir: DataDir = None,
) -> None:
    """List recorded sessions, oldest first; damaged and interrupted ones are marked."""
    day = _since(since)
    if page > 1 and not limit:
        limit = 50
    with _library(data_dir) as library:
        sessions = library.list(trainee=trainee, since=day, offset=(page - 1) * limit if limit else 0,
                                limit=limit or None, newest_first=newest)
        total = library.count(trainee=trainee, since=day) if limit else len(sessions)
    if json_out:
        print(json.dumps([s.to_json() for s in sessions], ensure_ascii=False, indent=2))
    elif not sessions:
        print("no sessions")
    else:
        lines = []
        for s in sessions:
            score = "-" if s.score is None else str(s.score)
            audio = "audio" if s.has_recording else "text"
            marks = ", ".join(s.marks) or "-"
            if s.damage:
                marks += f" ({s.damage})"
            fields = (s.session_id, s.trainee or "-", s.started_at, f"{s.scenario}/{s.lang}", f"{s.persona}/{s.policy}",
                      s.outcome, score, f"{s.duration_s:g}s", audio, marks)
            lines.append("\t".join(printable(f) for f in fields))
        print("\n".join(lines))
    if limit:
        pages = max(1, -(-total // limit))
        more = f"; --page {page + 1} for more" if page < pages else ""
        print(f"page {page} of {pages} ({total} sessions){more}", file=sys.stderr)


@sessions_app.command("show")
def sessions_show(
    session: SessionId,
    json_out: bool = typer.Option(False, "--json", help="The summary as JSON."),
    data_dir: DataDir = None,
) -> None:
    """Show one session: who, when, outcome, score, rubric met and missed, where its files are."""
    from voice_trainer.trainer.library import summarize

    spec = _session_spec(session)
    folder = _folder_given(spec)
    if folder is not None:
        s = summarize(folder)
    else:
        with _library(data_dir) as library:
            s = library.get(spec)
    if json_out:
        print(json.dumps(s.to_json(), ensure_ascii=False, indent=2))
        return
    p = printable
    lines = [
        f"session:   {p(s.session_id)}",
        f"folder:    {p(s.folder) if s.folder else '-'}" + (f" on {p(s.station)}" if s.station else ""),
        f"trainee:   {p(s.trainee or '-')}",
        f"started:   {p(s.started_at)}",
        f"scenario:  {p(s.scenario)} ({p(s.lang)}), persona {p(s.persona)}, policy {p(s.policy)}, {p(s.mode)} mode",
        f"outcome:   {p(s.outcome)}{' (interrupted)' if s.interrupted and s.outcome != 'unfinished' else ''}",
        f"score:     {'-' if s.score is None else s.score}",
        f"length:    {s.duration_s:g} s",
        f"recording: {'yes' if s.has_recording else 'no'}"
        + (f" ({s.recording_bytes} bytes, sha256 {s.recording_sha256})" if s.recording_sha256 else ""),
        f"met:       {p(', '.join(s.met) or '-')}",
        f"missed:    {p(', '.join(s.missed) or '-')}",
    ]
    if s.damage:
        lines.append(f"damaged:   {p(s.damage)}")
    print("\n".join(lines))


@sessions_app.command("delete")
def sessions_delete(
    session: SessionId,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; required when not at a terminal."),
    data_dir: DataDir = None,
) -> None:
    """Delete a session: its recording and its library entry together."""
    spec = _session_spec(session)
    folder = _folder_given(spec)
    if folder is not None:
        if folder.path.resolve().parent.name != "sessions":
            raise UsageError(f"{printable(folder.path)} is not in a session library (<data dir>/sessions/<id>); "
                             "delete it by hand")
        data_dir = folder.path.resolve().parent.parent
        spec = folder.id
    with _library(data_dir) as library:
        s = library.get(spec)
        if not yes:
            if sys.stdin is None or not sys.stdin.isatty():
                raise UsageError(f"deleting {printable(s.session_id)} needs confirmation; add --yes (no terminal to ask on)")
            if not typer.confirm(f"Delete session {printable(s.session_id)} ({printable(s.trainee)}, "
                                 f"{printable(s.started_at)}) and its recording?"):
                print("kept")
                return
        library.delete(s.session_id)
        library.audit.record(_actor(_settings(data_dir)), "delete session", s.session_id, s.trainee)
    print(f"deleted {printable(s.session_id)}")


@sessions_app.command("export")
def sessions_export(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv, json or xapi (xAPI 1.0.3 statements for an LRS)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    trainee: OnlyTrainee = None,
    since: Since = None,
    data_dir: DataDir = None,
) -> None:
    """Export one row per session (for an LMS): who, when, scenario, outcome, score, rubric met/missed."""
    from voice_trainer.trainer.library import FORMATS, export_sessions

    if fmt not in FORMATS:
        raise UsageError(f"--format {printable(fmt)[:20]}: use {', '.join(FORMATS)}")
    day = _since(since)
    if output is not None:
        _check_output(output, "export")
    settings = _settings(data_dir)
    with _library(data_dir) as library:
        rows = library.list(trainee=trainee, since=day)
    try:
        count = export_sessions(fmt, rows, output or sys.stdout, xapi_home_page=settings.xapi_home_page,
                                xapi_activity_base=settings.xapi_activity_base)
    except OSError as err:
        raise UsageError(f"{printable(output)}: cannot write the export ({err.strerror}); choose another path") from None
    if output:
        print(f"wrote {count} {'statements' if fmt == 'xapi' else 'sessions'} to {printable(output)}")


@sessions_app.command("fix")
def sessions_fix(
    session: SessionId,
    turn: str = typer.Argument(..., help="Turn number (see the report)."),
    text: str = typer.Argument(..., help="What the trainee actually said."),
    json_out: bool = typer.Option(False, "--json", help="The difference as JSON."),
    data_dir: DataDir = None,
) -> None:
    """Correct a misrecognized turn and re-score the call (the log keeps both texts)."""
    from voice_trainer.trainer.corrections import fix_turn

    if not turn.strip().isdigit() or len(turn) > 6:
        raise UsageError(f"turn {printable(turn)[:20]!r}: give the turn number as shown in the report, e.g. 1")
    with _session_source(session, data_dir) as (source, library):
        diff = fix_turn(source, int(turn), text)
        _after_change(library, source, data_dir, "fix turn", f"turn {turn}: {text[:200]}")
    print(json.dumps(diff.to_json(), ensure_ascii=False) if json_out else "\n".join(printable(l) for l in diff.lines()))


@sessions_app.command("rescore")
def sessions_rescore(
    session: SessionId,
    scenario: Optional[Path] = typer.Option(None, "--scenario", help="Scenario file to score against (default: the one the session used)."),
    save: bool = typer.Option(False, "--save", help="Store the new score (the original is kept in result.json)."),
    json_out: bool = typer.Option(False, "--json", help="The difference as JSON."),
    data_dir: DataDir = None,
) -> None:
    """Re-score an attempt against the current scenario file and show what changes."""
    from voice_trainer.trainer.corrections import rescore_session

    with _session_source(session, data_dir) as (source, library):
        diff = rescore_session(source, scenario, save=save)
        if save:
            _after_change(library, source, data_dir, "rescore", str(scenario or ""))
    if json_out:
        print(json.dumps(diff.to_json(), ensure_ascii=False))
        return
    print("\n".join(printable(line) for line in diff.lines()))
    print("saved" if save else "not saved (add --save to store the new score)")


@contextmanager
def _session_source(session: str, data_dir: Optional[Path]):
    """(the session to correct, the library it is in or None for a folder outside any library)."""
    spec = _session_spec(session)
    folder = _folder_given(spec)
    if folder is not None and folder.path.resolve().parent.name != "sessions":
        yield folder, None
        return
    if folder is not None:
        data_dir, spec = folder.path.resolve().parent.parent, folder.id
    with _library(data_dir) as library:
        yield library.open(spec), library


def _after_change(library, source, data_dir: Optional[Path], action: str, detail: str) -> None:
    """The library row follows a changed folder; every change is in the audit log."""
    if library is None:
        return
    if library.recordings.folders_are_truth and not isinstance(source, _stored_type()):
        library.index(source.path)
    library.audit.record(_actor(_settings(data_dir)), action, source.id, detail)


@sessions_app.command("sync")
def sessions_sync(data_dir: DataDir = None) -> None:
    """Publish this machine's sessions to the centre (what a dropped network left behind); here: re-index."""
    settings = _settings(data_dir)
    if not settings.centre.enabled:
        with _library(data_dir, sync=False) as library:
            report = library.sync()
            _warn_damaged(report)
        print(f"indexed {report.indexed} sessions, {report.removed} gone (no centre configured: "
              "this machine's library only)")
        return
    from voice_trainer.trainer.publish import connect_centre, publish_backlog

    _recover(settings.data_dir)
    with connect_centre(settings.centre) as centre:
        outcome = publish_backlog(settings, centre, _say, strict=True)
    print(outcome.line())
    if outcome.failed:
        raise typer.Exit(1)


@sessions_app.command("purge")
def sessions_purge(
    older_than: str = typer.Option(..., "--older-than", help="Age, e.g. 90d, 12w, 6m (months of 30 days), 1y."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; required when not at a terminal."),
    data_dir: DataDir = None,
) -> None:
    """Delete sessions older than an age: their rows and recordings together (retention)."""
    from voice_trainer.trainer.publish import old_local_copies, purge

    cutoff = _cutoff(older_than)
    settings = _settings(data_dir)
    with _library(data_dir) as library:
        doomed = library.older_than(cutoff)
        copies = old_local_copies(settings.data_dir, cutoff) if settings.centre.enabled else []
        if not doomed and not copies:
            print(f"no sessions started before {cutoff:%Y-%m-%d %H:%M} UTC")
            return
        if not yes:
            if sys.stdin is None or not sys.stdin.isatty():
                raise UsageError(f"purging {len(doomed)} sessions needs confirmation; add --yes (no terminal to ask on)")
            if not typer.confirm(f"Delete {len(doomed)} sessions started before {cutoff:%Y-%m-%d} and their recordings?"):
                print("kept")
                return
        done = purge(library, doomed, cutoff, settings, _say)
        library.audit.record(_actor(settings), "purge", f"older than {older_than}", f"{done} sessions")
    print(f"purged {done} sessions started before {cutoff:%Y-%m-%d %H:%M} UTC")


def _cutoff(text: str):
    import re
    from datetime import datetime, timedelta, timezone

    found = re.fullmatch(r"\s*(\d{1,5})\s*([dwmy])\s*", text)
    if not found:
        raise UsageError(f"--older-than {printable(text)[:20]}: give an age like 90d, 12w, 6m or 1y")
    days = int(found.group(1)) * {"d": 1, "w": 7, "m": 30, "y": 365}[found.group(2)]
    if days < 1:
        raise UsageError("--older-than 0: that would delete every session; give at least 1d")
    return datetime.now(timezone.utc) - timedelta(days=days)


# --- progress ------------------------------------------------------------------------------------------


@app.command("progress")
def progress_command(
    trainee: str = typer.Option(..., "--trainee", help="Trainee name as given to 'practice --trainee'."),
    png: Optional[Path] = typer.Option(None, "--png", help="Draw the score chart as PNG (and .svg beside it)."),
    svg: Optional[Path] = typer.Option(None, "--svg", help="Write the score chart as SVG."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained progress page."),
    json_out: bool = typer.Option(False, "--json", help="Print progress as JSON."),
    data_dir: DataDir = None,
) -> None:
    """A trainee's progress: scores over attempts, items most often missed, endings reached."""
    from voice_trainer.trainer.progress import progress, progress_html, scores_svg, svg_to_png

    if png and svg is None:
        svg = png.with_suffix(".svg")
    for path, what in ((png, "chart"), (svg, "chart"), (html, "progress page")):
        if path is not None:
            _check_output(path, what)
    with _library(data_dir) as library:
        p = progress(library, trainee)
    written = []
    if svg:
        _write_private(svg, scores_svg(p), "chart")
        written.append(svg)
    if png:
        written.append(svg_to_png(scores_svg(p), png))
    if html:
        _write_private(html, progress_html(p), "progress page")
        written.append(html)
    if json_out:
        print(json.dumps(p.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"{printable(p.trainee)}: {len(p.scores)} scored sessions")
        print("scores: " + " -> ".join(str(s.score) for s in p.scores))
        print("endings: " + ", ".join(f"{printable(k)} {v}" for k, v in p.endings.items()))
        if p.most_missed:
            print("most often missed:")
            for m in p.most_missed[:5]:
                print(f"  {printable(m.id)}\t{m.count}x ({m.share:.0%})\t{printable(m.title)}")
    for path in written:
        print(f"wrote {printable(path)}", file=sys.stderr if json_out else sys.stdout)


# --- users -----------------------------------------------------------------------------------------------


def _password(password_stdin: bool, name: str) -> str:
    if password_stdin:
        line = sys.stdin.readline() if sys.stdin is not None else ""
        password = line.rstrip("\r\n")
        if not password:
            raise UsageError("--password-stdin: no password on stdin; give it on the first line")
        return password
    if sys.stdin is None or not sys.stdin.isatty():
        raise UsageError("no terminal to ask the password on; pipe it in with --password-stdin")
    return typer.prompt(f"Password for {printable(name)}", hide_input=True, confirmation_prompt=True)


@users_app.command("add")
def users_add(
    name: str = typer.Argument(..., help="Account name (for a trainee: the name their sessions are recorded under)."),
    role: str = typer.Option(..., "--role", help="trainer (sees everyone's sessions) or trainee (only their own)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    data_dir: DataDir = None,
) -> None:
    """Add an account to the review site (asks for the password)."""
    from voice_trainer.trainer.library.accounts import check_name, check_role

    name, role = check_name(name), check_role(role)
    password = _password(password_stdin, name)
    with _library(data_dir, sync=False) as library:
        account = library.accounts.add(name, role, password)
        library.audit.record(_actor(_settings(data_dir)), "add account", account.name, account.role)
    print(f"added {account.role} {printable(account.name)}")


@users_app.command("passwd")
def users_passwd(
    name: str = typer.Argument(..., help="Account name."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin."),
    data_dir: DataDir = None,
) -> None:
    """Set a new password for an account."""
    with _library(data_dir, sync=False) as library:
        if library.accounts.get(name) is None:
            raise UsageError(f"no account {printable(name)!r}; see 'voice-trainer users list'")
        library.accounts.set_password(name, _password(password_stdin, name))
        library.audit.record(_actor(_settings(data_dir)), "change password", name)
    print(f"password changed for {printable(name)}")


@users_app.command("list")
def users_list(
    json_out: bool = typer.Option(False, "--json", help="As JSON."),
    data_dir: DataDir = None,
) -> None:
    """List the accounts and their roles."""
    with _library(data_dir, sync=False) as library:
        accounts = library.accounts.list()
    if json_out:
        print(json.dumps([{"name": a.name, "role": a.role} for a in accounts], ensure_ascii=False, indent=2))
    elif not accounts:
        print("no accounts; add one with 'voice-trainer users add NAME --role trainer'")
    else:
        print("\n".join(f"{printable(a.name)}\t{a.role}" for a in accounts))


@users_app.command("remove")
def users_remove(
    name: str = typer.Argument(..., help="Account name."),
    data_dir: DataDir = None,
) -> None:
    """Remove an account (its sessions stay)."""
    with _library(data_dir, sync=False) as library:
        account = library.accounts.remove(name)
        library.audit.record(_actor(_settings(data_dir)), "remove account", account.name, account.role)
    print(f"removed {account.role} {printable(account.name)}")


# --- config ----------------------------------------------------------------------------------------------


@config_app.command("show")
def config_show(
    json_out: bool = typer.Option(False, "--json", help="As JSON."),
    data_dir: DataDir = None,
) -> None:
    """Print the settings in force and where each came from (file, environment, command line, default)."""
    rows = _settings(data_dir).shown()
    if json_out:
        print(json.dumps({k: {"value": v, "from": s} for k, v, s in rows}, ensure_ascii=False, indent=2))
        return
    width = max(len(k) for k, _, _ in rows)
    for key, value, source in rows:
        print(f"{key:<{width}}  {printable(value)}" + (f"   ({printable(source)})" if source else ""))


# --- review (moving to cli/review.py with the review site) ------------------------------------------------


@app.command()
def review(
    port: int = typer.Option(0, "--port", help="Port to listen on (default: any free port)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Loopback address to bind (127.0.0.1 or ::1 only)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the address; do not open a browser."),
    data_dir: DataDir = None,
) -> None:
    """Browse sessions, reports and progress in a local web page (this machine only)."""
    from voice_trainer.trainer.library import LocalLibrary as Library
    from voice_trainer.trainer.review import check_loopback, serve

    check_loopback(host)

    def ready(url: str) -> None:
        print(f"review page: {url} (Ctrl-C to stop)", flush=True)
        if not no_browser:
            import webbrowser

            webbrowser.open(url)

    path = _settings(data_dir).data_dir
    _recover(path)
    with Library(path) as library:
        _warn_damaged(library.sync())
    try:
        serve(Library(path), host, port, on_ready=ready)
    except OSError as err:
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror}); choose another --port") from None
