"""Psychology as the seed describes it: how a move is said changes how much it calms or angers; the delicate
question is the turning point (surely for the reasonable customer, sometimes for the stubborn one); a customer
who already understands does not need it."""

from __future__ import annotations

import pytest

from tests.dialogue.conftest import PHRASES

LANGS = ["ru", "en"]


def insisting(call, lang: str, persona: str, seed: int = 1):
    """The explanation has failed: he sticks to his story."""
    c = call(lang, persona, seed=seed)
    p = PHRASES[lang]
    c.say_all([p["opening"], *p["facts"], p["explain"]])
    if c.state != "insisting":  # the reasonable customer believes a good explanation; give him a bare one early
        c = call(lang, persona, seed=seed)
        c.say_all([p["opening"], p["facts"][0], p["explain"]])
    assert c.state == "insisting"
    return c


@pytest.mark.parametrize("lang", LANGS)
def test_a_curt_delicate_question_angers_him_more_than_a_careful_one(call, lang):
    angers = {}
    for how in ("question_curt", "question_careful"):
        c = insisting(call, lang, "stubborn")
        before = c.anger
        c.say(PHRASES[lang][how])  # without permission: he bristles either way, but not equally
        assert "toilet_without_permission" in c.flags_of_last_turn()
        angers[how] = c.anger - before
    assert angers["question_curt"] > 1.5 * angers["question_careful"] > 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_warm_specific_explanation_calms_more_than_a_bare_one(call, lang):
    calmed = {}
    for how in ("explain", "explain_bare"):
        c = call(lang, "reasonable")
        p = PHRASES[lang]
        c.say_all([p["opening"], *p["facts"]])
        before = c.anger
        c.say(p[how])
        assert c.state == "understanding"
        calmed[how] = before - c.anger
    assert calmed["explain"] > 1.5 * calmed["explain_bare"] > 0


APOLOGIES = {
    "ru": ("мне искренне жаль простите нас за эти обрывы", "ну извините"),
    "en": ("i am truly sorry please forgive us for these drops", "well sorry"),
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_warm_apology_calms_more_than_a_grudging_one(call, lang):
    calmed = []
    for text in APOLOGIES[lang]:
        c = call(lang)
        before = c.anger
        c.say(text)
        assert c.conversation.call.done["apologize"] == 1
        calmed.append(before - c.anger)
    assert calmed[0] > calmed[1] > 0


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("seed", range(1, 7))
def test_after_a_failed_explanation_a_careful_question_brings_the_reasonable_customer_round(call, lang, seed):
    c = insisting(call, lang, "reasonable", seed)
    c.say_all([PHRASES[lang]["permission"], PHRASES[lang]["question_careful"]])
    assert c.state == "understanding"
    c.say(PHRASES[lang]["reassure"])
    assert c.conversation.call.ending == "understood"


@pytest.mark.parametrize("lang", LANGS)
def test_the_stubborn_customer_comes_round_on_some_seeds_and_not_on_others(call, lang):
    outcomes = {}
    for seed in range(1, 21):
        c = insisting(call, lang, "stubborn", seed)
        c.say_all([PHRASES[lang]["permission"], PHRASES[lang]["question_careful"]])
        outcomes[seed] = c.state
    assert set(outcomes.values()) == {"understanding", "standing_firm"}, outcomes
    # ...and the same seed decides the same way again: a replay is the same call.
    again = insisting(call, lang, "stubborn", 1)
    again.say_all([PHRASES[lang]["permission"], PHRASES[lang]["question_careful"]])
    assert again.state == outcomes[1]


@pytest.mark.parametrize("lang", LANGS)
def test_the_stubborn_customer_never_comes_round_after_a_curt_question_or_a_bad_call(call, lang):
    p = PHRASES[lang]
    for seed in range(1, 11):
        curt = insisting(call, lang, "stubborn", seed)
        curt.say_all([p["permission"], p["question_curt"]])
        assert curt.state == "standing_firm"
        bad = call(lang, "stubborn", seed=seed)  # straight to business, a bare explanation: he is still too angry
        bad.say_all([p["facts"][0], p["opening"], *p["facts"][1:], p["explain_bare"],
                     p["permission"], p["question_careful"]])
        assert bad.state == "standing_firm", bad.anger


@pytest.mark.parametrize("lang", LANGS)
def test_a_customer_who_already_understood_does_not_need_the_delicate_question(call, lang):
    p = PHRASES[lang]
    c = call(lang, "reasonable")
    c.say_all([p["opening"], *p["facts"], p["explain"]])
    assert c.state == "understanding"
    c.say_all([p["permission"], p["question_careful"]])
    assert c.flags_of_last_turn() == ["delicate_unneeded"] and c.state == "understanding"
    c.say(p["reassure"])
    score = c.score()
    assert score.outcome == "understood"
    assert [pen.flag for pen in score.penalties] == ["delicate_unneeded"]
    # The rubric does not ask for a delicate question he never needed.
    assert {"asked_permission_first", "asked_everyday_question"}.isdisjoint(i.id for i in score.items)
