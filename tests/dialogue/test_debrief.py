"""A debrief that is fair: one mistake is charged once, the contract on a calming customer is the seed's
failure, the contract earns credit only where the method puts it, and every penalty is true for its call."""

from __future__ import annotations

import pytest

from tests.dialogue.conftest import PHRASES, SCENARIOS

LANGS = ["ru", "en"]


def penalties(score) -> dict[str, str]:
    return {p.flag: p.title for p in score.penalties}


def items(score) -> dict[str, bool]:
    return {i.id: i.met for i in score.items}


@pytest.mark.parametrize("lang", LANGS)
def test_a_question_refused_for_a_missing_apology_is_charged_to_the_apology_only(call, lang):
    p = PHRASES[lang]
    c = call(lang)
    refused = c.say(p["facts"][2])  # the modem, before any apology
    assert refused.lines == ("demands_apology",)
    c.say({"ru": "у нас растаял снег и подтопило колодцы бригада уже работает",
           "en": "the snow melted and flooded some manholes a crew is on it"}[lang])
    score = c.score()
    met = items(score)
    assert met["apologized"] is False
    assert met["asked_modem"] is True  # he asked; the customer refused because of the apology
    assert "skipped_apology" not in penalties(score)  # the missed apology item already says it


@pytest.mark.parametrize("lang", LANGS)
def test_an_apology_made_late_is_no_apology_at_the_start_and_the_mistake_is_charged_once(call, lang):
    p = PHRASES[lang]
    c = call(lang)
    c.say_all([p["facts"][2], p["opening"]])
    assert c.state == "clarifying"  # he took the late apology and the call goes on
    score = c.score()
    # Not "apologised straight away" next to "got down to business without apologising": the item is
    # missed (its advice says to start with the apology) and the penalty, the same mistake, is not added.
    assert items(score)["apologized"] is False
    assert "skipped_apology" not in penalties(score)


def calming(call, lang: str, policy: str):
    p = PHRASES[lang]
    c = call(lang, "reasonable", policy)
    c.say_all([p["opening"], *p["facts"], p["explain"]])
    assert c.state == "understanding"
    return c


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("policy", ["keep_client", "let_go"])
def test_the_contract_on_a_customer_who_is_coming_round_scores_low_and_says_why(call, lang, policy):
    c = calming(call, lang, policy)
    c.say(PHRASES[lang]["contract"])
    score = c.score()
    assert score.outcome == "contract_hangup"
    assert score.score <= 30 and score.cap == 30
    assert "contract_on_calming" in penalties(score)
    assert items(score)["resolved"] is False


@pytest.mark.parametrize("lang", LANGS)
def test_the_contract_mid_call_on_a_calmer_customer_is_the_same_failure(call, lang):
    p = PHRASES[lang]
    c = call(lang, "reasonable", "let_go")
    c.say_all([p["opening"], *p["facts"][:4]])
    assert c.anger < SCENARIOS[lang].personas["reasonable"].params["calming_below"]
    c.say(p["contract"])
    assert c.flags_of_last_turn() == ["contract_on_calming"] and not c.conversation.ended


def standing_firm(call, lang: str, policy: str):
    p = PHRASES[lang]
    c = call(lang, "stubborn", policy)
    c.say_all([p["opening"], *p["facts"], p["explain"], p["permission"], p["question_curt"]])
    assert c.state == "standing_firm"
    return c


@pytest.mark.parametrize("lang", LANGS)
def test_the_contract_earns_credit_under_let_go_when_he_stays_rude_after_the_method(call, lang):
    c = standing_firm(call, lang, "let_go")
    c.say(PHRASES[lang]["contract"])
    score = c.score()
    assert score.outcome == "contract_hangup" and items(score)["resolved"] is True
    assert set(penalties(score)) == {"curt_delicate"}


@pytest.mark.parametrize("lang", LANGS)
def test_the_contract_under_keep_client_is_against_policy_and_scores_low(call, lang):
    c = standing_firm(call, lang, "keep_client")
    c.say(PHRASES[lang]["contract"])
    score = c.score()
    assert items(score)["resolved"] is False
    assert "against_policy" in penalties(score) and score.score <= 45


@pytest.mark.parametrize("lang", LANGS)
def test_the_contract_before_the_delicate_question_is_named_as_such(call, lang):
    p = PHRASES[lang]
    c = call(lang, "stubborn", "let_go")
    c.say_all([p["opening"], *p["facts"], p["explain"]])
    assert c.state == "insisting"
    c.say(p["contract"])
    assert c.flags_of_last_turn() == ["contract_before_delicate"] and not c.conversation.ended


@pytest.mark.parametrize("lang", LANGS)
def test_an_office_invitation_after_full_fact_finding_is_not_called_untried(call, lang):
    p = PHRASES[lang]
    tried = call(lang, "stubborn")
    tried.say_all([p["opening"], *p["facts"], p["explain"], p["office_no_time"]])
    untried = call(lang, "stubborn")
    untried.say_all([p["opening"], p["office_no_time"]])
    assert tried.flags_of_last_turn() == ["office_before_delicate"]
    assert untried.flags_of_last_turn() == ["office_too_early"]
    titles = {pen.flag: pen.title for pen in SCENARIOS[lang].rubric.penalties}
    assert titles["office_before_delicate"] != titles["office_too_early"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_question_without_permission_is_charged_once(call, lang):
    p = PHRASES[lang]
    c = call(lang, "stubborn", "keep_client")
    c.say_all([p["opening"], *p["facts"], p["explain"], p["question_careful"]])
    assert c.flags_of_last_turn() == ["toilet_without_permission"]
    score = c.score()
    assert items(score)["asked_permission_first"] is False
    assert "toilet_without_permission" not in penalties(score)


@pytest.mark.parametrize("lang", LANGS)
def test_every_penalty_flag_is_raised_only_by_rules_whose_situation_its_title_describes(lang):
    """The flag → states map the titles rely on: change a rule, and this says which title to re-read."""
    s = SCENARIOS[lang]
    raised: dict[str, set[str]] = {}
    for rule in s.rules:
        for flag in rule.flags:
            sources = [rule.from_] if isinstance(rule.from_, str) else rule.from_
            raised.setdefault(flag, set()).update(sources)
    assert raised["early_contract"] == {"opening", "clarifying", "debrief"}
    assert raised["contract_before_delicate"] == {"insisting", "permission_granted"}
    assert raised["office_too_early"] == {"opening", "clarifying", "debrief"}
    assert raised["office_before_delicate"] == {"insisting", "permission_granted"}
    assert raised["toilet_too_early"] == {"opening", "clarifying", "debrief"}
    assert raised["delicate_unneeded"] == {"understanding"}
    assert raised["office_unneeded"] == {"understanding"}
