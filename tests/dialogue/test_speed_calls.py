"""The second scenario, 'speed', played through the real Conversation, transitions machine and scoring.

Scripts live in tests/scripts/speed/LANG/*.txt. Each header line says for which persona and policy the script
and case (the state of his line, picked by the call's seed) is meant and what must happen:
    # persona=stubborn policy=check_first case=line_faulty outcome=satisfied score>=95 penalties=none met=opened_line_check
`penalties=a,b` must all be charged (`none`: nothing charged), `met=`/`missed=` name rubric items.
Every persona x policy x ending of the scenario is covered in both languages, each persona is played in each
case, and the same script ends the same way in Russian and in English.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest

from tests.scenario.test_en_matches_ru import line_keys_used
from voice_trainer.dialogue.cases import pick_case, seed_for_case
from voice_trainer.practice.text import run_text, script_lines
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts" / "speed"
HEADER = re.compile(r"#\s*persona=(\w+)\s+policy=(\w+)\s+case=(\w+)\s+outcome=(\w+)(.*)$")
RU = load("speed", "ru").data
EN = load("speed", "en").data


def expectations(rest: str) -> dict:
    fields = dict(re.findall(r"(\w+)=([\w,]+)", rest))
    names = lambda key: [] if fields.get(key, "none") == "none" else fields[key].split(",")  # noqa: E731
    return {
        "low": max([int(x) for x in re.findall(r"score>=(\d+)", rest)], default=0),
        "high": min([int(x) for x in re.findall(r"score<=(\d+)", rest)], default=100),
        "penalties": names("penalties"),
        "no_penalties": fields.get("penalties") == "none",
        "met": names("met"),
        "missed": names("missed"),
    }


def headers(path: Path) -> list[tuple[str, str, str, str, str]]:
    return [m.groups() for line in path.read_text(encoding="utf-8").splitlines() if (m := HEADER.match(line))]


def cases():
    for path in sorted(SCRIPTS.glob("*/*.txt")):
        for persona, policy, case, outcome, rest in headers(path):
            yield pytest.param(path, path.parent.name, persona, policy, case, outcome, expectations(rest),
                               id=f"{path.parent.name}/{path.stem}[{persona},{policy},{case}]")


def play(path: Path, lang: str, persona: str, policy: str, case: str, seed: int, data_dir: Path) -> dict:
    """The call with the first seed from `seed` on whose case is `case` (the facts still vary with the seed)."""
    loaded = load("speed", lang)
    seed = seed_for_case(loaded.data, case, start=seed)
    session = Session(loaded, persona=persona, policy=policy, seed=seed, data_dir=data_dir)
    run_text(session, script_lines(path))
    return session.finish()


@pytest.mark.parametrize("path,lang,persona,policy,case,outcome,want", list(cases()))
@pytest.mark.parametrize("seed", [1, 200])
def test_scripted_speed_call_ends_and_scores_as_the_method_implies(path, lang, persona, policy, case, outcome, want,
                                                                    seed, data_dir):
    result = play(path, lang, persona, policy, case, seed, data_dir)
    summary = [(t["trainee"][:50], t["moves"], t["state"]) for t in result["turns"]]
    charged = {p["flag"] for p in result["penalties"]}
    assert result["outcome"] == outcome, summary
    assert want["low"] <= result["score"] <= want["high"], (result["score"], result["missed"], charged, summary)
    assert set(want["penalties"]) <= charged, (charged, summary)
    if want["no_penalties"]:
        assert charged == set(), summary
    assert set(want["met"]) <= set(result["met"]), (result["missed"], summary)
    assert set(want["missed"]) <= set(result["missed"]), result["met"]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_scripts_reach_every_ending_for_every_persona_and_policy(lang):
    s = load("speed", lang).data
    covered = {(c.values[2], c.values[3], c.values[5]) for c in cases() if c.values[1] == lang}
    assert set(product(s.personas, s.policies, s.endings)) - covered == set()


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_each_persona_is_played_to_a_success_in_each_case(lang):
    s = load("speed", lang).data
    succeeded = {(c.values[2], c.values[4]) for c in cases()
                 if c.values[1] == lang and s.endings[c.values[5]].success}
    assert set(product(s.personas, s.cases)) - succeeded == set()


def test_the_seed_picks_the_line_for_either_persona_fine_more_often():
    picked = [pick_case(RU, seed) for seed in range(300)]
    assert picked == [pick_case(EN, seed) for seed in range(300)]  # same seed, same case in both languages
    assert picked.count("line_faulty") < picked.count("line_fine") < 300


def test_every_russian_script_has_an_english_twin_with_the_same_headers():
    ru_scripts = sorted(p.name for p in (SCRIPTS / "ru").glob("*.txt"))
    assert ru_scripts == sorted(p.name for p in (SCRIPTS / "en").glob("*.txt"))
    for name in ru_scripts:
        assert headers(SCRIPTS / "ru" / name) == headers(SCRIPTS / "en" / name), name


def summary_of(lang: str, path: Path, persona: str, policy: str, case: str, data_dir: Path) -> tuple:
    result = play(path, lang, persona, policy, case, 1, data_dir)
    return result["outcome"], sorted(result["met"]), sorted(p["flag"] for p in result["penalties"])


@pytest.mark.parametrize("path,lang,persona,policy,case,outcome,want",
                         [c for c in cases() if c.values[1] == "ru"])
def test_the_same_call_in_english_ends_as_in_russian(path, lang, persona, policy, case, outcome, want, tmp_path):
    ru = summary_of("ru", path, persona, policy, case, tmp_path / "ru")
    en = summary_of("en", SCRIPTS / "en" / path.name, persona, policy, case, tmp_path / "en")
    assert en == ru


# --- The two files are one scenario: same ids, same logic, same numbers ---------------------------------

@pytest.mark.parametrize("part", ["moves", "states", "endings", "personas", "policies", "lines", "facts"])
def test_english_has_the_same_ids_as_russian(part):
    assert set(getattr(EN, part)) == set(getattr(RU, part))


def test_rules_personas_rubric_and_line_keys_are_the_same_in_both_languages():
    assert [r.model_dump() for r in EN.rules] == [r.model_dump() for r in RU.rules]
    assert [a.model_dump() for a in EN.auto] == [a.model_dump() for a in RU.auto]
    assert EN.reactions.model_dump() == RU.reactions.model_dump()
    assert {k: (p.start_anger, p.anger_factor, p.params) for k, p in EN.personas.items()} == {
        k: (p.start_anger, p.anger_factor, p.params) for k, p in RU.personas.items()}
    assert [(i.id, i.points, i.met, i.applies, i.evidence, i.phase) for i in EN.rubric.items] == [
        (i.id, i.points, i.met, i.applies, i.evidence, i.phase) for i in RU.rubric.items]
    assert [(p.flag, p.points, p.max_times) for p in EN.rubric.penalties] == [
        (p.flag, p.points, p.max_times) for p in RU.rubric.penalties]
    assert EN.rubric.ending_caps == RU.rubric.ending_caps
    assert line_keys_used(EN) == line_keys_used(RU)
    assert {k: (m.kind, m.phase, m.repeatable) for k, m in EN.moves.items()} == {
        k: (m.kind, m.phase, m.repeatable) for k, m in RU.moves.items()}


def test_every_line_key_has_several_variants_and_persona_specific_ones_cover_both_personas():
    for s in (RU, EN):
        for key, entry in s.lines.items():
            variants = entry if isinstance(entry, list) else [v for vs in entry.values() for v in vs]
            assert len(variants) >= 2, (s.language, key)
            if isinstance(entry, dict):
                assert set(entry) == set(s.personas), (s.language, key)


def test_english_texts_have_no_cyrillic():
    texts = [t for v in EN.lines.values() for t in (v if isinstance(v, list) else [x for xs in v.values() for x in xs])]
    texts += [i.title for i in EN.rubric.items] + [i.suggestion for i in EN.rubric.items]
    texts += [p.title for p in EN.rubric.penalties] + [p.title for p in EN.phases]
    assert [t for t in texts if re.search("[а-яё]", t, re.IGNORECASE)] == []


# --- Facts picked by seed hold together ----------------------------------------------------------------

RU_NUMBERS = {"двенадцать": 12, "пятнадцать": 15, "восемнадцать": 18, "девятнадцать": 19, "двадцать один": 21,
              "двадцать три": 23, "девяносто один": 91, "восемьдесят восемь": 88, "девяносто четыре": 94}
EN_NUMBERS = {"twelve": 12, "fifteen": 15, "eighteen": 18, "nineteen": 19, "twenty-one": 21, "twenty-three": 23,
              "ninety-one": 91, "eighty-eight": 88, "ninety-four": 94}


@pytest.mark.parametrize("s,numbers", [(RU, RU_NUMBERS), (EN, EN_NUMBERS)], ids=["ru", "en"])
def test_measured_speeds_hold_together_whatever_the_seed_picks(s, numbers):
    wifi = [numbers[v] for v in s.facts["wifi_speed"]]
    low = [numbers[v] for v in s.facts["cable_low"]]
    fine = [numbers[v] for v in s.facts["cable_fine"]]
    assert all("100" in t for t in s.facts["tariff"])  # every plan is "up to 100"
    assert max(wifi) <= min(low)  # over cable the faulty line is still no slower than Wi-Fi was
    assert max(low) < 30 < 80 < min(fine) < 100  # low is far below the plan, fine is close to it


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_seed_picks_the_facts_and_the_customer_quotes_them(lang):
    from voice_trainer.dialogue.conversation import Conversation
    from voice_trainer.events import CustomerLine

    s = load("speed", lang).data
    seen, quoted_tariff = set(), False
    for seed in range(12):
        c = Conversation(s, seed=seed)
        opening = next(e for e in c.opening() if isinstance(e, CustomerLine))
        assert c.facts["wifi_speed"] in opening.text
        quoted_tariff |= c.facts["tariff"] in opening.text
        seen.add(c.facts["wifi_speed"])
    assert len(seen) > 1 and quoted_tariff


# --- The CLI plays the scenario to each ending, as a trainee runs it -----------------------------------

ONE_PER_ENDING = [
    ("good_wifi_satisfied.txt", "reasonable", "check_first", "line_fine", "satisfied"),
    ("good_technician.txt", "stubborn", "visit_free", "line_faulty", "technician_booked"),
    ("blaming_hung_up.txt", "reasonable", "visit_free", "line_fine", "customer_hung_up"),
    ("left_early_abandoned.txt", "stubborn", "check_first", "line_faulty", "abandoned"),
]


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("name,persona,policy,case,outcome", ONE_PER_ENDING)
def test_cli_practice_plays_a_script_to_each_ending(name, persona, policy, case, outcome, lang, data_dir):
    run = subprocess.run(
        [str(Path(sys.executable).with_name("voice-trainer")), "practice", "--text", "--scenario", "speed",
         "--lang", lang, "--persona", persona, "--policy", policy, "--case", case, "--script",
         str(SCRIPTS / lang / name), "--json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["scenario"], result["lang"], result["persona"], result["policy"]) == ("speed", lang, persona, policy)
    assert result["outcome"] == outcome


def test_cli_scenario_check_passes_on_both_files():
    files = [str(Path(__file__).resolve().parents[2] / "scenarios" / f"speed.{lang}.yaml") for lang in ("ru", "en")]
    run = subprocess.run([str(Path(sys.executable).with_name("voice-trainer")), "scenario", "check", *files],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count(": ok (speed") == 2
    assert "warning" not in run.stdout, run.stdout  # clean: no trap left for a trainer to copy
