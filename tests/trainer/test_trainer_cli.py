"""The trainer commands, run as a trainer runs them: as a subprocess."""

import csv
import io
import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.sessions import MISHEARD_CALL, REAL_APOLOGY, SHORT_CALL, record_session
from voice_trainer.scenario.loader import BUNDLED_DIR
from voice_trainer.session_folder import EVENTS_FILE, RESULT_FILE

VT = Path(sys.executable).with_name("voice-trainer")
ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests" / "scripts" / "ru"


def run(data_dir: Path, *args: str, ok: bool = True, stdin=subprocess.DEVNULL) -> subprocess.CompletedProcess:
    env = {**os.environ, "VOICE_TRAINER_DATA": str(data_dir)}
    done = subprocess.run([str(VT), *args], capture_output=True, text=True, env=env, stdin=stdin, timeout=300,
                          cwd=data_dir)
    assert "Traceback" not in done.stderr, done.stderr
    if ok:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0, done.stdout
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done


def _result(folder: Path) -> dict:
    return json.loads((folder / RESULT_FILE).read_text(encoding="utf-8"))


@pytest.fixture
def practised(data_dir) -> Path:
    """A session made by the practice command itself."""
    done = run(data_dir, "practice", "--text", "--script", str(SCRIPTS / "good_understood.txt"), "--data-dir",
               str(data_dir), "--trainee", "anna", "--seed", "1", "--json")
    return Path(json.loads(done.stdout.strip().splitlines()[-1])["folder"])


def test_report_writes_html_into_the_session_folder_and_prints_its_path(data_dir, practised):
    done = run(data_dir, "report", practised.name)
    path = Path(done.stdout.strip())
    assert path == practised / "report.html"
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert html.count('class="turn"') == len(_result(practised)["turns"])
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_report_takes_a_folder_path_or_prefix_and_other_formats(data_dir, practised, tmp_path):
    md = run(data_dir, "report", str(practised), "--format", "md").stdout
    assert md.startswith("# ") and _result(practised)["turns"][0]["trainee"] in md
    out = tmp_path / "r.json"
    run(data_dir, "report", practised.name[:17], "--format", "json", "-o", str(out))
    assert json.loads(out.read_text(encoding="utf-8"))["session_id"] == practised.name


def test_report_errors_are_one_line(data_dir, practised):
    done = run(data_dir, "report", "no-such-session", ok=False)
    assert done.returncode == 7 and "sessions list" in done.stderr
    done = run(data_dir, "report", practised.name, "--format", "pdf", ok=False)
    assert done.returncode == 2 and "html, md, json" in done.stderr
    done = run(data_dir, "report", str(data_dir / "nowhere" / "x"), ok=False)
    assert "no such session folder" in done.stderr


def test_sessions_list_shows_sessions_and_warns_about_damaged_ones(data_dir, practised):
    other = record_session(data_dir, SHORT_CALL, seed=2, trainee="boris", started_at="2024-01-02T09:00:00+00:00")
    damaged = data_dir / "sessions" / "20240101-000000-x-000000"
    damaged.mkdir()
    (damaged / EVENTS_FILE).write_text('garbage\n{"type": "session_started"}\n', encoding="utf-8")

    done = run(data_dir, "sessions", "list")
    lines = done.stdout.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [damaged.name, other.name, practised.name]
    assert lines[0].split("\t")[-1].startswith("damaged, unfinished (1 damaged line skipped")
    assert [line.split("\t")[-1] for line in lines[1:]] == ["-", "-"]
    assert "20240101-000000-x-000000: damaged (1 damaged line skipped" in done.stderr
    assert "listed as damaged" in done.stderr

    listed = json.loads(run(data_dir, "sessions", "list", "--json", "--trainee", "anna").stdout)
    assert [s["session_id"] for s in listed] == [practised.name]
    recent = json.loads(run(data_dir, "sessions", "list", "--json", "--since", "2025-01-01").stdout)
    assert [s["session_id"] for s in recent] == [practised.name]
    done = run(data_dir, "sessions", "list", "--since", "01.02.2024", ok=False)
    assert done.returncode == 2 and "YYYY-MM-DD" in done.stderr


def test_sessions_show_by_prefix_and_ambiguous_prefix(data_dir, practised):
    record_session(data_dir, SHORT_CALL, seed=2, trainee="boris")
    shown = run(data_dir, "sessions", "show", practised.name[:-3]).stdout
    result = _result(practised)
    assert f"session:   {practised.name}" in shown and f"score:     {result['score']}" in shown
    done = run(data_dir, "sessions", "show", practised.name[:4], ok=False)
    assert "matches 2 sessions" in done.stderr and "give more of the id" in done.stderr


def test_sessions_delete_needs_yes_without_a_terminal(data_dir, practised):
    done = run(data_dir, "sessions", "delete", practised.name, ok=False)
    assert done.returncode == 2 and "--yes" in done.stderr and practised.exists()
    done = run(data_dir, "sessions", "delete", practised.name, "--yes")
    assert done.stdout.strip() == f"deleted {practised.name}"
    assert not practised.exists()
    assert run(data_dir, "sessions", "list").stdout.strip() == "no sessions"


def test_sessions_export_csv_and_json(data_dir, practised, tmp_path):
    record_session(data_dir, SHORT_CALL, seed=2, trainee="boris")
    target = tmp_path / "lms.csv"
    done = run(data_dir, "sessions", "export", "--format", "csv", "-o", str(target))
    assert "wrote 2 sessions" in done.stdout
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert {r["trainee"] for r in rows} == {"anna", "boris"}
    assert next(r for r in rows if r["trainee"] == "anna")["score"] == str(_result(practised)["score"])
    rows = json.loads(run(data_dir, "sessions", "export", "--format", "json", "--trainee", "boris").stdout)
    assert [r["trainee"] for r in rows] == ["boris"]
    done = run(data_dir, "sessions", "export", "--format", "xml", ok=False)
    assert "csv, json, xapi" in done.stderr


def test_sessions_fix_rescores_a_misheard_turn(data_dir):
    folder = record_session(data_dir, MISHEARD_CALL, seed=1)
    before = _result(folder)["score"]
    done = run(data_dir, "sessions", "fix", folder.name, "1", REAL_APOLOGY)
    after = _result(folder)["score"]
    assert after > before
    assert f"score: {before} -> {after}" in done.stdout and "apologized" in done.stdout
    listed = json.loads(run(data_dir, "sessions", "list", "--json").stdout)
    assert listed[0]["score"] == after
    done = run(data_dir, "sessions", "fix", folder.name, "99", "текст", ok=False)
    assert "no turn 99; valid turns: 1, 2" in done.stderr
    done = run(data_dir, "sessions", "fix", folder.name, "один", "текст", ok=False)
    assert done.returncode == 2 and "turn number" in done.stderr


def test_sessions_rescore_shows_the_difference_and_saves_only_when_asked(data_dir, tmp_path):
    folder = record_session(data_dir, MISHEARD_CALL, seed=1)
    before = _result(folder)
    text = (BUNDLED_DIR / "razryv.ru.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "razryv.ru.yaml"
    changed.write_text(re.sub(r"(- id: apologized\n(?:      .*\n)*?      points: )\d+", r"\g<1>60", text, count=1),
                       encoding="utf-8")

    done = run(data_dir, "sessions", "rescore", folder.name, "--scenario", str(changed))
    assert "apologized" in done.stdout and "not saved" in done.stdout
    assert _result(folder) == before
    diff = json.loads(run(data_dir, "sessions", "rescore", folder.name, "--scenario", str(changed), "--save",
                          "--json").stdout)
    assert diff["saved"] and diff["score_after"] < diff["score_before"] == before["score"]
    assert _result(folder)["rescored"]["original"]["score"] == before["score"]
    done = run(data_dir, "sessions", "rescore", folder.name, "--scenario", str(tmp_path / "none.yaml"), ok=False)
    assert "no such scenario file" in done.stderr


def test_progress_prints_scores_and_draws_png_svg_and_html(data_dir, tmp_path):
    for n, script in enumerate(["bad_manual_hung_up.txt", "good_understood.txt"]):
        run(data_dir, "practice", "--text", "--script", str(SCRIPTS / script), "--trainee", "anna", "--seed", "1",
            "--persona", "reasonable", "--policy", "keep_client")
    png, page = tmp_path / "anna.png", tmp_path / "anna.html"
    done = run(data_dir, "progress", "--trainee", "anna", "--png", str(png), "--html", str(page))
    assert "anna: 2 scored sessions" in done.stdout and "most often missed" in done.stdout
    assert png.read_bytes()[:4] == b"\x89PNG" and png.with_suffix(".svg").read_text().startswith("<svg")
    assert "<svg" in page.read_text(encoding="utf-8")
    data = json.loads(run(data_dir, "progress", "--trainee", "anna", "--json").stdout)
    assert len(data["scores"]) == 2 and data["scores"][0]["score"] < data["scores"][1]["score"]
    done = run(data_dir, "progress", "--trainee", "zoe", ok=False)
    assert "trainees in the library: anna" in done.stderr


def test_review_serves_on_localhost_until_stopped(data_dir, practised):
    env = {**os.environ, "VOICE_TRAINER_DATA": str(data_dir)}
    proc = subprocess.Popen([str(VT), "review", "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        with urllib.request.urlopen(url, timeout=30) as response:
            assert practised.name in response.read().decode()
    finally:
        proc.terminate()
        proc.wait(30)
    assert "Traceback" not in proc.stderr.read()


def test_review_refuses_a_non_loopback_host(data_dir):
    done = run(data_dir, "review", "--no-browser", "--host", "0.0.0.0", ok=False)
    assert done.returncode == 2 and "only listens on this machine" in done.stderr


COMMANDS = [
    ["report"], ["sessions", "list"], ["sessions", "show"], ["sessions", "delete"], ["sessions", "export"],
    ["sessions", "fix"], ["sessions", "rescore"], ["progress"], ["review"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_trainer_command_has_help_and_is_documented(data_dir, command):
    done = run(data_dir, *command, "--help")
    assert "Usage:" in done.stdout
    docs = (ROOT / "docs" / "trainers.md").read_text(encoding="utf-8")
    assert f"voice-trainer {' '.join(command)}" in docs


def test_a_session_folder_outside_the_library_can_be_shown_but_not_deleted(data_dir, tmp_path):
    import shutil

    folder = record_session(data_dir, SHORT_CALL, seed=3)
    copy = tmp_path / "mailed" / folder.name
    shutil.copytree(folder, copy)
    assert f"session:   {folder.name}" in run(data_dir, "sessions", "show", str(copy)).stdout
    assert Path(run(data_dir, "report", str(copy)).stdout.strip()) == copy / "report.html"
    done = run(data_dir, "sessions", "delete", str(copy), "--yes", ok=False)
    assert "not in a session library" in done.stderr and copy.exists()
    assert not (tmp_path / "library.sqlite3").exists()
