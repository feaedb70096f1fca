"""Seeded cases: named sets of consistent facts, one picked per call by the seed (weighted), which rules and the
rubric can test with `case:`. Without `cases` nothing changes: the same seed picks the same facts as before."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from tests.authoring.cli import last_json, run, template_text, write_scenario
from voice_trainer.dialogue.cases import pick_case, seed_for_case
from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.scoring import score_call
from voice_trainer.events import CustomerLine
from voice_trainer.scenario.loader import load_file

CASES = """
cases:
  storm:
    description: The storm held the parcel up; it comes tomorrow.
    weight: 3
    facts:
      reason: "the storm closed the depot"
      eta: ["tomorrow morning", "tomorrow by noon"]
  lost:
    description: The parcel is lost; only a refund or a new parcel helps.
    facts:
      reason: "the courier lost it"
      eta: "never, it's lost"

personas:"""

# Rules that depend on the case, before the template's own rules on explain_delay.
CASE_RULES = """  - on: explain_delay
    from: explaining
    when: {case: lost}
    anger: -5
    say: lost_understood
  - on: explain_delay
    from: explaining
    anger: -10"""

LINES = """  delay_understood:
    - "I see, {reason}. So it comes {eta}?"
  lost_understood:
    - "Lost? {reason}? Then what now?"
"""

RUBRIC_ITEM = """    - id: offered_refund_when_lost
      phase: solution
      title: Offered a refund for a lost parcel
      points: 10
      applies: {case: lost}
      met: {done: [offer_refund]}
      praise: A lost parcel, a refund.
      suggestion: Offer a refund when the parcel is lost.
    - id: solved_by_policy"""


def with_cases(text: str) -> str:
    text = text.replace("\npersonas:", CASES, 1)
    text = text.replace("  - on: explain_delay\n    from: explaining\n    anger: -10", CASE_RULES, 1)
    text = text.replace('  delay_understood:\n    - "I see. So when do I get it, then?"\n', LINES, 1)
    return text.replace("    - id: solved_by_policy", RUBRIC_ITEM, 1)


@pytest.fixture
def scenario_file(tmp_path):
    text = with_cases(template_text("sample", "en"))
    assert "case: lost" in text and "{reason}" in text and "offered_refund_when_lost" in text
    return write_scenario(tmp_path, "sample", "en", text)


def test_the_seed_picks_the_case_by_weight_and_always_the_same(scenario_file):
    s = load_file(scenario_file).data
    picks = Counter(pick_case(s, seed) for seed in range(400))
    assert set(picks) == {"storm", "lost"}
    assert 0.65 <= picks["storm"] / 400 <= 0.85  # weight 3 to 1
    assert [pick_case(s, seed) for seed in range(50)] == [pick_case(s, seed) for seed in range(50)]


def play(s, seed: int, turns: list[str], persona: str = "reasonable") -> tuple[Conversation, list[str]]:
    call = Conversation(s, persona=persona, seed=seed)
    call.opening()
    said = []
    for i, text in enumerate(turns, 1):
        said += [e.text for e in call.handle(text, i) if isinstance(e, CustomerLine)]
    return call, said


GOOD = ["hello, I'm so sorry about the delay", "could you tell me your order number", "and what is the delivery address",
        "the parcel was held up at our warehouse by the storm"]


def test_a_case_sets_its_facts_and_rules_follow_the_case(scenario_file):
    s = load_file(scenario_file).data
    lost, storm = seed_for_case(s, "lost"), seed_for_case(s, "storm")
    call, said = play(s, lost, GOOD)
    assert call.case == "lost" and call.facts["reason"] == "the courier lost it" and call.facts["eta"] == "never, it's lost"
    assert said[-1] == "Lost? The courier lost it? Then what now?"
    call, said = play(s, storm, GOOD)
    assert call.case == "storm" and call.facts["eta"] in ("tomorrow morning", "tomorrow by noon")
    assert said[-1] == f"I see, the storm closed the depot. So it comes {call.facts['eta']}?"


def test_the_rubric_can_apply_to_one_case(scenario_file):
    s = load_file(scenario_file).data
    for case, applies in (("lost", True), ("storm", False)):
        call, _ = play(s, seed_for_case(s, case), GOOD + ["we will refund you in full"])
        items = {i.id: i.met for i in score_call(s, call.call, call.turn_texts).items}
        assert ("offered_refund_when_lost" in items) is applies
        if applies:
            assert items["offered_refund_when_lost"]


def test_without_cases_the_seed_picks_the_facts_it_always_did(tmp_path):
    s = load_file(write_scenario(tmp_path, "sample", "en", template_text("sample", "en"))).data
    for seed in range(20):
        rng = random.Random(seed)
        before = {name: rng.choice(values) for name, values in sorted(s.facts.items())}
        call = Conversation(s, seed=seed)
        assert call.case is None and call.facts == before


def test_practice_case_option_plays_that_case(scenario_file, tmp_path):
    script = tmp_path / "call.txt"
    script.write_text("\n".join(GOOD) + "\n", encoding="utf-8")
    done = run("practice", "--text", "--script", script, "--scenario", scenario_file, "--case", "lost", "--json",
               "--mute", "--data-dir", tmp_path / "data")
    assert done.returncode == 0, done.stderr
    result = last_json(done.stdout)
    assert pick_case(load_file(scenario_file).data, result["seed"]) == "lost"
    assert result["turns"][-1]["customer"] == "Lost? The courier lost it? Then what now?"


@pytest.mark.parametrize("args,says", [
    (("--case", "flooded"), "no such case; cases are: storm, lost"),
    (("--case", "lost", "--seed", "SEED_OF_STORM"), "plays case 'storm', not 'lost'"),
])
def test_practice_case_option_with_bad_input_is_one_line(args, says, scenario_file, tmp_path):
    storm = seed_for_case(load_file(scenario_file).data, "storm")
    args = tuple(str(storm) if a == "SEED_OF_STORM" else a for a in args)
    done = run("practice", "--text", "--scenario", scenario_file, *args, "--mute", "--data-dir", tmp_path / "data",
               input="hello\n")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("mutate,path,says", [
    (lambda t: t.replace("when: {case: lost}", "when: {case: lots}"), "rules.8.when.case", "unknown case 'lots'"),
    (lambda t: t.replace('      eta: "never, it\'s lost"\n', ""), "lines.delay_understood.0",
     "placeholder {eta} is set by case 'storm' but not by lost"),
    (lambda t: t.replace('eta: ["tomorrow morning", "tomorrow by noon"]', "eta: []"), "cases.storm.facts.eta",
     "has no values in case 'storm'"),
])
def test_check_finds_mistakes_in_cases(mutate, path, says, tmp_path):
    text = mutate(with_cases(template_text("sample", "en")))
    done = run("scenario", "check", write_scenario(tmp_path, "sample", "en", text))
    assert done.returncode == 3
    assert f"({path})" in done.stderr and says in done.stderr, done.stderr
