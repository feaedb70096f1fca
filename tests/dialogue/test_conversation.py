"""The dialogue core on the real seed scenario and a real transitions machine, driven turn by turn."""

from __future__ import annotations

import dataclasses
import logging

import pytest
from transitions import Machine

from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.errors import DialogueError
from voice_trainer.dialogue.machine import RuleTransition, mermaid
from voice_trainer.dialogue.record import CallRecord
from voice_trainer.errors import UsageError, VoiceTrainerError
from voice_trainer.events import CustomerLine, ReactionApplied, StateEntered, to_json
from voice_trainer.scenario.loader import load
from voice_trainer.scenario.schema import AutoRule, Reaction, Rule

RU = load("razryv", "ru").data

APOLOGY = "здравствуйте извините за разрывы растаял снег и узлы залило водой техники уже работают"


def reply(events) -> CustomerLine:
    return next(e for e in events if isinstance(e, CustomerLine))


def test_customer_opens_angry_with_a_line_of_the_scenario():
    c = Conversation(RU, persona="stubborn", seed=3)
    events = c.opening()
    line = reply(events)
    assert line.text in RU.lines["opening"]
    assert line.anger == RU.personas["stubborn"].start_anger
    assert isinstance(c._machine, Machine)
    assert c.state == "opening"


def test_apology_with_cause_calms_him_and_moves_to_clarifying_questions():
    c = Conversation(RU, seed=1)
    c.opening()
    events = c.handle(APOLOGY, 1)
    assert c.state == "clarifying"
    assert reply(events).anger < RU.personas["reasonable"].start_anger
    assert any(isinstance(e, StateEntered) and e.state == "clarifying" for e in events)


def test_an_unknown_reply_gets_a_what_reaction_and_the_call_goes_on():
    c = Conversation(RU, seed=1)
    c.opening()
    before = c.call.anger
    line = reply(c.handle("погода сегодня отличная правда", 1))
    assert line.lines == ("not_understood",)
    assert c.call.anger > before
    assert c.state == "opening" and not c.ended
    c.handle(APOLOGY, 2)
    assert c.state == "clarifying"


def test_an_answered_question_gets_an_irritated_repeat_of_the_same_fact():
    c = Conversation(RU, seed=5)
    c.opening()
    c.handle(APOLOGY, 1)
    first = reply(c.handle("какой у вас модем", 2))
    anger = c.call.anger
    again = reply(c.handle("а модем у вас какой стоит", 3))
    assert c.facts["modem"] in first.text
    assert again.lines == ("already_told",)
    assert first.text in again.text
    assert c.call.anger > anger


def test_sensible_out_of_order_questions_are_answered_without_complaint():
    c = Conversation(RU, seed=2)
    c.opening()
    c.handle(APOLOGY, 1)
    modem = reply(c.handle("скажите какой у вас модем", 2))
    date = reply(c.handle("а когда вы подключились", 3))
    assert modem.lines == ("answer_modem",) and date.lines == ("answer_connect_date",)
    assert c.facts["connect_date"] in date.text
    assert c.state == "debrief"


def test_repeating_the_same_phrase_like_a_manual_is_noticed():
    c = Conversation(RU, seed=1)
    c.opening()
    phrase = "согласно договору провайдер не гарантирует бесперебойную связь"
    c.handle(phrase, 1)
    anger = c.call.anger
    events = c.handle(phrase, 2)
    assert reply(events).lines == ("repeating_1",)
    assert c.call.flags["repetition"] == 1
    assert c.call.anger > anger


def test_questions_before_any_apology_make_him_demand_one():
    c = Conversation(RU, seed=1)
    c.opening()
    line = reply(c.handle("какого числа вы подключились", 1))
    assert line.lines == ("demands_apology",)
    assert c.call.flags["skipped_apology"] == 1
    assert c.call.done["ask_connect_date"] == 0  # he did not answer, so it can be asked again


def test_the_delicate_question_without_permission_or_too_early_angers_him():
    early = Conversation(RU, seed=1)
    early.opening()
    early.handle(APOLOGY, 1)
    anger = early.call.anger
    line = reply(early.handle("как часто вы ходите в туалет", 2))
    assert line.lines == ("toilet_out_of_nowhere",)
    assert early.call.flags["toilet_too_early"] == 1 and early.call.anger >= anger + 20


def test_mocking_twice_makes_him_hang_up():
    c = Conversation(RU, persona="reasonable", seed=1)
    c.opening()
    c.handle("ха ха ну вы даете ни единого разрыва", 1)
    events = c.handle("ой не смешите меня хахаха", 2)
    assert c.ended and c.call.ending == "customer_hung_up"
    assert "hanging_up" in reply(events).lines
    assert any(isinstance(e, ReactionApplied) and e.rule == "reactions.hang_up" for e in events)


def test_same_seed_same_call_different_seed_different_facts():
    script = [APOLOGY, "какой у вас модем", "когда вы подключились", "до свидания"]

    def run(seed):
        c = Conversation(RU, seed=seed)
        events = c.opening()
        for i, text in enumerate(script, 1):
            events += c.handle(text, i)
        return [to_json(e) for e in events], c.facts

    assert run(11) == run(11)
    assert len({tuple(sorted(run(seed)[1].items())) for seed in range(8)}) > 1


def test_quitting_before_an_ending_is_abandoned():
    c = Conversation(RU, seed=1)
    c.opening()
    c.handle(APOLOGY, 1)
    c.quit(1)
    assert c.call.ending == "abandoned"


def test_mermaid_diagram_names_every_state_and_ending():
    diagram = mermaid(RU)
    assert diagram.lstrip().startswith("---") or "stateDiagram" in diagram
    for name in [*RU.states, *RU.endings]:
        assert name in diagram
    assert "anger_below_convinced_by_explanation_below" in diagram


# --- One source of state; rules travel with transitions; the core's own errors --------------------------------


def test_the_machine_model_holds_the_state_and_the_record_holds_only_history():
    assert "state" not in {f.name for f in dataclasses.fields(CallRecord)}
    c = Conversation(RU, seed=1)
    c.opening()
    c.handle(APOLOGY, 1)
    assert c.state == c._model.state == "clarifying"
    assert c.call.visited == ["opening", "clarifying"]


def test_every_transition_carries_its_scenario_rule():
    c = Conversation(RU, seed=1)
    carried = [t for event in c._machine.events.values() for ts in event.transitions.values() for t in ts]
    assert carried and all(isinstance(t, RuleTransition) for t in carried)
    for t in carried:
        assert isinstance(t.rule, (Rule, AutoRule, Reaction))
        if t.rule_id.startswith("rules["):
            assert RU.rules[t.index] is t.rule
    events = c.opening() + c.handle(APOLOGY, 1)
    fired = [e.rule for e in events if isinstance(e, ReactionApplied)]
    assert fired and all(r.startswith(("rules[", "auto[", "reactions.")) for r in fired)


def test_unknown_persona_or_policy_is_the_cores_own_error():
    with pytest.raises(DialogueError, match="nosuch.*reasonable") as caught:
        Conversation(RU, persona="nosuch")
    assert isinstance(caught.value, VoiceTrainerError) and not isinstance(caught.value, UsageError)
    with pytest.raises(DialogueError, match="keep_client"):
        Conversation(RU, policy="nosuch")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_no_library_log_output_during_ordinary_calls(caplog, lang):
    """transitions warns "Can't trigger event settle from state ..." when fired where it has no rule."""
    from pathlib import Path

    scripts = sorted((Path(__file__).resolve().parents[1] / "scripts" / lang).glob("*.txt"))
    s = load("razryv", lang).data
    with caplog.at_level(logging.DEBUG, logger="transitions"):
        for path in scripts:
            for persona in s.personas:
                c = Conversation(s, persona=persona, seed=3)
                c.opening()
                lines = [l for l in path.read_text(encoding="utf-8").splitlines() if l and not l.startswith("#")]
                for turn, text in enumerate(lines, 1):
                    c.handle(text, turn)
                c.quit(len(lines))
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
