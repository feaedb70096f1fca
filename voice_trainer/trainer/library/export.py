"""One row per session for a learning-management system: CSV, JSON, or xAPI statements (see xapi.py)."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import IO, Any, Iterable

from voice_trainer.errors import UsageError
from voice_trainer.trainer.library.interface import SessionSummary

FORMATS = ("csv", "json", "xapi")
EXPORT_COLUMNS = (
    "session_id", "trainee", "started_at", "scenario", "lang", "persona", "policy", "outcome", "score",
    "interrupted", "duration_s", "met", "missed", "damaged",
)
# A spreadsheet runs a cell that starts with one of these as a formula (or DDE command).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def export_sessions(fmt: str, sessions: Iterable[SessionSummary], out: Path | IO[str], *,
                    xapi_home_page: str = "", xapi_activity_base: str = "") -> int:
    """Write the sessions to a file path (created 0600, an existing one made 0600) or a stream."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use {', '.join(FORMATS)}")
    sessions = list(sessions)
    if isinstance(out, (str, Path)):
        with open_private(Path(out)) as f:
            _write(fmt, sessions, f, xapi_home_page, xapi_activity_base)
    else:
        _write(fmt, sessions, out, xapi_home_page, xapi_activity_base)
    return len(sessions)


def open_private(path: Path) -> IO[str]:
    """A text file only its owner can read: created 0600, and an existing file set to 0600 before writing."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        pass  # not ours to change (e.g. /dev/stdout); the content still goes there
    return os.fdopen(fd, "w", encoding="utf-8", newline="")


def _write(fmt: str, sessions: list[SessionSummary], f: IO[str], home_page: str, activity_base: str) -> None:
    if fmt == "xapi":
        from voice_trainer.trainer.xapi import statements

        json.dump(statements(sessions, home_page=home_page, activity_base=activity_base), f, ensure_ascii=False, indent=2)
        f.write("\n")
        return
    rows = [s.export_row() for s in sessions]
    if fmt == "json":
        json.dump(rows, f, ensure_ascii=False, indent=2)
        f.write("\n")
        return
    writer = csv.DictWriter(f, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: csv_cell(value) for key, value in _csv_row(row).items()})


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "met": ";".join(row["met"]), "missed": ";".join(row["missed"]),
            "interrupted": int(row["interrupted"]), "score": "" if row["score"] is None else row["score"]}


def csv_cell(value: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (shown as text, not run)."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value
