"""A damaged session never takes the library down (issue 9): the CLI as a user runs it, on real session folders.

One bad line in one log (valid JSON that is not an object, a field of the wrong type, binary garbage) or a
result.json with wrong types or cut off: `sessions list`, `sessions show`, `report` and `sessions export`
still work; the damaged lines are skipped and counted, the session is listed as damaged with the reason,
every other session is untouched, and a bad result.json is rebuilt from the log (the log is the truth).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.faults.cli_run import clean_env, run_cli
from tests.fixtures.sessions import GOOD_CALL, SHORT_CALL, record_session
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE

BAD_LINES = {
    "null": b"null",
    "a number": b"42",
    "a list": b'["trainee_turn", 2]',
    "a string": b'"trainee_turn"',
    "a wrong field type": b'{"type": "trainee_turn", "turn": "two", "text": "x"}',
    "a wrong nested type": b'{"type": "trainee_turn", "turn": 2, "words": [{"text": 5}]}',
    "binary garbage": b"\x00\xff\xfe\x1b[2J\x89PNG\r\x1a garbage \xd0",
    "an unknown event": b'{"type": "no_such_event", "t_ms": 1}',
    "deeply nested": b"[" * 5000 + b"]" * 5000,
}


def _insert_line(folder: Path, line: bytes, at: int = 3) -> None:
    lines = (folder / EVENTS_FILE).read_bytes().split(b"\n")
    lines.insert(at, line)
    (folder / EVENTS_FILE).write_bytes(b"\n".join(lines))


@pytest.fixture(scope="module")
def three_sessions(tmp_path_factory) -> Path:
    """anna, boris (the one to damage), clara: recorded once, copied for each test."""
    data_dir = tmp_path_factory.mktemp("three") / "data"
    record_session(data_dir, SHORT_CALL, seed=1, trainee="anna", started_at="2024-03-01T10:00:00+00:00")
    record_session(data_dir, GOOD_CALL, seed=2, trainee="boris", started_at="2024-03-02T10:00:00+00:00")
    record_session(data_dir, SHORT_CALL, seed=3, trainee="clara", started_at="2024-03-03T10:00:00+00:00")
    return data_dir


@pytest.fixture
def sessions(three_sessions, data_dir) -> tuple[Path, Path, Path]:
    shutil.copytree(three_sessions / "sessions", data_dir / "sessions")
    by_trainee = {json.loads((f / EVENTS_FILE).read_text(encoding="utf-8").splitlines()[0])["trainee"]: f
                  for f in (data_dir / "sessions").iterdir()}
    return by_trainee["anna"], by_trainee["boris"], by_trainee["clara"]


def _list(data_dir: Path) -> tuple[list[dict], str]:
    done = run_cli("sessions", "list", "--json", env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("kind", list(BAD_LINES), ids=list(BAD_LINES))
def test_a_damaged_line_is_skipped_counted_and_the_session_listed_as_damaged(data_dir, sessions, tmp_path, kind):
    before, damaged, after = sessions
    result = json.loads((damaged / RESULT_FILE).read_text(encoding="utf-8"))
    _insert_line(damaged, BAD_LINES[kind])

    listed, stderr = _list(data_dir)
    assert [s["session_id"] for s in listed] == [before.name, damaged.name, after.name]
    row = {s["session_id"]: s for s in listed}[damaged.name]
    assert row["damage"].startswith("1 damaged line skipped") and "line 4" in row["damage"]
    assert row["marks"] == ["damaged"] and row["score"] == result["score"]  # the rest of the log is still read
    assert all(not s["damage"] for s in listed if s["session_id"] != damaged.name)
    assert damaged.name in stderr and "listed as damaged" in stderr

    text = run_cli("sessions", "list", env=clean_env(data_dir))
    line = next(l for l in text.stdout.splitlines() if l.startswith(damaged.name))
    assert line.split("\t")[-1].startswith("damaged (1 damaged line skipped")
    assert "\x1b" not in text.stdout and "\x00" not in text.stdout

    shown = run_cli("sessions", "show", damaged.name, env=clean_env(data_dir))
    assert shown.returncode == 0 and "damaged:   1 damaged line skipped" in shown.stdout

    out = tmp_path / "report.md"
    done = run_cli("report", damaged.name, "--format", "md", "-o", str(out), env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    report = out.read_text(encoding="utf-8")
    assert "damaged" in report and GOOD_CALL[1] in report  # the turns after the bad line are there
    done = run_cli("report", damaged.name, "-o", str(tmp_path / "r.html"), env=clean_env(data_dir))
    assert done.returncode == 0, done.stderr
    assert 'class="damaged"' in (tmp_path / "r.html").read_text(encoding="utf-8")

    exported = run_cli("sessions", "export", "--format", "json", env=clean_env(data_dir))
    assert [r["session_id"] for r in json.loads(exported.stdout)] == [before.name, damaged.name, after.name]


@pytest.mark.parametrize("content", [
    '{"outcome": 5, "score": "high", "rubric": "none"}',
    '{"outcome": "understood", "score": 80, "rubric": [{"id": 3}]}',
    "[1, 2, 3]",
    "null",
    "torn",
    "",
    "\x00\x01 not json",
], ids=["wrong types", "wrong item type", "a list", "null", "torn", "empty", "binary"])
def test_a_bad_result_is_rebuilt_from_the_log(data_dir, sessions, content):
    before, damaged, after = sessions
    path = damaged / RESULT_FILE
    original = json.loads(path.read_text(encoding="utf-8"))
    if content == "torn":
        content = path.read_text(encoding="utf-8")[: len(path.read_text(encoding="utf-8")) // 2]
    path.write_text(content, encoding="utf-8")

    listed, _ = _list(data_dir)
    row = {s["session_id"]: s for s in listed}[damaged.name]
    assert (row["outcome"], row["score"], row["damage"]) == (original["outcome"], original["score"], "")
    rebuilt = json.loads(path.read_text(encoding="utf-8"))  # written back, whole
    assert (rebuilt["score"], rebuilt["outcome"], rebuilt["met"]) == (original["score"], original["outcome"],
                                                                      original["met"])
    assert len(listed) == 3
    done = run_cli("report", damaged.name, "--format", "json", env=clean_env(data_dir))
    assert done.returncode == 0 and json.loads(done.stdout)["score"] == original["score"]


def test_a_session_whose_result_cannot_be_rebuilt_is_listed_with_the_reason(data_dir, sessions):
    before, damaged, after = sessions
    (damaged / RESULT_FILE).write_text('{"score": "x"}', encoding="utf-8")
    log = (damaged / EVENTS_FILE).read_text(encoding="utf-8").splitlines()
    start = json.loads(log[0])
    start["scenario"], start["scenario_file"] = "no-such-scenario", ""
    (damaged / EVENTS_FILE).write_text("\n".join([json.dumps(start), *log[1:]]) + "\n", encoding="utf-8")

    listed, _ = _list(data_dir)
    row = {s["session_id"]: s for s in listed}[damaged.name]
    assert row["marks"] == ["damaged", "unfinished"]
    assert "result.json unreadable and could not be rebuilt" in row["damage"]
    assert [s["score"] is not None for s in listed] == [True, False, True]


def test_a_log_that_is_nothing_but_garbage_is_still_listed(data_dir, sessions):
    before, damaged, after = sessions
    (damaged / EVENTS_FILE).write_bytes(b"\xff\xfe garbage\n\x00\x00\nnull\n{}\n")
    (damaged / RESULT_FILE).unlink()
    listed, _ = _list(data_dir)
    row = {s["session_id"]: s for s in listed}[damaged.name]
    assert "no session_started event" in row["damage"] and row["started_at"].startswith(damaged.name[:4])
    done = run_cli("report", damaged.name, "--format", "md", env=clean_env(data_dir))
    assert done.returncode == 0 and "damaged" in done.stdout
    listed, _ = _list(data_dir)  # and again: nothing changed, nothing breaks
    assert len(listed) == 3
