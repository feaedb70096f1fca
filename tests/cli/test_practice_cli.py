"""`voice-trainer practice --text` as a user runs it: from a script, from a pipe, killed half-way, given bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"
SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "ru"
GOOD_CALL = SCRIPTS / "good_understood.txt"
FIRST_REPLIES = [
    "здравствуйте приношу извинения за разрывы сейчас растаял снег и подземные узлы залило водой",
    "я вас понял давайте уточним какого числа вы подключились",
    "а до какого числа у вас не было разрывов",
]


def practice(*args: str, data_dir: Path, stdin=subprocess.DEVNULL, input: str | None = None, **kw):
    return subprocess.run(
        [CLI, "practice", "--text", "--data-dir", str(data_dir), *args],
        input=input, stdin=None if input is not None else stdin, capture_output=True, text=True, timeout=120, **kw,
    )


def sessions(data_dir: Path) -> list[Path]:
    return sorted((data_dir / "sessions").glob("*")) if (data_dir / "sessions").is_dir() else []


def only_session(data_dir: Path) -> Path:
    found = sessions(data_dir)
    assert len(found) == 1, found
    return found[0]


def events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text(encoding="utf-8").splitlines()]


def assert_one_line_error(done: subprocess.CompletedProcess, *mentions: str) -> None:
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    for word in mentions:
        assert word in lines[0], lines[0]


def test_script_with_json_prints_the_result_as_the_last_line(data_dir):
    done = practice("--script", str(GOOD_CALL), "--seed", "7", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["outcome"] == "understood"
    assert isinstance(result["score"], int) and 0 <= result["score"] <= 100
    assert result["rubric"] and all({"id", "phase", "met"} <= set(item) for item in result["rubric"])
    assert {i["id"] for i in result["rubric"] if i["met"]} == set(result["met"])
    assert {i["id"] for i in result["rubric"] if not i["met"]} == set(result["missed"])
    assert len(result["turns"]) == len(result["anger"]) >= 5
    assert [t["anger"] for t in result["turns"]] == result["anger"]
    assert all(t["trainee"] and t["customer"] for t in result["turns"])
    assert result["turns"][0]["trainee"].startswith("здравствуйте приношу извинения")
    assert result["interrupted"] is False


def test_options_reach_the_session(data_dir):
    done = practice("--script", str(GOOD_CALL), "--persona", "stubborn", "--policy", "let_go", "--seed", "5",
                    "--trainee", "Анна Петрова", "--scenario", "razryv", "--lang", "ru", "--json", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert (result["persona"], result["policy"], result["seed"], result["trainee"]) == ("stubborn", "let_go", 5, "Анна Петрова")
    assert result["scenario"] == "razryv" and result["lang"] == "ru"


def test_script_works_with_stdin_at_dev_null(data_dir):
    done = practice("--script", str(GOOD_CALL), "--seed", "1", "--json", data_dir=data_dir, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["outcome"] == "understood"


def test_script_works_with_stdin_closed(data_dir):
    done = practice("--script", str(GOOD_CALL), "--seed", "1", "--json", data_dir=data_dir,
                    stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["outcome"] == "understood"


def test_replies_are_read_from_a_pipe_without_script(data_dir):
    done = practice("--seed", "2", "--json", data_dir=data_dir, input="\n".join(FIRST_REPLIES) + "\n")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert [t["trainee"] for t in result["turns"]] == FIRST_REPLIES
    assert result["outcome"] == "abandoned"  # the pipe ran out before an ending


def test_without_script_and_with_stdin_closed_says_what_to_do(data_dir):
    done = practice("--seed", "2", data_dir=data_dir, stdin=subprocess.DEVNULL, preexec_fn=lambda: os.close(0))
    assert_one_line_error(done, "--script")
    assert sessions(data_dir) == []  # nothing was said, so no half-made session in the library


def test_session_folder_is_private_and_holds_log_and_result(data_dir):
    done = practice("--script", str(GOOD_CALL), "--seed", "3", data_dir=data_dir)
    assert done.returncode == 0, done.stderr
    folder = only_session(data_dir)
    assert str(folder) in done.stdout
    for path, mode in [(data_dir / "sessions", 0o700), (folder, 0o700),
                       (folder / "events.jsonl", 0o600), (folder / "result.json", 0o600)]:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
    log = events(folder)
    assert log[0]["type"] == "session_started" and log[-1]["type"] == "session_ended"
    said = [e["text"] for e in log if e["type"] == "trainee_turn"]
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert said == [t["trainee"] for t in result["turns"]]
    assert not list(folder.glob("*.tmp"))


def start_piped(data_dir: Path, replies: list[str]) -> subprocess.Popen:
    proc = subprocess.Popen(
        [CLI, "practice", "--text", "--data-dir", str(data_dir), "--seed", "4", "--json"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    proc.stdin.write("".join(r + "\n" for r in replies))
    proc.stdin.flush()  # stdin stays open: the trainee is still "typing"
    return proc


def wait_for_turns(data_dir: Path, count: int, proc: subprocess.Popen, timeout_s: float = 120) -> Path:
    """Poll the other process's log until `count` trainee turns and the customer's answer to the last are written."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stderr.read()
        # The folder is made a moment before its log: wait for the log, and read only whole lines.
        found = sorted((data_dir / "sessions").glob("*/events.jsonl")) if (data_dir / "sessions").is_dir() else []
        if found:
            whole = found[0].read_text(encoding="utf-8").split("\n")[:-1]
            log = [json.loads(line) for line in whole if line.strip()]
            if any(e["type"] == "customer_line" and e.get("turn") == count for e in log):
                return found[0].parent
        time.sleep(0.05)
    raise AssertionError(f"no {count} turns in the log after {timeout_s}s")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_session_keeps_everything_said_and_is_marked(data_dir, sig):
    proc = start_piped(data_dir, FIRST_REPLIES[:2])
    folder = wait_for_turns(data_dir, 2, proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, (out[-500:], err)
    assert "Traceback" not in err
    log = events(folder)
    assert [e["text"] for e in log if e["type"] == "trainee_turn"] == FIRST_REPLIES[:2]
    assert log[-1]["type"] == "session_ended" and log[-1]["interrupted"] is True
    result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    assert result["interrupted"] is True
    assert [t["trainee"] for t in result["turns"]] == FIRST_REPLIES[:2]
    assert json.loads(out.strip().splitlines()[-1])["interrupted"] is True


def test_killed_session_leaves_an_intact_log_without_result(data_dir):
    proc = start_piped(data_dir, FIRST_REPLIES[:2])
    folder = wait_for_turns(data_dir, 2, proc)
    proc.kill()
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    text = (folder / "events.jsonl").read_text(encoding="utf-8")
    assert text.endswith("\n")
    log = [json.loads(line) for line in text.splitlines()]  # every line parses
    assert [e["text"] for e in log if e["type"] == "trainee_turn"] == FIRST_REPLIES[:2]
    assert not (folder / "result.json").exists()


@pytest.mark.parametrize(
    "args,mentions",
    [
        (["--persona", "nosuch"], ["nosuch", "reasonable"]),
        (["--policy", "nosuch"], ["nosuch", "keep_client"]),
        (["--scenario", "nosuch"], ["nosuch", "razryv"]),
        (["--lang", "xx"], ["'xx'"]),
        (["--scenario", "no/such/file.yaml"], ["no/such/file.yaml"]),
        (["--seed", "many"], ["--seed"]),
        (["--nosuch-option"], ["--nosuch-option"]),
    ],
    ids=["persona", "policy", "scenario", "lang", "scenario_path", "seed_not_a_number", "unknown_option"],
)
def test_bad_option_is_one_line_error_and_no_session(data_dir, args, mentions):
    done = practice("--script", str(GOOD_CALL), *args, data_dir=data_dir)
    if args[0] in ("--seed", "--nosuch-option"):  # the parser's own usage message: Usage/Try/Error lines
        assert done.returncode == 2 and "Traceback" not in done.stderr
        assert any(all(m in line for m in mentions) for line in done.stderr.splitlines()), done.stderr
    else:
        assert_one_line_error(done, *mentions)
    assert sessions(data_dir) == []


def test_missing_script_is_one_line_error(data_dir, tmp_path):
    missing = tmp_path / "replies.txt"
    done = practice("--script", str(missing), data_dir=data_dir)
    assert_one_line_error(done, str(missing))
    assert sessions(data_dir) == []


def test_script_that_is_not_utf8_is_one_line_error(data_dir, tmp_path):
    script = tmp_path / "cp1251.txt"
    script.write_bytes("здравствуйте\n".encode("cp1251"))
    done = practice("--script", str(script), data_dir=data_dir)
    assert_one_line_error(done, str(script), "UTF-8")


def test_data_dir_that_is_a_file_is_one_line_error(tmp_path):
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("I am a file\n")
    done = practice("--script", str(GOOD_CALL), data_dir=not_a_dir)
    assert_one_line_error(done, str(not_a_dir))
    assert not_a_dir.read_text() == "I am a file\n"


def test_data_dir_inside_a_file_is_one_line_error(tmp_path):
    a_file = tmp_path / "data"
    a_file.write_text("I am a file\n")
    done = practice("--script", str(GOOD_CALL), data_dir=a_file / "sub")
    assert_one_line_error(done, str(a_file))


def test_data_dir_that_cannot_be_created_is_one_line_error():
    cannot = Path("/proc/voice-trainer-data")  # not creatable, even for root
    done = practice("--script", str(GOOD_CALL), data_dir=cannot)
    assert_one_line_error(done, str(cannot))


def test_practice_help_mentions_every_option():
    done = subprocess.run([CLI, "practice", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for option in ["--text", "--script", "--scenario", "--lang", "--persona", "--policy", "--seed", "--trainee",
                   "--data-dir", "--json"]:
        assert option in done.stdout, option
