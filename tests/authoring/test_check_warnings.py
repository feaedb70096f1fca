"""`voice-trainer scenario check` warns about traps: valid, but probably not what the author meant.

Each case mutates the template `scenario new` writes (which has no warning) into one trap, and checks the
warning as a user sees it: file, line, key path and what to do, on stdout; exit 0, or 1 with --strict.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.authoring.cli import run, template_text, warnings_of, write_scenario
from voice_trainer.scenario.loader import check_file


def replace(old: str, new: str):
    def mutate(text: str) -> str:
        assert old in text, f"template changed: {old!r} not found"
        return text.replace(old, new, 1)

    return mutate


CATCH_ALL_REFUND = """  - on: offer_refund
    from: "*"
    anger: -1
    say: accepts_refund
"""

TRAPS = {
    # A catch-all rule first: every later rule on the move is dead, wholly or for that move.
    "rule_shadowed_by_a_catch_all": (
        "en", replace("  - on: [offer_new_date, offer_refund]\n    from: [opening, finding]\n",
                      CATCH_ALL_REFUND + "  - on: [offer_new_date, offer_refund]\n    from: [opening, finding]\n"),
        [("rules.10", "can never fire for 'offer_refund' (only for 'offer_new_date'): rules[9] (on: offer_refund, "
          "from: \"*\", no 'when') before it", "  - on: [offer_new_date, offer_refund]\n    from: [opening, finding]"),
         ("rules.11", "can never fire for 'offer_refund'", "  - on: [offer_new_date, offer_refund]\n    from: explaining\n    when: {not_done"),
         ("rules.12", "can never fire for 'offer_refund'", "  - on: [offer_new_date, offer_refund]\n    from: explaining\n    when: {anger_at"),
         ("rules.13", "this rule can never fire: rules[9]", "  - on: offer_refund\n    from: explaining\n    when: {policy"),
         ("rules.14", "this rule can never fire: rules[9]", "  - on: offer_refund\n    from: explaining\n    to: resolved")],
    ),
    # An earlier rule with looser conditions over the same states.
    "rule_shadowed_by_looser_conditions": (
        "en", replace("    when: {policy: new_date}\n    to: resolved\n    say: accepts_refund\n",
                      "    to: resolved\n    say: accepts_refund\n"),
        [("rules.13", "this rule can never fire: rules[12]", "  - on: offer_refund\n    from: explaining\n    to: resolved\n    say: accepts_refund\n  - on: offer_new_date")],
    ),
    "auto_rule_shadowed": (
        "en", replace("    to: explaining\n\n", "    to: explaining\n  - from: finding\n    when: {done: [ask_order, ask_address], anger_below: 90}\n    to: explaining\n\n"),
        [("auto.1", "this auto rule can never fire: auto[0]", "  - from: finding\n    when: {done:")],
    ),
    # The customer only gets to `explaining` once both questions were asked: asked again, a question is
    # "already answered" before any rule is tried.
    "rule_after_its_move_counts_no_more": (
        "en", replace("  - on: ask_order\n    from: \"*\"\n", "  - on: ask_order\n    from: explaining\n    say: answer_order\n"
                      "  - on: ask_order\n    from: \"*\"\n"),
        [("rules.5", "this rule can never fire: the customer gets to explaining only after 'ask_order' was done",
          "  - on: ask_order\n    from: explaining")],
    ),
    "line_never_said": (
        "en", replace("  greet_reply:\n", "  spare_line:\n    - \"Nobody says this.\"\n  greet_reply:\n"),
        [("lines.spare_line", "line 'spare_line' is never said", "  spare_line:")],
    ),
    "move_falls_to_out_of_place_in_one_state": (
        "en", replace("  - on: explain_delay\n    from: [opening, finding]\n", "  - on: explain_delay\n    from: [opening]\n"),
        [("moves.explain_delay", "no rule takes 'explain_delay' in state finding", "  explain_delay:")],
    ),
    "scenario_unlike_the_file_name": (
        "en", replace("scenario: sample ", "scenario: parcel "),
        [("scenario", "named for scenario 'sample' but says scenario: parcel", "scenario: parcel")],
    ),
    "language_unlike_the_file_name": (
        "en", replace("language: en ", "language: ru "),
        [("language", "named for language 'en' but says language: ru", "language: ru")],
    ),
    "persona_that_does_not_exist_in_a_line_key": (
        "en", replace("  insulted@stubborn:\n", "  insulted@grumpy:\n"),
        [("lines.insulted@grumpy", "names persona 'grumpy', which this scenario does not have", "  insulted@grumpy:")],
    ),
    "persona_line_without_the_line_for_the_others": (
        "en", replace("  repeating:\n", "  sighs@stubborn:\n    - \"Sigh.\"\n  repeating:\n"),
        [("lines.sighs@stubborn", "there is no line 'sighs' for the others", "  sighs@stubborn:")],
    ),
    "pattern_word_read_as_another_word": (
        "ru", replace('      - "извини*|извиня*|извинени*|простите|прощени*|сожале*"',
                      '      - "извини*|извиня*|извинени*|простите|прощени*|сожале*"\n      - "наша вина"'),
        [("moves.apologize.patterns.1", "pattern word 'вина' also matches вино", '"наша вина"')],
    ),
}


@pytest.fixture(params=sorted(TRAPS))
def trap(request, tmp_path):
    lang, mutate, expected = TRAPS[request.param]
    text = mutate(template_text("sample", lang))
    return write_scenario(tmp_path, "sample", lang, text), text, expected


def line_of(text: str, needle: str) -> int:
    at = text.index(needle)
    return text[:at].count("\n") + 1 + (1 if needle.startswith("\n") else 0)


def test_each_trap_is_one_warning_naming_file_line_path_and_what_to_do(trap):
    path, text, expected = trap
    done = run("scenario", "check", path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    warnings = warnings_of(done)
    assert len(warnings) == len(expected), done.stdout
    for warning, (key_path, says, at) in zip(warnings, expected):
        assert warning.startswith(f"{path}:{line_of(text, at)} ({key_path}): warning: "), (warning, line_of(text, at))
        assert says in warning
    assert done.stdout.splitlines()[-1].endswith(f"{len(expected)} warning{'s' if len(expected) > 1 else ''})")


def test_strict_makes_a_warning_fail_the_check(trap):
    path, _, _ = trap
    done = run("scenario", "check", "--strict", path)
    assert done.returncode == 1
    assert "--strict" in done.stderr and "Traceback" not in done.stderr


def test_an_error_still_fails_and_warnings_of_other_files_are_shown(tmp_path):
    good = write_scenario(tmp_path, "sample", "en", replace("  greet_reply:\n", "  spare:\n    - \"x\"\n  greet_reply:\n")(
        template_text("sample", "en")))
    bad = write_scenario(tmp_path, "broken", "en", template_text("broken", "en").replace("    to: resolved\n", "    to: resolvd\n", 1))
    done = run("scenario", "check", bad, good)
    assert done.returncode == 3
    assert f"{bad}:" in done.stderr and "resolvd" in done.stderr and "Traceback" not in done.stderr
    assert "line 'spare' is never said" in done.stdout and f"{good}: ok" in done.stdout


def test_rules_that_only_look_alike_are_not_shadowed(tmp_path):
    """Narrower rules first and a catch-all last, a rule with `chance`, a wider state list after a narrower one:
    no warning (the template itself is full of these)."""
    text = template_text("sample", "en").replace(
        "  - on: end_call\n", "  - on: end_call\n    from: explaining\n    when: {chance: {anger: [10, 90]}}\n"
        "    to: abandoned\n    say: trainee_left\n  - on: end_call\n", 1)
    path = write_scenario(tmp_path, "sample", "en", text)
    _, warnings = check_file(path)
    assert warnings == []


def test_lemma_traps_come_from_the_finder_the_caller_passes(tmp_path):
    """The plumbing at its unit boundary: whatever the understanding engine reports is placed on the pattern's
    line, once per move and word."""

    class Trap:
        def __init__(self, key, index):
            self.move, self.key, self.index, self.word, self.matches = "explain_delay", key, index, "storm", ("stormy",)

    path = write_scenario(tmp_path, "sample", "en", template_text("sample", "en"))
    _, warnings = check_file(path, lemma_traps=lambda moves, lang: [Trap("patterns", 0), Trap("patterns", 0)])
    assert [w.path for w in warnings] == ["moves.explain_delay.patterns.0"]
    assert "'storm' (and in 1 more of this move's patterns) also matches stormy" in warnings[0].message
    assert warnings[0].line == line_of(path.read_text(encoding="utf-8"), '"warehouse|storm')


@pytest.mark.parametrize("name", ["razryv.ru", "razryv.en", "speed.ru", "speed.en"])
def test_shipped_scenarios_pass_check(name):
    path = Path(__file__).resolve().parents[2] / "scenarios" / f"{name}.yaml"
    done = run("scenario", "check", path)
    assert done.returncode == 0, done.stderr
    assert re.search(rf"{re.escape(str(path))}: ok \(", done.stdout)
    if name.startswith("speed"):  # the second scenario is clean: no trap for a trainer who copies from it
        assert "warning" not in done.stdout, done.stdout
