"""A very long turn costs time in proportion to its length, not to its square.

Measured as Python lines executed in voice_trainer (sys.settrace), not wall-clock, so a busy machine can't
make it flaky: ten times the words must cost about ten times the lines (a quadratic step would cost ~100)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from voice_trainer.dialogue.understanding import MoveClassifier
from voice_trainer.scenario.loader import load

DATA = Path(__file__).resolve().parents[1] / "data"
CLASSIFIER = MoveClassifier(load("razryv", "ru").data.moves, "ru")


def lines_executed(text: str) -> int:
    CLASSIFIER.classify(text)  # caches warm: count the matching, not the dictionary lookups
    count = 0

    def line(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return line

    def call(frame, event, arg):
        return line if "voice_trainer" in frame.f_code.co_filename else None

    sys.settrace(call)
    try:
        CLASSIFIER.classify(text)
    finally:
        sys.settrace(None)
    return count


def dev_text(words: int) -> str:
    rows = [line.split("\t", 1)[1] for line in (DATA / "moves.ru.tsv").read_text(encoding="utf-8").splitlines()
            if "\t" in line and not line.startswith("#")]
    return " ".join(" ".join(rows).split()[:words])


@pytest.mark.parametrize(
    "make,words",
    [
        # Real turns run together; from about a thousand words on, every pattern has its words somewhere.
        (dev_text, 1000),
        # Many spans of one pattern and many clause breaks: the case that used to be quadratic.
        (lambda n: " ".join(("простите можно вопрос а " * n).split()[:n]), 500),
        # Fillers, denials and rejects everywhere.
        (lambda n: " ".join(("ну э значит извините не нужно ехать в офис речь не идет о договоре " * n).split()[:n]), 500),
    ],
)
def test_ten_times_the_words_cost_about_ten_times_the_work(make, words):
    small, large = lines_executed(make(words)), lines_executed(make(10 * words))
    assert large < 12 * small, (small, large)


def test_a_long_turn_still_finds_its_moves():
    text = dev_text(3000) + " извините за разрывы"
    assert "apologize" in CLASSIFIER.classify(text).moves
