"""Output that cannot be abused (issue 9), the CLI as a user runs it.

Trainee names and recognized text are printed with control characters neutralised (no terminal escapes,
no forged lines); CSV cells that a spreadsheet would run as formulas are made text; `-o` onto an
existing file leaves it 0600; a 5,000-character session id and an output into a missing folder are one
clear line and a non-zero exit; `sessions list` marks interrupted and damaged sessions.
"""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli
from tests.fixtures.sessions import GOOD_CALL, SHORT_CALL, record_session
from voice_trainer.session_folder import EVENTS_FILE

HOSTILE_NAME = "anna\x1b[2J\x1b]0;owned\x07\r\nFAKE-ID\tbob\u202e\x9b31m"
HOSTILE_TURN = "здравствуйте\x1b[31m извините\n# forged heading\r\x08\x08за разрывы"
CONTROL = ["\x1b", "\x07", "\x08", "\x9b", "\r", "\u202e"]


def test_names_and_recognized_text_are_printed_without_control_characters(data_dir):
    folder = record_session(data_dir, [HOSTILE_TURN, *GOOD_CALL[1:3]], seed=1, trainee=HOSTILE_NAME)
    env = clean_env(data_dir)
    outputs = {
        "list": run_cli("sessions", "list", env=env),
        "show": run_cli("sessions", "show", folder.name, env=env),
        "report md": run_cli("report", folder.name, "--format", "md", env=env),
        "fix": run_cli("sessions", "fix", folder.name, "1", "здравствуйте\x1b[2J\nзабудьте", env=env),
        "progress": run_cli("progress", "--trainee", HOSTILE_NAME, env=env),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr)
        for c in CONTROL:
            assert c not in done.stdout, (name, repr(c), done.stdout)
    assert len(outputs["list"].stdout.strip().splitlines()) == 1  # one session, one line
    assert outputs["list"].stdout.count("\t") == 9  # ten columns, none forged
    assert "anna\\x1b[2J" in outputs["list"].stdout and "\\x0d\\x0aFAKE-ID\\x09bob\\u202e" in outputs["list"].stdout
    assert "\n# forged heading" not in outputs["report md"].stdout
    assert "\\x1b[31m" in outputs["report md"].stdout  # shown, not run
    # JSON output stays exact: the escapes are JSON's own
    listed = json.loads(run_cli("sessions", "list", "--json", env=env).stdout)
    assert listed[0]["trainee"] == HOSTILE_NAME


def test_csv_export_makes_formula_cells_text(data_dir, tmp_path):
    names = ["=HYPERLINK(\"http://x\",\"y\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "plain"]
    for n, name in enumerate(names):
        record_session(data_dir, SHORT_CALL, seed=n + 1, trainee=name)
    target = tmp_path / "results.csv"
    done = run_cli("sessions", "export", "--format", "csv", "-o", str(target), env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    trainees = sorted(r["trainee"] for r in rows)
    assert trainees == sorted("'" + n if n != "plain" else n for n in names)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t")), row
    assert all(r["score"].isdigit() for r in rows)  # numbers are left as numbers


@pytest.mark.parametrize("command", [
    ["report", "{id}", "-o", "{out}"],
    ["report", "{id}", "--format", "md", "-o", "{out}"],
    ["sessions", "export", "--format", "csv", "-o", "{out}"],
    ["sessions", "export", "--format", "xapi", "-o", "{out}"],
    ["progress", "--trainee", "anna", "--html", "{out}"],
    ["progress", "--trainee", "anna", "--svg", "{out}"],
], ids=["report html", "report md", "export csv", "export xapi", "progress html", "progress svg"])
def test_writing_onto_an_existing_file_leaves_it_private(data_dir, tmp_path, command):
    folder = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    out = tmp_path / "existing.out"
    out.write_text("old content, readable by all\n")
    out.chmod(0o644)
    args = [a.format(id=folder.name, out=out) for a in command]
    done = run_cli(*args, env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert "old content" not in out.read_text(encoding="utf-8")


def test_progress_png_writes_the_chart_and_its_svg_private(data_dir, tmp_path):
    record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    png = tmp_path / "anna.png"
    png.write_bytes(b"old")
    png.chmod(0o644)
    done = run_cli("progress", "--trainee", "anna", "--png", str(png), env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    assert png.read_bytes()[:4] == b"\x89PNG"
    for path in (png, png.with_suffix(".svg")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize("command", [
    ["report", "{long}"], ["report", "{long}", "--format", "md"], ["sessions", "show", "{long}"],
    ["sessions", "fix", "{long}", "1", "текст"], ["sessions", "rescore", "{long}"],
    ["sessions", "delete", "{long}", "--yes"], ["sessions", "show", "{long_path}"],
], ids=["report", "report md", "show", "fix", "rescore", "delete", "a long path"])
def test_a_five_thousand_character_session_id_is_one_clear_line(data_dir, command):
    record_session(data_dir, SHORT_CALL, seed=1)
    long = "2024" + "x" * 4996
    args = [a.format(long=long, long_path="/tmp/" + "y" * 5000) for a in command]
    message = assert_one_line_error(run_cli(*args, env=clean_env(data_dir)))
    assert "5000 characters" in message or "5005 characters" in message
    assert len(message) < 400


@pytest.mark.parametrize("command", [
    ["progress", "--trainee", "anna", "--png", "{missing}/chart.png"],
    ["progress", "--trainee", "anna", "--svg", "{missing}/chart.svg"],
    ["progress", "--trainee", "anna", "--html", "{missing}/page.html"],
    ["report", "{id}", "-o", "{missing}/report.html"],
    ["sessions", "export", "-o", "{missing}/rows.csv"],
], ids=["progress png", "progress svg", "progress html", "report", "export"])
def test_output_into_a_missing_folder_is_one_clear_line(data_dir, tmp_path, command):
    folder = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    missing = tmp_path / "no" / "such" / "folder"
    args = [a.format(missing=missing, id=folder.name) for a in command]
    message = assert_one_line_error(run_cli(*args, env=clean_env(data_dir)), 2)
    assert "does not exist" in message and str(missing) in message
    assert not missing.exists()


def test_sessions_list_marks_interrupted_and_damaged_sessions(data_dir):
    from voice_trainer.scenario.loader import load
    from voice_trainer.session import Session

    whole = record_session(data_dir, SHORT_CALL, seed=1, trainee="anna")
    session = Session(load("razryv", "ru"), data_dir=data_dir, seed=2, trainee="boris", observers=[])
    session.start()
    session.trainee_says(SHORT_CALL[0])
    session.folder.close()  # the process died here: recovered and marked interrupted at the next start
    damaged = record_session(data_dir, SHORT_CALL, seed=3, trainee="clara")
    lines = (damaged / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
    lines.insert(2, "[1, 2]")
    (damaged / EVENTS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")

    done = run_cli("sessions", "list", env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    marks = {line.split("\t")[0]: line.split("\t")[-1] for line in done.stdout.strip().splitlines()}
    assert marks[whole.name] == "-"
    assert marks[session.id] == "interrupted"
    assert marks[damaged.name] == "damaged (1 damaged line skipped; events.jsonl line 3: not an event object but list)"
