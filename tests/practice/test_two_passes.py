"""Two recognition passes: the live one decides the customer's answer, the free one is the record.

The voice loop with the real detector, session, dialogue core, customer observer and report on real
espeak-ng speech; the two recognizers are scripted fakes (the real ones run in
test_voice_practice.py::test_two_passes_on_the_real_model).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.practice.test_turn_taking import NEUTRAL_MS, RU, Call, NotingSpeaker, NotingSynth, ScriptedRecognizer
from tests.practice.test_turn_taking import speech  # noqa: F401 - the fixture
from tests.practice.test_voice_loop import WAIT_S, ScriptedMic, of, silence
from voice_trainer.audio.endpoint import EndOfTurnDetector
from voice_trainer.clock import ManualClock
from voice_trainer.events import CustomerLine, FullTranscript, MovesUnderstood, TraineeTurn, turns_from
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.practice.voice import VoiceLoop
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.trainer.report import render_markdown, review_data

LIVE = "извините за разрывы"
FREE = "извините пожалуйста за разрывы сегодня на линии"  # the slower, complete words


@dataclass
class TwoPassCall(Call):
    transcriber: ScriptedRecognizer | None = None

    def listen_both(self, *script, every_turn: bool = True) -> list:
        try:
            self.loop.listen(ScriptedMic(self.clock, self.session.clock, list(script)), self.recognizer,
                             self.transcriber, transcribe_every_turn=every_turn)
        except KeyboardInterrupt:
            pass
        self.customer.close()
        return self.session.events


@pytest.fixture
def call(data_dir):
    def make(live: str, free: str) -> TwoPassCall:
        clock = ManualClock(5000.0)
        session = Session(load("razryv", "ru"), seed=1, mode="voice", data_dir=data_dir, clock=clock)
        synth = NotingSynth()
        speaker = NotingSpeaker(session.clock, synth)
        customer = SpokenCustomer(session, synth, speaker)
        loop = VoiceLoop(session, EndOfTurnDetector(trailing_silence_ms=NEUTRAL_MS), customer=customer,
                         stop_wait_s=WAIT_S, turn_end=RU)
        session.start()
        speaker.release.set()  # every line plays straight through
        return TwoPassCall(session, clock, speaker, synth, customer, ScriptedRecognizer(live), loop,
                           ScriptedRecognizer(free))

    return make


def one_turn(c: TwoPassCall, said, every_turn: bool = True) -> list:
    return c.listen_both(c.until(lambda: not c.customer.speaking, "the opening"), silence(200), said,
                         silence(NEUTRAL_MS + 300), c.until(lambda: of(c.session.events, CustomerLine, 1), "the answer"),
                         every_turn=every_turn)


def test_the_customer_answers_the_live_pass_and_the_report_shows_the_free_transcript(call, speech):  # noqa: F811
    c = call(LIVE, FREE)
    events = one_turn(c, speech)
    assert of(events, TraineeTurn, 1)[0].text == LIVE  # what the customer answered, logged before acting
    full = of(events, FullTranscript, 1)
    assert len(full) == 1 and full[0].text == FREE and full[0].words
    assert events.index(full[0]) > events.index(of(events, CustomerLine, 1)[0])  # never waited for

    turn = review_data(c.session.folder)["turns"][0]
    assert turn["text"] == FREE
    assert [w["text"] for w in turn["words"]] == FREE.split()
    assert all(w["conf"] == 0.8 and w["end_ms"] > w["start_ms"] for w in turn["words"])


def test_where_the_passes_mean_different_moves_the_report_shows_both(call, speech):  # noqa: F811
    c = call(LIVE, "здравствуйте меня зовут анна")
    one_turn(c, speech)
    turn = turns_from(c.session.events)[0]
    assert turn.passes_disagree and turn.live_text == LIVE
    data = review_data(c.session.folder)
    passes = data["turns"][0]["passes"]
    assert passes["live"] == LIVE and "greet" in passes["full_moves"]
    assert LIVE in render_markdown(data)


def test_where_the_passes_agree_the_report_shows_one_transcript(call, speech):  # noqa: F811
    c = call(LIVE, FREE)
    one_turn(c, speech)
    assert not turns_from(c.session.events)[0].passes_disagree
    assert review_data(c.session.folder)["turns"][0]["passes"] is None


@pytest.mark.parametrize("every_turn", [True, False], ids=["default", "grammar only"])
def test_a_turn_the_live_grammar_hears_only_as_unknown_is_still_answered(call, speech, every_turn):  # noqa: F811
    c = call("", LIVE)  # the grammar heard [unk] (dropped): nothing; the free pass heard the words
    events = one_turn(c, speech, every_turn)
    turn = of(events, TraineeTurn, 1)
    assert len(turn) == 1 and turn[0].text == LIVE
    assert "apologize" in of(events, MovesUnderstood, 1)[0].moves
    assert of(events, CustomerLine, 1)[0].text  # he answers
    assert c.transcriber.calls == ["finish"]  # the free pass was asked once, for this turn
