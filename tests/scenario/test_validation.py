"""A bad scenario file gives one clear error per problem, naming the file, the line or key path and what is wrong.

Each case is a small mutation of the seed scenario, checked twice: through `voice-trainer scenario check`
as a user runs it, and through the loader API the session uses.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from voice_trainer.errors import ScenarioError
from voice_trainer.scenario.loader import load, load_file

SEED = Path(__file__).resolve().parents[2] / "scenarios" / "razryv.ru.yaml"
CLI = shutil.which("voice-trainer", path=str(Path(sys.executable).parent)) or "voice-trainer"


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [CLI, "scenario", "check", *args], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL
    )


def replace(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        assert text.count(old) >= count, f"seed scenario changed: {old!r} not found"
        return text.replace(old, new, count)

    return mutate


def regex(pattern: str, new: str) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        result, n = re.subn(pattern, new, text, count=1, flags=re.MULTILINE)
        assert n == 1, f"seed scenario changed: {pattern!r} not found"
        return result

    return mutate


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing `needle` in the mutated text."""
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(f"{needle!r} not in text")


@dataclass(frozen=True)
class Problem:
    """One expected error: its key path (None when only a line makes sense), a phrase of the message,
    and a text on the offending line (the reported line must be that one)."""

    path: str | None
    says: str
    at: str | None = None


def first_pattern_of(move: str, pattern: str) -> Callable[[str], str]:
    return regex(rf'(^  {move}:\n(?:    .*\n)*?    patterns:\n      - )"[^"\n]*"', rf'\g<1>"{pattern}"')


def retarget_rules(target: str, instead: str) -> Callable[[str], str]:
    """Every rule that led to `target` leads to `instead`."""

    def mutate(text: str) -> str:
        old, new = f"\n    to: {target}\n", f"\n    to: {instead}\n"
        assert old in text, f"seed scenario changed: no rule leads to {target!r}"
        return text.replace(old, new)

    return mutate


CASES = {
    "tab_indentation": (
        replace("\n    start_anger: 55", "\n\tstart_anger: 55"),
        [Problem(None, "not valid YAML", at="start_anger: 55")],
    ),
    "bad_indentation": (
        replace('\ntitle: "Ни единого разрыва"', '\n  title: "Ни единого разрыва"'),
        [Problem(None, "not valid YAML", at='title: "Ни единого разрыва"')],
    ),
    "unclosed_quote": (
        replace('title: "Ни единого разрыва"', 'title: "Ни единого разрыва'),
        [Problem(None, "not valid YAML")],
    ),
    "python_tag": (
        replace('title: "Ни единого разрыва"', "title: !!python/name:os.system"),
        [Problem(None, "not valid YAML", at="title: !!python/name:os.system")],
    ),
    "undefined_alias": (
        replace('title: "Ни единого разрыва"', "title: *name"),
        [Problem(None, "not valid YAML", at="title: *name")],
    ),
    "two_documents": (
        lambda text: text + "---\nscenario: other\n",
        [Problem(None, "one scenario per file", at="---\n")],
    ),
    "empty_file": (lambda text: "", [Problem(None, "empty")]),
    "only_comments": (lambda text: "# nothing here yet\n", [Problem(None, "empty")]),
    "a_list_not_a_mapping": (lambda text: "- one\n- two\n", [Problem(None, "mapping")]),
    "unknown_top_level_key": (
        lambda text: text + "colour: red\n",
        [Problem("colour", "unknown key 'colour'", at="colour: red")],
    ),
    "unknown_key_in_move": (
        replace("  greet:\n    phase: opening\n", "  greet:\n    phase: opening\n    patern: здравствуй*\n"),
        [Problem("moves.greet.patern", "unknown key 'patern'", at="patern: здравствуй*")],
    ),
    "unknown_key_in_rule": (
        replace('  - on: mock\n    from: "*"\n', '  - on: mock\n    from: "*"\n    too: opening\n'),
        [Problem("rules.0.too", "unknown key 'too'", at="too: opening")],
    ),
    "unknown_key_in_rule_conditions": (
        replace("when: {policy: let_go}", "when: {polcy: let_go}"),
        [Problem("rules.2.when.polcy", "unknown key 'polcy'", at="polcy: let_go")],
    ),
    "unknown_key_in_rubric_item": (
        replace("    - id: apologized\n", "    - id: apologized\n      weight: 3\n"),
        [Problem("rubric.items.0.weight", "unknown key 'weight'", at="weight: 3")],
    ),
    "missing_top_level_key": (
        replace('title: "Ни единого разрыва"\n', ""),
        [Problem("title", "missing required key 'title'")],
    ),
    "missing_key_in_move": (
        regex(r"^  greet:\n    phase: opening\n(    #.*\n)?    repeatable: \d+\n    examples:\n(      - .*\n)+", "  greet:\n    phase: opening\n"),
        [Problem("moves.greet.examples", "missing required key 'examples'", at="  greet:")],
    ),
    "wrong_type_number": (
        replace("start_anger: 55", "start_anger: lots"),
        [Problem("personas.reasonable.start_anger", "expected a number (got 'lots')", at="start_anger: lots")],
    ),
    "wrong_type_list_instead_of_mapping": (
        replace("anger:\n  max: 100\n", "anger: [100]\n"),
        [Problem("anger", "", at="anger: [100]")],
    ),
    "text_instead_of_lines": (
        regex(r"^  greet_reply:\n(    - .*\n)+", "  greet_reply: Здравствуйте.\n"),
        [Problem("lines.greet_reply", "expected a list or a mapping", at="greet_reply: Здравствуйте.")],
    ),
    "number_instead_of_line_text": (
        replace('      - "Да! Ни единого разрыва! Сколько можно повторять!"\n', "      - 5\n"),
        [Problem("lines.answer_confirm.stubborn.0", "string", at="      - 5")],
    ),
    "number_out_of_range": (
        replace("    start_anger: 70", "    start_anger: -5"),
        [Problem("personas.stubborn.start_anger", "-5", at="start_anger: -5")],
    ),
    "rule_to_unknown_state": (
        replace("    to: insisting\n    anger: 3\n", "    to: insistnig\n    anger: 3\n"),
        [Problem("rules.", "unknown state 'insistnig'", at="to: insistnig")],
    ),
    "auto_rule_to_unknown_state": (
        replace("    to: debrief\n", "    to: debrif\n"),
        [Problem("auto.1.to", "unknown state 'debrif'", at="to: debrif")],
    ),
    "rule_from_unknown_state": (
        replace("    from: permission_granted\n    to: standing_firm\n", "    from: permision_granted\n    to: standing_firm\n"),
        [Problem("rules.", "unknown state 'permision_granted'", at="from: permision_granted")],
    ),
    "rule_on_unknown_move": (
        replace('  - on: reassure\n    from: "*"\n', '  - on: reasure\n    from: "*"\n'),
        [Problem("rules.", "unknown move 'reasure'", at="on: reasure")],
    ),
    "rule_says_a_missing_line": (
        replace("    say: [mocked, mocked_again]\n", "    say: [mokked, mocked_again]\n"),
        [Problem("rules.0.say.0", "no line 'mokked'", at="say: [mokked")],
    ),
    "rule_leads_with_a_missing_line": (
        replace("    lead: cause_lead\n", "    lead: cause_leed\n"),
        [Problem("rules.", "no line 'cause_leed'", at="lead: cause_leed")],
    ),
    "credit_for_a_move_that_counts": (
        replace("    counts: false\n    credit: true\n", "    credit: true\n"),
        [Problem("rules.", "'credit: true' is for a refused move", at="credit: true")],
    ),
    "condition_on_an_unknown_detail": (
        replace("when: {not_said: [cause]}", "when: {not_said: [couse]}"),
        [Problem("rules.", "unknown detail 'couse'", at="not_said: [couse]")],
    ),
    "chance_in_the_rubric": (
        replace("      met: {done: [reassure]}\n", "      met: {done: [reassure], chance: {anger: [10, 20]}}\n"),
        [Problem("rubric.items.", "cannot depend on luck", at="chance: {anger: [10, 20]}")],
    ),
    "chance_with_an_unknown_param": (
        replace("anger: [$comes_round_surely_below, $comes_round_never_from]",
                "anger: [$comes_round_surely_below, $comes_round_never]"),
        [Problem("rules.", "has no param 'comes_round_never'", at="$comes_round_never]"),
         Problem("rules.", "has no param 'comes_round_never'", at="$comes_round_never]")],
    ),
    "date_fact_outside_the_timeline": (
        replace('"пятнадцатого октября"', '"пятнадцатого апреля"'),
        [Problem("facts.connect_date.0", "months before a call in month", at="пятнадцатого апреля")],
    ),
    "date_fact_without_a_month": (
        replace('"двенадцатого ноября"', '"двенадцатого числа"'),
        [Problem("facts.connect_date.1", "names no month", at="двенадцатого числа")],
    ),
    "timeline_names_an_unknown_fact": (
        replace("    connect_date: {months_before: [4, 6]}", "    connect_day: {months_before: [4, 6]}"),
        [Problem("timeline.dates.connect_day", "unknown fact 'connect_day'", at="connect_day: {months_before")],
    ),
    "call_month_out_of_range": (
        replace("call_months: [3, 4]", "call_months: [3, 14]"),
        [Problem("timeline.call_months.1", "month 14 is not 1 to 12", at="call_months: [3, 14]")],
    ),
    "quality_names_an_unknown_marker": (
        replace("      markers: {polite: 1, softening: 2, curt: -2}", "      markers: {polite: 1, softenning: 2, curt: -2}"),
        [Problem("tone.quality.0.markers.softenning", "unknown marker 'softenning'", at="softenning: 2")],
    ),
    "move_judged_twice": (
        replace("    - moves: [ask_permission]\n", "    - moves: [ask_permission, ask_toilet]\n"),
        [Problem("tone.quality.1.moves", "already judged by tone.quality[0]", at="moves: [ask_permission, ask_toilet]")],
    ),
    "bad_pattern_in_a_detail": (
        replace('          - "авари*!"\n', '          - "авари*! + "\n'),
        [Problem("details.cause.kinds.damage.patterns.0", "", at='"авари*! + "')],
    ),
    "combined_line_missing": (
        replace("    say: apology_and_cause_lead\n", "    say: apology_and_cause\n"),
        [Problem("combined_lines.0.say", "no line 'apology_and_cause'", at="say: apology_and_cause")],
    ),
    "penalty_same_as_an_unknown_item": (
        replace("      same_as: apologized\n", "      same_as: apologised\n"),
        [Problem("rubric.penalties.", "no rubric item 'apologised'", at="same_as: apologised")],
    ),
    "detail_named_like_an_engine_field": (
        lambda text: text.replace("  office_time:\n    read: day_and_time", "  answer:\n    read: day_and_time")
                         .replace("said: [office_time]", "said: [answer]"),
        [Problem("details.answer", "filled in by the engine", at="  answer:\n")],
    ),
    "state_named_like_the_model": (
        lambda text: text.replace("office_time_pending", "call"),
        [Problem("states.call", "a name the state machine uses itself", at="  call:\n")],
    ),
    "detail_with_kinds_and_a_reader": (
        replace("  office_time:\n    read: day_and_time\n", "  office_time:\n    read: day_and_time\n    kinds: {x: {examples: [a], patterns: [a], say: [a]}}\n"),
        [Problem("details.office_time", "either 'kinds'", at="  office_time:\n")],
    ),
    "reaction_says_a_missing_line": (
        replace("unknown: {say: not_understood", "unknown: {say: not_understod"),
        [Problem("reactions.unknown.say", "no line 'not_understod'", at="not_understod")],
    ),
    "opening_line_missing": (
        replace("\nopening: opening\n", "\nopening: openning\n"),
        [Problem("opening", "no line 'openning'", at="opening: openning")],
    ),
    "line_with_empty_variants": (
        regex(r"^  greet_reply:\n(    - .*\n)+", "  greet_reply: []\n"),
        [Problem("lines.greet_reply", "no variants", at="greet_reply: []")],
    ),
    "persona_line_with_empty_variants": (
        regex(r"^    stubborn:\n      - \"Да! Ни единого.*\n      - .*\n", "    stubborn: []\n"),
        [Problem("lines.answer_confirm.stubborn", "no variants", at="stubborn: []")],
    ),
    "line_with_unknown_placeholder": (
        replace("Модем у меня {modem}.", "Модем у меня {router}."),
        [Problem("lines.answer_modem.0", "{router}", at="{router}")],
    ),
    "unreachable_ending": (
        retarget_rules("contract_hangup", "standing_firm"),
        [Problem("endings.contract_hangup", "unreachable", at="  contract_hangup:")],
    ),
    "unreachable_state": (
        replace("    from: insisting\n    to: permission_granted\n",
                "    from: insisting\n    to: understanding\n"),
        [Problem("states.permission_granted", "can never be entered from 'opening' (so are 'standing_firm'",
                 at="  permission_granted:")],
    ),
    "duplicate_top_level_key": (
        lambda text: text + "title: Другое название\n",
        [Problem("title", "appears twice", at="title: Другое название")],
    ),
    "duplicate_move": (
        replace("\nrules:\n", "\n  greet:\n    examples: [привет]\n\nrules:\n"),
        [Problem("moves.greet", "appears twice", at="  greet:\n")],
    ),
    "unknown_persona_in_rule_condition": (
        replace("when: {policy: keep_client}", "when: {persona: grumpy}"),
        [Problem("rules.", "unknown persona 'grumpy'", at="persona: grumpy")],
    ),
    "unknown_persona_in_line_variants": (
        replace("  answer_usage:\n    reasonable:", "  answer_usage:\n    reasonable:\n      - Да.\n    grumpy:"),
        [Problem("lines.answer_usage.grumpy", "unknown persona 'grumpy'", at="grumpy:")],
    ),
    "unknown_default_persona": (
        replace("default_persona: reasonable", "default_persona: calm"),
        [Problem("default_persona", "unknown persona 'calm'", at="default_persona: calm")],
    ),
    "rubric_item_with_unknown_phase": (
        replace("    - id: apologized\n      phase: opening\n", "    - id: apologized\n      phase: openning\n"),
        [Problem("rubric.items.0.phase", "unknown phase 'openning'", at="phase: openning")],
    ),
    "state_with_unknown_phase": (
        replace("    phase: tone\n    description: Извинения", "    phase: tonne\n    description: Извинения"),
        [Problem("states.clarifying.phase", "unknown phase 'tonne'", at="phase: tonne")],
    ),
    "bad_pattern_syntax": (
        first_pattern_of("apologize", "извин*ите"),
        [Problem("moves.apologize.patterns.0", "'извин*ите'", at='"извин*ите"')],
    ),
    "regular_expression_as_pattern": (
        first_pattern_of("apologize", "(извин.*|простите)"),
        [Problem("moves.apologize.patterns.0", "can never match", at='"(извин.*|простите)"')],
    ),
    "pattern_with_empty_alternative": (
        first_pattern_of("apologize", "сожале*||жаль"),
        [Problem("moves.apologize.patterns.0", "empty alternative", at='"сожале*||жаль"')],
    ),
    "two_problems_two_lines": (
        lambda text: replace("    say: [mocked, mocked_again]\n", "    say: [mokked, mocked_again]\n")(
            replace("start_anger: 55", "start_anger: 555x")(text)),
        [Problem("personas.reasonable.start_anger", "555x", at="start_anger: 555x")],
    ),
    "two_meaning_problems_two_lines": (
        lambda text: replace("    say: [mocked, mocked_again]\n", "    say: [mokked, mocked_again]\n")(
            replace("    phase: tone\n    description: Извинения", "    phase: tonne\n    description: Извинения")(text)
        ),
        [Problem("states.clarifying.phase", "unknown phase 'tonne'", at="phase: tonne"),
         Problem("rules.0.say.0", "no line 'mokked'", at="say: [mokked")],
    ),
    # A YAML syntax error names its likely cause on the line to fix, not only where the parser gave up.
    "tab_named_as_the_cause": (
        replace("\n    start_anger: 55", "\n\tstart_anger: 55"),
        [Problem(None, "tab character", at="start_anger: 55")],
    ),
    "key_without_its_colon": (
        replace("\n    start_anger: 55", "\n    start_anger 55"),
        [Problem(None, "key without its colon", at="start_anger 55")],
    ),
    "block_key_without_its_colon": (
        replace("\ncustomer:\n", "\ncustomer\n"),
        [Problem(None, "key without its colon", at="customer\n")],
    ),
    "value_holding_colon_space": (
        replace('suggestion: "Начните с извинения: «Приносим', "suggestion: Начните с извинения: «Приносим"),
        [Problem(None, "holds ': '", at="suggestion: Начните с извинения")],
    ),
    "line_indented_off_step": (
        replace("\n    start_anger: 55", "\n     start_anger: 55"),
        [Problem(None, "off the 2-space steps", at="start_anger: 55")],
    ),
    "key_indented_deeper_than_its_neighbour": (
        replace("\n    start_anger: 55", "\n      start_anger: 55"),
        [Problem(None, "indented more", at="start_anger: 55")],
    ),
    "quote_left_open": (
        replace('  name: Геннадий Петрович', '  name: "Геннадий Петрович'),
        [Problem(None, "quote", at="name: \"Геннадий")],
    ),
    # Aliases: a loop or an alias bomb is refused from the parse, before anything expands it.
    "alias_inside_its_own_anchor": (
        lambda text: text + "loop: &loop [one, *loop]\n",
        [Problem(None, "alias *loop is inside the value it stands for", at="loop: &loop")],
    ),
    "alias_bomb": (
        lambda text: text + BOMB,
        [Problem(None, "an alias bomb", at="bomb_e:")],
    ),
}

# "Billion laughs": 9 aliases to 9 aliases to ... ; 9**9 values spelled in a few hundred bytes.
BOMB = "bomb_a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"bomb_{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi")
)


@pytest.fixture(params=sorted(CASES))
def broken(request, tmp_path) -> tuple[Path, str, list[Problem]]:
    mutate, problems = CASES[request.param]
    text = mutate(SEED.read_text(encoding="utf-8"))
    path = tmp_path / f"{request.param}.ru.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text, problems


def expected_line(text: str, problem: Problem) -> int | None:
    if problem.at is None:
        return None
    needle = problem.at.rstrip("\n")
    if problem.at.endswith("\n"):  # the key itself, as a whole line; the last one (duplicates come second)
        lines = text.splitlines()
        return max(n for n, line in enumerate(lines, 1) if line == needle)
    return line_of(text, needle)


def test_scenario_check_reports_each_problem_on_one_line(broken):
    path, text, problems = broken
    done = run_check(str(path))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(problems), done.stderr
    for line, problem in zip(lines, problems):
        assert str(path) in line
        assert problem.says in line
        if problem.path is not None:
            assert f"({problem.path}" in line
        wanted = expected_line(text, problem)
        if wanted is not None:
            assert f"{path}:{wanted}" in line, (wanted, line)
        else:
            assert re.search(re.escape(str(path)) + r":\d+", line), line


def test_loader_raises_scenario_error_with_file_path_and_line(broken):
    path, text, problems = broken
    with pytest.raises(ScenarioError) as caught:
        load(str(path))
    errors = getattr(caught.value, "errors", [caught.value])
    assert len(errors) == len(problems)
    for error, problem in zip(errors, problems):
        assert error.file == str(path)
        assert problem.says in error.message
        if problem.path is not None:
            assert error.path.startswith(problem.path)
        assert error.line == (expected_line(text, problem) or error.line)
        assert error.line is not None and error.line >= 1


def test_good_scenario_is_ok():
    done = run_check(str(SEED))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith(f"{SEED}: ok")


def test_several_files_are_checked_and_each_reported(tmp_path):
    bad = tmp_path / "bad.ru.yaml"
    bad.write_text(SEED.read_text(encoding="utf-8") + "colour: red\n", encoding="utf-8")
    done = run_check(str(SEED), str(bad))
    assert done.returncode != 0
    assert f"{SEED}: ok" in done.stdout
    assert str(bad) in done.stderr and "colour" in done.stderr


def test_missing_file_is_one_line_error(tmp_path):
    missing = tmp_path / "nosuch.ru.yaml"
    done = run_check(str(missing))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(missing) in done.stderr


def test_directory_instead_of_file_is_one_line_error(tmp_path):
    folder = tmp_path / "scenarios.yaml"
    folder.mkdir()
    done = run_check(str(folder))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert str(folder) in done.stderr and "director" in done.stderr
    with pytest.raises(ScenarioError, match="director"):
        load(str(folder))


def test_non_utf8_file_is_one_line_error_naming_the_line(tmp_path):
    path = tmp_path / "latin1.ru.yaml"
    text = SEED.read_text(encoding="utf-8").replace("  name: Геннадий Петрович", "  name: Gen\xe9dy")
    path.write_bytes(text.encode("utf-8").replace("Gen\xe9dy".encode("utf-8"), b"Gen\xe9dy"))
    done = run_check(str(path))
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "UTF-8" in done.stderr
    assert f"{path}:{line_of(text, 'Gen')}" in done.stderr
    with pytest.raises(ScenarioError) as caught:
        load_file(path)
    assert caught.value.line == line_of(text, "Gen")

