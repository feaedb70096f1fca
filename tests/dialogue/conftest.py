"""A customer on the real seed scenario and a real transitions machine, driven turn by turn."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from voice_trainer.dialogue.conversation import Conversation
from voice_trainer.dialogue.scoring import Score, score_call
from voice_trainer.dialogue.understanding import Understanding
from voice_trainer.events import CustomerLine, Event, ReactionApplied
from voice_trainer.scenario.loader import load

SCENARIOS = {lang: load("razryv", lang).data for lang in ("ru", "en")}


@dataclass
class Call:
    """One call: `say` plays a trainee turn and returns the customer's one line."""

    conversation: Conversation
    events: list[Event] = field(default_factory=list)
    turn: int = 0

    def say(self, text: str, understanding: Understanding | None = None) -> CustomerLine:
        """His answer; `understanding` stands in for the move classifier when a test is about the customer."""
        assert not self.conversation.ended, "the call is over"
        self.turn += 1
        events = self.conversation.handle(text, self.turn, understanding)
        self.events += events
        return next(e for e in events if isinstance(e, CustomerLine))

    def say_all(self, texts: list[str]) -> CustomerLine | None:
        line = None
        for text in texts:
            line = self.say(text)
        return line

    def flags_of_last_turn(self) -> list[str]:
        return [f for e in self.events if isinstance(e, ReactionApplied) and e.turn == self.turn for f in e.flags]

    def score(self) -> Score:
        self.conversation.quit(self.turn)
        return score_call(self.conversation.scenario, self.conversation.call, self.conversation.turn_texts)

    @property
    def state(self) -> str:
        return self.conversation.state

    @property
    def anger(self) -> float:
        return self.conversation.call.anger


@pytest.fixture
def call():
    def start(lang: str = "ru", persona: str = "reasonable", policy: str = "keep_client", seed: int = 1) -> Call:
        c = Conversation(SCENARIOS[lang], persona=persona, policy=policy, seed=seed)
        c.opening()
        return Call(c)

    return start


# The trainee's side of a textbook call, in words of the tests' own (not the scenario's examples).
PHRASES = {
    "ru": {
        "opening": "добрый вечер простите нас пожалуйста за обрывы сейчас тает снег и вода залила несколько "
                   "наших колодцев ремонтники уже откачивают воду",
        "facts": [
            "понимаю вас давайте разберемся с какого числа вы у нас подключены",
            "а до какого момента связь держалась без обрывов",
            "какой модем у вас стоит",
            "то есть вы утверждаете что за пять месяцев не было ни одного обрыва так",
            "а компьютер у вас все это время был включен и подключен к сети",
            "а чем вы в основном заняты в интернете качаете файлы или читаете сайты",
        ],
        "explain": "смотрите пока вы читаете страницу связь может пропасть модем сам переподключается примерно за "
                   "двадцать секунд и когда вы нажимаете на следующую ссылку все уже снова работает",
        "explain_bare": "модем переподключается",
        "permission": "мне неловко спрашивать но это важно можно задать вам немного странный вопрос",
        "question_careful": "только не обижайтесь пожалуйста вы ведь как и все мы иногда отходите от компьютера "
                            "налить чаю или пообедать",
        "question_curt": "короче отвечайте как часто вы в туалет ходите",
        "reassure": "не переживайте это совершенно нормально такие короткие обрывы почти никто не замечает",
        "office_no_time": "давайте вы подъедете к нам в офис наши специалисты все посмотрят",
        "contract": "по условиям договора кратковременные перерывы связи допускаются",
    },
    "en": {
        "opening": "good evening please forgive us for the drops the snow is thawing and water flooded a few of "
                   "our manholes the repair crew is already pumping it out",
        "facts": [
            "i see let's work through it since what date have you been connected with us",
            "and up to what point was the connection stable without drops",
            "which modem have you got",
            "so you're saying in five months there wasn't a single drop right",
            "and was your computer switched on and connected all that time",
            "and what do you mostly do online download files or read websites",
        ],
        "explain": "look while you're reading a page the connection can drop the modem reconnects by itself in about "
                   "twenty seconds and when you click the next link everything is working again",
        "explain_bare": "the modem reconnects",
        "permission": "i feel awkward asking but it matters may i ask you a slightly strange question",
        "question_careful": "tell me please like all of us you do step away from the computer now and then "
                            "to make tea or have lunch don't you",
        "question_curt": "just answer how often do you go to the toilet",
        "reassure": "don't worry it's completely normal hardly anyone notices drops this short",
        "office_no_time": "why don't you come over to our office our specialists will look into it",
        "contract": "under the terms of the contract short interruptions of service are allowed",
    },
}
