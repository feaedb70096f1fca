"""CLI commands for trainers: report, sessions (list/show/delete/export/fix/rescore), progress."""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer

from voice_trainer.cli.app import app, sessions_app
from voice_trainer.cli.options import DataDir, OnlyTrainee, SessionId, Since
from voice_trainer.errors import UsageError



def _data_dir(data_dir: Optional[Path]) -> Path:
    """The data dir, after sessions a crash left unfinished are repaired and marked interrupted."""
    from voice_trainer.settings import default_data_dir
    from voice_trainer.trainer.recovery import recover_sessions

    path = data_dir or default_data_dir()
    if path.is_dir():
        recover_sessions(path, lambda line: print(f"voice-trainer: {line}", file=sys.stderr))
    return path


def _folder(data_dir: Optional[Path], session: str) -> Path:
    from voice_trainer.trainer.library import resolve_session

    return resolve_session(_data_dir(data_dir), session)


def _reindex(folder: Path) -> None:
    """Refresh the library entry of a session folder that lives in a library (<data_dir>/sessions/<id>)."""
    from voice_trainer.trainer.library import Library

    if folder.resolve().parent.name == "sessions":
        with Library(folder.resolve().parent.parent) as library:
            library.index(folder)


def _since(text: Optional[str]) -> Optional[date]:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since {text}: not a date; write it as YYYY-MM-DD, e.g. 2024-05-31") from None


def _warn_damaged(report) -> None:
    for folder, message in report.errors:
        print(f"voice-trainer: warning: skipped damaged session {folder.name}: {message}", file=sys.stderr)


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


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
        raise UsageError(f"--format {fmt}: use one of {', '.join(FORMATS)}")
    folder = _folder(data_dir, session)
    text = render_report(folder, fmt)
    if fmt == "html" and output is None:
        output = folder / "report.html"
    if output is None:
        print(text)
        return
    try:
        _write_private(output, text)
    except OSError as err:
        raise UsageError(f"{output}: cannot write the report ({err.strerror}); choose another path with -o") from None
    print(output)


@sessions_app.command("list")
def sessions_list(
    trainee: OnlyTrainee = None,
    since: Since = None,
    json_out: bool = typer.Option(False, "--json", help="One JSON array of sessions."),
    data_dir: DataDir = None,
) -> None:
    """List recorded sessions, oldest first. Damaged session folders are reported on stderr."""
    from voice_trainer.trainer.library import Library

    day = _since(since)
    with Library(_data_dir(data_dir)) as library:
        _warn_damaged(library.sync())
        sessions = library.list(trainee=trainee, since=day)
    if json_out:
        print(json.dumps([s.to_json() for s in sessions], ensure_ascii=False, indent=2))
        return
    if not sessions:
        print("no sessions")
        return
    for s in sessions:
        score = "-" if s.score is None else str(s.score)
        audio = "audio" if s.has_recording else "text"
        print(f"{s.session_id}\t{s.trainee or '-'}\t{s.started_at}\t{s.scenario}/{s.lang}\t{s.persona}/{s.policy}\t"
              f"{s.outcome}\t{score}\t{s.duration_s:g}s\t{audio}")


@sessions_app.command("show")
def sessions_show(
    session: SessionId,
    json_out: bool = typer.Option(False, "--json", help="The summary as JSON."),
    data_dir: DataDir = None,
) -> None:
    """Show one session: who, when, outcome, score, rubric met and missed, where its files are."""
    from voice_trainer.trainer.library import summarize

    s = summarize(_folder(data_dir, session))
    if json_out:
        print(json.dumps(s.to_json(), ensure_ascii=False, indent=2))
        return
    lines = [
        f"session:   {s.session_id}",
        f"folder:    {s.folder}",
        f"trainee:   {s.trainee or '-'}",
        f"started:   {s.started_at}",
        f"scenario:  {s.scenario} ({s.lang}), persona {s.persona}, policy {s.policy}, {s.mode} mode",
        f"outcome:   {s.outcome}{' (interrupted)' if s.interrupted else ''}",
        f"score:     {'-' if s.score is None else s.score}",
        f"length:    {s.duration_s:g} s",
        f"recording: {'yes' if s.has_recording else 'no'}",
        f"met:       {', '.join(s.met) or '-'}",
        f"missed:    {', '.join(s.missed) or '-'}",
    ]
    print("\n".join(lines))


@sessions_app.command("delete")
def sessions_delete(
    session: SessionId,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask; required when not at a terminal."),
    data_dir: DataDir = None,
) -> None:
    """Delete a session: its folder (recording included) and its library entry."""
    from voice_trainer.trainer.library import Library, summarize

    folder = _folder(data_dir, session)
    s = summarize(folder)
    if not yes:
        if sys.stdin is None or not sys.stdin.isatty():
            raise UsageError(f"deleting {s.session_id} needs confirmation; add --yes (no terminal to ask on)")
        if not typer.confirm(f"Delete session {s.session_id} ({s.trainee}, {s.started_at}) and its recording?"):
            print("kept")
            return
    if folder.resolve().parent.name != "sessions":
        raise UsageError(f"{folder} is not in a session library (<data dir>/sessions/<id>); delete it by hand")
    with Library(folder.resolve().parent.parent) as library:
        library.index(folder)
        library.delete(s.session_id)
    print(f"deleted {s.session_id}")


@sessions_app.command("export")
def sessions_export(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or json."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    trainee: OnlyTrainee = None,
    since: Since = None,
    data_dir: DataDir = None,
) -> None:
    """Export one row per session (for an LMS): who, when, scenario, outcome, score, rubric met/missed."""
    from voice_trainer.trainer.library import Library

    if fmt not in ("csv", "json"):
        raise UsageError(f"--format {fmt}: use csv or json")
    day = _since(since)
    with Library(_data_dir(data_dir)) as library:
        _warn_damaged(library.sync())
        rows = library.list(trainee=trainee, since=day)
        try:
            count = library.export(fmt, output, sessions=rows)
        except OSError as err:
            raise UsageError(f"{output}: cannot write the export ({err.strerror}); choose another path") from None
    if output:
        print(f"wrote {count} sessions to {output}")


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

    if not turn.strip().isdigit():
        raise UsageError(f"turn {turn!r}: give the turn number as shown in the report, e.g. 1")
    folder = _folder(data_dir, session)
    diff = fix_turn(folder, int(turn), text)
    _reindex(folder)
    print(json.dumps(diff.to_json(), ensure_ascii=False) if json_out else "\n".join(diff.lines()))


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

    folder = _folder(data_dir, session)
    diff = rescore_session(folder, scenario, save=save)
    if save:
        _reindex(folder)
    if json_out:
        print(json.dumps(diff.to_json(), ensure_ascii=False))
        return
    print("\n".join(diff.lines()))
    print("saved to result.json" if save else "not saved (add --save to store the new score)")


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
    from voice_trainer.trainer.library import Library
    from voice_trainer.trainer.progress import progress, progress_html, scores_svg, svg_to_png

    with Library(_data_dir(data_dir)) as library:
        _warn_damaged(library.sync())
        p = progress(library, trainee)
    if png and svg is None:
        svg = png.with_suffix(".svg")
    written = []
    if svg:
        _write_private(svg, scores_svg(p))
        written.append(svg)
    if png:
        written.append(svg_to_png(scores_svg(p), png))
    if html:
        _write_private(html, progress_html(p))
        written.append(html)
    if json_out:
        print(json.dumps(p.to_json(), ensure_ascii=False, indent=2))
    else:
        print(f"{p.trainee}: {len(p.scores)} scored sessions")
        print("scores: " + " -> ".join(str(s.score) for s in p.scores))
        print("endings: " + ", ".join(f"{k} {v}" for k, v in p.endings.items()))
        if p.most_missed:
            print("most often missed:")
            for m in p.most_missed[:5]:
                print(f"  {m.id}\t{m.count}x ({m.share:.0%})\t{m.title}")
    for path in written:
        print(f"wrote {path}", file=sys.stderr if json_out else sys.stdout)

