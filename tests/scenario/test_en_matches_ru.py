"""The English scenario is an adaptation of the Russian seed: different words, the same call.

Scripts, reports and progress compare calls across languages by ids, so both files must name the same
moves, states, endings, personas, policies, phases, rubric items and customer line keys, and give the
personas the same numbers. The same scripted call (tests/scripts/ru and tests/scripts/en) ends the
same way in both languages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from voice_trainer.practice.text import run_text, script_lines
from voice_trainer.scenario.loader import load
from voice_trainer.scenario.schema import ScenarioFile, names
from voice_trainer.session import Session

RU = load("razryv", "ru").data
EN = load("razryv", "en").data


def line_keys_used(s: ScenarioFile) -> set[str]:
    used = {s.opening}
    reactions = [getattr(s.reactions, name) for name in type(s.reactions).model_fields]
    for said in [*s.rules, *s.auto, *(r for r in reactions if r is not None)]:
        used |= set(names(said.say)) | ({said.lead} if getattr(said, "lead", None) else set())
    used |= {e.say for e in s.endings.values() if e.say}
    return used


def test_both_languages_load_as_the_same_scenario():
    assert (RU.scenario, RU.language) == ("razryv", "ru")
    assert (EN.scenario, EN.language) == ("razryv", "en")


@pytest.mark.parametrize("part", ["moves", "states", "endings", "personas", "policies", "lines"])
def test_english_has_the_same_ids_as_russian(part):
    assert set(getattr(EN, part)) == set(getattr(RU, part))


def test_phases_are_the_same_and_in_the_same_order():
    assert [p.id for p in EN.phases] == [p.id for p in RU.phases]


def test_rubric_items_and_penalties_are_the_same():
    assert [i.id for i in EN.rubric.items] == [i.id for i in RU.rubric.items]
    assert [i.points for i in EN.rubric.items] == [i.points for i in RU.rubric.items]
    assert [p.flag for p in EN.rubric.penalties] == [p.flag for p in RU.rubric.penalties]
    assert EN.rubric.ending_caps == RU.rubric.ending_caps


def test_the_customer_uses_the_same_line_keys():
    assert line_keys_used(EN) == line_keys_used(RU)


def test_personas_have_the_same_numbers():
    for name, ru in RU.personas.items():
        en = EN.personas[name]
        assert (en.start_anger, en.anger_factor, en.params) == (ru.start_anger, ru.anger_factor, ru.params), name
    assert (EN.default_persona, EN.default_policy) == (RU.default_persona, RU.default_policy)


def test_moves_have_the_same_kind_phase_and_repeat_limit():
    for name, ru in RU.moves.items():
        en = EN.moves[name]
        assert (en.kind, en.phase, en.repeatable) == (ru.kind, ru.phase, ru.repeatable), name


def test_states_sit_in_the_same_phases_and_endings_succeed_alike():
    assert {k: v.phase for k, v in EN.states.items()} == {k: v.phase for k, v in RU.states.items()}
    def endings(s: ScenarioFile) -> dict:
        return {name: (e.success, e.say) for name, e in s.endings.items()}

    assert endings(EN) == endings(RU)


def test_english_lines_and_titles_are_written_in_english():
    texts = [t for v in EN.lines.values() for t in (v if isinstance(v, list) else [x for xs in v.values() for x in xs])]
    texts += [i.title for i in EN.rubric.items] + [i.suggestion for i in EN.rubric.items]
    texts += [p.title for p in EN.rubric.penalties] + [p.title for p in EN.phases]
    cyrillic = [t for t in texts if any("а" <= ch.lower() <= "я" for ch in t)]
    assert cyrillic == []


def test_every_line_key_has_several_variants_as_in_russian():
    def count(entry):
        return len(entry) if isinstance(entry, list) else min(len(v) for v in entry.values())

    for key, ru in RU.lines.items():
        assert count(EN.lines[key]) >= min(2, count(ru)), key


def test_rules_auto_rules_and_reactions_are_the_same_logic():
    # A rule changed in one language and not the other makes the two customers behave differently.
    assert [r.model_dump() for r in EN.rules] == [r.model_dump() for r in RU.rules]
    assert [a.model_dump() for a in EN.auto] == [a.model_dump() for a in RU.auto]
    assert EN.reactions.model_dump() == RU.reactions.model_dump()


def test_rubric_items_are_met_under_the_same_conditions():
    for en, ru in zip(EN.rubric.items, RU.rubric.items):
        assert (en.met, en.applies, en.evidence, en.phase) == (ru.met, ru.applies, ru.evidence, ru.phase), en.id


SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
HEADER = re.compile(r"#\s*persona=(\w+)\s+policy=(\w+)(.*)$")
XFAIL = re.compile(r"#\s*xfail:\s*(.+)$")


def headers(path: Path) -> list[tuple[str, ...]]:
    return [m.groups() for m in map(HEADER.match, path.read_text(encoding="utf-8").splitlines()) if m]


def xfail_reason(path: Path) -> str | None:
    return next((m[1] for m in map(XFAIL.match, path.read_text(encoding="utf-8").splitlines()) if m), None)


def script_cases():
    for ru_script in sorted((SCRIPTS / "ru").glob("*.txt")):
        reason = xfail_reason(ru_script) or xfail_reason(SCRIPTS / "en" / ru_script.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        for persona, policy, rest in headers(ru_script):
            first_seed = re.search(r"seeds=(\d+)", rest)
            seed = int(first_seed[1]) if first_seed else 1
            yield pytest.param(ru_script.name, persona, policy, seed, marks=marks,
                               id=f"{ru_script.stem}[{persona},{policy},{seed}]")


def test_every_russian_script_has_an_english_twin_with_the_same_headers():
    for ru_script in (SCRIPTS / "ru").glob("*.txt"):
        en_script = SCRIPTS / "en" / ru_script.name
        assert en_script.is_file(), en_script
        assert headers(ru_script) == headers(en_script), ru_script.name


def call_summary(lang: str, name: str, persona: str, policy: str, seed: int, data_dir: Path) -> tuple:
    session = Session(load("razryv", lang), persona=persona, policy=policy, seed=seed, data_dir=data_dir)
    run_text(session, script_lines(SCRIPTS / lang / name))
    result = session.finish()
    return result["outcome"], sorted(result["met"]), sorted(p["flag"] for p in result["penalties"])


@pytest.mark.parametrize("name,persona,policy,seed", list(script_cases()))
def test_the_same_call_in_english_ends_as_in_russian(name, persona, policy, seed, tmp_path):
    ru = call_summary("ru", name, persona, policy, seed, tmp_path / "ru")
    en = call_summary("en", name, persona, policy, seed, tmp_path / "en")
    assert en == ru
