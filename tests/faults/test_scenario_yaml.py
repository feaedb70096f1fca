"""Hostile and clumsy scenario files: alias bombs, alias loops, and the syntax slips trainers make.

Issue 9: a few hundred bytes of YAML aliases ("billion laughs") took minutes of CPU; an alias inside
its own anchor ended in a RecursionError traceback. Issue 12: a syntax error names its likely cause.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.faults.cli_run import assert_one_line_error, clean_env, run_cli
from voice_trainer.errors import ScenarioError
from voice_trainer.scenario.loader import load_file

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "razryv.en.yaml"


def billion_laughs(width: int = 9, depth: int = 9) -> str:
    lines = [f"a0: &a0 [{', '.join(['lol'] * width)}]"]
    for level in range(1, depth):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def check(path: Path, tmp_path: Path):
    # A bomb that is expanded runs for minutes: the timeout turns that into a failure, not a hung suite.
    return run_cli("scenario", "check", str(path), env=clean_env(tmp_path / "data"), timeout=60)


def test_an_alias_bomb_of_a_few_hundred_bytes_is_refused_with_file_and_line(tmp_path):
    bomb = tmp_path / "laughs.en.yaml"
    bomb.write_text("scenario: laughs\n" + billion_laughs())
    assert bomb.stat().st_size < 600

    message = assert_one_line_error(check(bomb, tmp_path), 3)

    assert re.match(rf"{re.escape(str(bomb))}:(\d+): aliases up to \*a\d repeat more than", message), message
    line = int(message.split(":")[1])
    assert bomb.read_text().splitlines()[line - 1].startswith("a")  # the alias line that broke the budget


def test_an_alias_bomb_inside_a_real_scenario_is_refused_before_validation(tmp_path):
    bomb = tmp_path / "razryv.en.yaml"
    bomb.write_text(SEED.read_text(encoding="utf-8") + billion_laughs(width=12, depth=12), encoding="utf-8")

    with pytest.raises(ScenarioError, match="alias bomb") as caught:
        load_file(bomb)

    assert caught.value.line is not None and caught.value.line > len(SEED.read_text(encoding="utf-8").splitlines())


@pytest.mark.parametrize(
    "loop",
    ["steps: &steps [one, two, *steps]\n", "customer: &who\n  name: Harold\n  friend: *who\n",
     "a: &x\n  - b: &y\n      - *x\n"],
    ids=["list", "mapping", "nested"],
)
def test_an_alias_inside_its_own_anchor_is_one_line_not_a_recursion_traceback(loop, tmp_path):
    path = tmp_path / "loop.en.yaml"
    path.write_text("scenario: loop\n" + loop)

    message = assert_one_line_error(check(path, tmp_path), 3)

    assert "inside the value it stands for" in message
    alias_line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if re.search(r"\*\w+\s*[\],]?\s*$", text))
    assert message.startswith(f"{path}:{alias_line}:")


def test_a_few_small_aliases_are_still_fine(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    assert "\nfacts:\n  connect_date: [" in text
    text = text.replace("\nfacts:\n  connect_date: [", "\nfacts:\n  connect_date: &dates [", 1)
    path = tmp_path / "razryv.en.yaml"
    path.write_text(text + "x_reused: [*dates, *dates]\n", encoding="utf-8")

    with pytest.raises(ScenarioError) as caught:
        load_file(path)

    assert "unknown key 'x_reused'" in str(caught.value)  # past the alias check, into ordinary validation


def _mutated(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The seed with `old` replaced by `new`, and the line number of the mutated line."""
    text = SEED.read_text(encoding="utf-8")
    assert old in text, f"seed changed: {old!r}"
    at = text.index(old) + len(new.rstrip("\n"))
    text = text.replace(old, new, 1)
    path = tmp_path / "razryv.en.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text.count("\n", 0, at) + 1


@pytest.mark.parametrize(
    "old, new, says",
    [
        ("\n    start_anger: 55", "\n\tstart_anger: 55", "tab character"),
        ("\n    anger_factor: 1.0", "\n    anger_factor 1.0", "key without its colon"),
        ("\ncustomer:\n", "\ncustomer\n", "key without its colon"),
        ("\n    start_anger: 55", "\n   start_anger: 55", "off the 2-space steps"),
        ("\n    start_anger: 55", "\n      start_anger: 55", "indented more"),
        ('title: "Not a single drop"', 'title: "Not a single drop', "quote"),
    ],
    ids=["tab", "missing_colon", "missing_colon_before_a_block", "odd_indent", "deeper_indent", "open_quote"],
)
def test_a_syntax_error_names_the_likely_cause_on_the_line_to_fix(old, new, says, tmp_path):
    path, line = _mutated(tmp_path, old, new)

    message = assert_one_line_error(check(path, tmp_path), 3)

    assert message.startswith(f"{path}:{line}: not valid YAML: "), message
    assert says in message


def test_a_huge_file_is_refused_by_its_size_before_parsing(tmp_path):
    huge = tmp_path / "huge.en.yaml"
    with open(huge, "w") as out:
        out.write("scenario: huge\n")
        line = "# " + "padding " * 12 + "\n"
        out.write(line * (11 * 1024 * 1024 // len(line)))

    message = assert_one_line_error(check(huge, tmp_path), 3)

    assert message.startswith(f"{huge}: ") and "too big for a scenario" in message
