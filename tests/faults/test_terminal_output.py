"""What the trainee typed or said, and anything read from a file, cannot drive the terminal (issue 9):
control characters, escape sequences, carriage returns, line separators and bidirectional overrides
are printed escaped, so a name or a reply can neither rewrite the screen nor fake a line of output."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.faults.cli_run import CLI, assert_one_line_error, clean_env, run_cli
from voice_trainer.cli.render import conversation_printer, debrief_text, plain
from voice_trainer.events import CustomerLine, Notice, TraineeTurn

# Anything a terminal would act on rather than show.
ACTS_ON = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")

HOSTILE = [
    "здравствуйте \x1b[2J\x1b[H извините за разрывы",  # clear the screen, cursor home
    "вот \x1b]0;owned\x07 заголовок окна",  # set the window title
    "первая\rSession saved: /elsewhere",  # overwrite the line
    "строка\u2028вторая и \u202eтекст задом наперёд",  # a line separator, a right-to-left override
    "\x9b31m C1 escape и \x00 нуль",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_plain_escapes_what_a_terminal_acts_on_and_keeps_the_rest(text):
    shown = plain(text)
    assert not ACTS_ON.search(shown) and "\n" not in shown
    assert "здравствуйте" in plain(HOSTILE[0]) and "ёжик 😀 Ω" == plain("ёжик 😀 Ω")
    assert plain("\x1b") == "\\x1b" and plain("\u202e") == "\\u202e" and plain("a\tb") == "a b"


def test_the_conversation_printer_prints_every_event_on_one_safe_line():
    printed: list[str] = []
    show = conversation_printer("ru", printed.append)
    for text in HOSTILE:
        show(TraineeTurn(turn=1, text=text, source="voice"))  # recognized text
        show(TraineeTurn(turn=1, text=text, source="text"))  # typed text
        show(CustomerLine(turn=1, text=text, anger=50))
        show(Notice(kind="device\x1b[2J", message=text))
    assert len(printed) == 4 * len(HOSTILE)
    for line in printed:
        assert not ACTS_ON.search(line) and "\n" not in line, repr(line)


def test_the_debrief_quotes_what_was_said_escaped():
    item = {"id": "apology", "phase": "p", "phase_title": "Извинение", "met": True, "said": HOSTILE[2],
            "praise": "хорошо", "title": "t", "suggestion": "s"}
    text = debrief_text({"outcome": "abandoned", "score": 10, "rubric": [item], "penalties": []}, "ru")
    assert not ACTS_ON.search(text) and "Session saved: /elsewhere" in text
    assert "\\x0dSession saved" in text


def test_typed_replies_and_a_trainee_name_cannot_drive_the_terminal(tmp_path):
    data_dir = tmp_path / "data"
    done = subprocess.run(
        [str(CLI), "practice", "--text", "--data-dir", str(data_dir), "--seed", "1",
         "--trainee", "Anna\x1b[2J\x1b]0;owned\x07\u202e"],
        input="".join(line + "\n" for line in HOSTILE), capture_output=True, text=True, timeout=300,
        env=clean_env(data_dir),
    )
    assert done.returncode == 0, done.stderr
    assert not ACTS_ON.search(done.stdout + done.stderr), repr(done.stdout)
    assert "\\x1b[2J\\x1b[H" in done.stdout and "\\x0dSession saved" in done.stdout
    (folder,) = (data_dir / "sessions").iterdir()
    assert not ACTS_ON.search(folder.name) and "anna" in folder.name


def test_an_error_line_quoting_a_hostile_file_name_stays_one_line(tmp_path):
    name = tmp_path / "replies\x1b[31m\nvoice-trainer: all good.txt"
    message = assert_one_line_error(run_cli("practice", "--script", str(name), "--data-dir", str(tmp_path / "d"),
                                            env=clean_env(tmp_path / "d")), 2)
    assert "\\x1b[31m\\x0avoice-trainer: all good.txt" in message
