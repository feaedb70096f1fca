"""When a pause ends the trainee's turn, and what the customer may say before it does.

The end-of-turn rule on its own (words in, wait out), then the voice loop with the real detector, session,
dialogue core and customer observer on real espeak-ng speech; only the microphone, the recognizer and the
speaker are fakes the test scripts (the harness of test_voice_loop.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.practice.test_voice_loop import (
    RATE,
    WAIT_S,
    HeldSpeaker,
    ScriptedMic,
    of,
    silence,
    speech,  # noqa: F401 - the fixture
)
from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector
from voice_trainer.clock import ManualClock
from voice_trainer.events import CustomerLine, ReplyTiming, SpeechPlayed, TraineeTurn, Word
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.practice.turn_taking import TurnEndRule, grammar_words
from voice_trainer.practice.voice import VoiceLoop
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Prosody, Recognition

NEUTRAL_MS, FLOOR_MS, CEILING_MS = 700, 300, 1200
RU = TurnEndRule(lang="ru", neutral_ms=NEUTRAL_MS, floor_ms=FLOOR_MS, ceiling_ms=CEILING_MS)


# --- the rule -----------------------------------------------------------------------------------------


def understood(*moving: str):
    return lambda text: text in moving


@pytest.mark.parametrize("said", [
    "я вам сейчас всё объясню потому что",
    "проблема на линии и",
    "подождите э",
    "ваш номер договора пять",
    "номер 5",
    "звоню по поводу",
])
def test_words_that_cannot_end_a_phrase_keep_the_turn_open_longest(said):
    assert RU.wait_ms(said, understood(said)) == CEILING_MS


def test_a_finished_phrase_that_makes_a_move_ends_the_turn_soonest():
    assert RU.wait_ms("извините за разрывы", understood("извините за разрывы")) == FLOOR_MS


def test_anything_else_waits_the_configured_silence():
    assert RU.wait_ms("ну и погода сегодня", understood()) == NEUTRAL_MS
    assert RU.wait_ms("", understood()) == NEUTRAL_MS


def test_english_continuations_and_an_unknown_language():
    en = TurnEndRule(lang="en-GB", neutral_ms=600, floor_ms=250, ceiling_ms=1500)
    assert en.wait_ms("the modem reconnects because", understood()) == 1500
    assert en.wait_ms("sorry about the drops", understood("sorry about the drops")) == 250
    other = TurnEndRule(lang="xx", neutral_ms=600, floor_ms=250, ceiling_ms=1500)
    assert other.wait_ms("foo and", understood()) == 600  # no word list: only a move shortens the wait


@pytest.mark.parametrize("said, moving, pitch, wait, why", [
    # the pitch alone decides when the words say nothing (a recognizer that heard little)
    ("ну и погода сегодня", False, "falling", FLOOR_MS, "falling"),
    ("ну и погода сегодня", False, "level", CEILING_MS, "level"),
    ("", False, "level", CEILING_MS, "level"),
    ("", False, "falling", FLOOR_MS, "falling"),
    # a move said on a held note: the two cues cancel out
    ("извините за разрывы", True, "level", NEUTRAL_MS, "move+level"),
    ("извините за разрывы", True, "falling", FLOOR_MS, "move+falling"),
    # a rising end (a question, or a list going on) and no pitch at all leave it to the words
    ("извините за разрывы", True, "rising", FLOOR_MS, "move"),
    ("ну и погода сегодня", False, "rising", NEUTRAL_MS, "nothing"),
    ("ну и погода сегодня", False, "unknown", NEUTRAL_MS, "nothing"),
    # a connector keeps the turn open whatever the pitch did
    ("извините за разрывы потому что", True, "falling", CEILING_MS, "connector"),
])
def test_the_pitch_before_the_pause_weighs_with_the_words(said, moving, pitch, wait, why):
    assert RU.judge(said, understood(said) if moving else understood(), pitch) == (wait, why)
    assert RU.wait_ms(said, understood(said) if moving else understood(), pitch) == wait


def test_floor_neutral_and_ceiling_must_be_in_order():
    with pytest.raises(ValueError, match="floor <= trailing silence <= ceiling"):
        TurnEndRule(lang="ru", neutral_ms=700, floor_ms=800, ceiling_ms=1200)


def test_the_live_grammar_learns_connectors_but_not_numbers_or_one_letter_words():
    words = grammar_words("ru")
    assert {"потому", "поэтому", "короче"} <= words
    assert "пять" not in words and "и" not in words


# --- the voice loop -----------------------------------------------------------------------------------


@dataclass
class ScriptedRecognizer:
    """Says whatever the test last set as `text` (the words heard so far), as partial and final."""

    text: str = ""
    rate_hz: int = RATE
    fed_ms: float = 0.0
    calls: list[str] = field(default_factory=list)

    def accept(self, chunk: AudioChunk) -> str:
        self.fed_ms += chunk.duration_ms
        return self.text

    def close_utterance(self) -> str:
        self.calls.append("close_utterance")
        return self.text

    def finish(self) -> Recognition:
        self.calls.append("finish")
        fed, self.fed_ms = self.fed_ms, 0.0
        if not fed or not self.text:
            return Recognition("")
        return Recognition(self.text, tuple(Word(w, 100.0 * i, 100.0 * i + 90, 0.8)
                                            for i, w in enumerate(self.text.split())))


class NotingSynth:
    """Renders each sentence as silence whose length names it; notes every sentence rendered."""

    def __init__(self):
        self.rendered: list[str] = []
        self.lock = threading.Lock()
        self.names: dict[int, str] = {}  # audio length in frames -> the sentence

    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        with self.lock:
            self.rendered.append(text)
            frames = next((n for n, t in self.names.items() if t == text), 2205 + len(self.names))
            self.names[frames] = text
        return AudioChunk(bytes(2 * frames), 22050)

    def close(self) -> None:
        pass


class NotingSpeaker(HeldSpeaker):
    """The held speaker, noting the sentences it played (by the length of their audio)."""

    def __init__(self, timeline, synth: NotingSynth):
        super().__init__(timeline)
        self.synth = synth
        self.played: list[str] = []

    def play(self, chunk, stop=None):
        self.played.append(self.synth.names[len(chunk.audio) // 2])
        return super().play(chunk, stop)


@dataclass
class Call:
    session: Session
    clock: ManualClock
    speaker: NotingSpeaker
    synth: NotingSynth
    customer: SpokenCustomer
    recognizer: ScriptedRecognizer
    loop: VoiceLoop

    def listen(self, *script) -> list:
        try:
            self.loop.listen(ScriptedMic(self.clock, self.session.clock, list(script)), self.recognizer)
        except KeyboardInterrupt:
            pass
        self.customer.close()
        return self.session.events

    def until(self, predicate, what: str):
        def step() -> None:
            done = threading.Event()
            for _ in range(int(WAIT_S / 0.005)):
                if predicate():
                    done.set()
                    break
                done.wait(0.005)
            assert done.is_set(), f"never got there: {what}"

        return step

    def says(self, text: str):
        def step() -> None:
            self.recognizer.text = text

        return step

    def after_the_opening(self) -> list:
        return [lambda: self.speaker.release.set(), self.until(lambda: not self.customer.speaking, "opening over"),
                self.until(self.loop.preview.ready, "the twin conversation")]


@pytest.fixture
def call(data_dir):
    def make(rule: TurnEndRule | None = RU) -> Call:
        clock = ManualClock(5000.0)
        session = Session(load("razryv", "ru"), seed=1, mode="voice", data_dir=data_dir, clock=clock)
        synth = NotingSynth()
        speaker = NotingSpeaker(session.clock, synth)
        customer = SpokenCustomer(session, synth, speaker)
        detector = EndOfTurnDetector(trailing_silence_ms=NEUTRAL_MS)
        loop = VoiceLoop(session, detector, customer=customer, stop_wait_s=WAIT_S, turn_end=rule)
        session.start()
        return Call(session, clock, speaker, synth, customer, ScriptedRecognizer(), loop)

    return make


def test_a_thinking_pause_after_a_conjunction_does_not_end_the_turn(call, speech):  # noqa: F811
    c = call()
    pause_ms = 1000  # longer than the configured silence, shorter than the ceiling
    events = c.listen(*c.after_the_opening(), c.says("здравствуйте извините потому что"), silence(200), speech,
                      silence(pause_ms), c.says("здравствуйте извините за разрывы у нас авария на линии"), speech,
                      silence(NEUTRAL_MS + 300), c.until(lambda: of(c.session.events, TraineeTurn), "the turn"))
    turns = of(events, TraineeTurn)
    assert len(turns) == 1 and turns[0].text.endswith("авария на линии")


def test_the_same_pause_after_a_finished_move_ends_the_turn(call, speech):  # noqa: F811
    c = call()
    events = c.listen(*c.after_the_opening(), c.says("извините за разрывы"), silence(200), speech,
                      silence(FLOOR_MS + 150), c.until(lambda: of(c.session.events, TraineeTurn), "the turn"))
    turn = of(events, TraineeTurn)[0]
    assert turn.text == "извините за разрывы"
    assert turn.t_ms - turn.end_ms < NEUTRAL_MS  # ended on the floor, before the configured silence


def test_without_the_rule_a_pause_longer_than_the_silence_ends_the_turn(call, speech):  # noqa: F811
    c = call(rule=None)
    events = c.listen(*c.after_the_opening(), c.says("здравствуйте извините потому что"), silence(200), speech,
                      silence(1000), c.until(lambda: of(c.session.events, TraineeTurn), "the turn"))
    assert of(events, TraineeTurn)[0].text.endswith("потому что")  # what the rule above prevents


def test_a_reply_previewed_in_a_pause_that_the_final_words_contradict_is_never_played(call, speech):  # noqa: F811
    c = call()
    early = "здравствуйте"
    final = "здравствуйте извините за разрывы у нас авария на линии"
    # In the pause after "здравствуйте" the loop previews his answer to it and renders it ahead; then the
    # trainee goes on and the turn means something else.
    rendered_before: list[str] = []
    played_before: list[str] = []
    events = c.listen(
        *c.after_the_opening(), lambda: (rendered_before.extend(c.synth.rendered), played_before.extend(c.speaker.played)),
        c.says(early), silence(200), speech, silence(200),
        c.until(lambda: len(c.synth.rendered) > len(rendered_before), "the preview rendered"),
        c.says(final), speech, silence(NEUTRAL_MS + 300),
        c.until(lambda: of(c.session.events, CustomerLine, 1), "his answer"),
        lambda: c.speaker.release.set(), c.until(lambda: of(c.session.events, ReplyTiming, 1), "the reply played"),
    )
    ahead = c.synth.rendered[len(rendered_before)]
    said = of(events, CustomerLine, 1)[0].text
    assert of(events, TraineeTurn, 1)[0].text == final
    assert ahead not in said, "the preview must differ from the answer for this test to mean anything"
    reply = c.speaker.played[len(played_before):]
    assert reply and all(sentence in said for sentence in reply)  # only his real answer is heard
    assert ahead not in reply
    # (His answer to the final words may itself have been rendered in the last pause: that one may be used.)
    assert of(events, ReplyTiming, 1)


def test_a_reply_previewed_from_the_final_words_is_played_from_the_audio_rendered_ahead(call, speech):  # noqa: F811
    c = call()
    words = "извините за разрывы"
    events = c.listen(
        *c.after_the_opening(), c.says(words), silence(200), speech, silence(NEUTRAL_MS + 300),
        c.until(lambda: of(c.session.events, CustomerLine, 1), "his answer"),
        lambda: c.speaker.release.set(), c.until(lambda: of(c.session.events, ReplyTiming, 1), "the reply played"),
    )
    said = of(events, CustomerLine, 1)[0].text
    assert said.startswith(c.speaker.played[-1]) or c.speaker.played[-1] in said
    assert of(events, ReplyTiming, 1)[0].rendered_ahead is True
    assert of(events, SpeechPlayed, 1)


# --- the pitch in the loop: real espeak-ng speech, words that make no move ------------------------------


def _espeak_16k(text: str) -> np.ndarray:
    import subprocess
    import tempfile
    from pathlib import Path

    import soundfile as sf

    from voice_trainer.audio.resample import resample

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "said.wav"
        ssml = ["-m"] if text.startswith("<speak>") else []
        subprocess.run(["espeak-ng", "-v", "ru", *ssml, "-w", str(wav), text], check=True, capture_output=True)
        samples, rate = sf.read(wav, dtype="int16")
    return resample(AudioChunk.from_samples(samples, rate), RATE).samples()[:, 0]


@pytest.fixture(scope="module")
def held_then_finished() -> tuple[np.ndarray, np.ndarray]:
    """One sentence with a thinking pause in it: the words before it (held level), then the rest (falling)."""
    said = _espeak_16k('<speak>Модем у вас переподключается сам, и поэтому <break time="1000ms"/> '
                       'вы ничего не заметили.</speak>')
    loud = np.flatnonzero(np.abs(said.astype(np.int32)) > 300)
    gap = int(np.argmax(np.diff(loud)))
    return said[loud[0]: loud[gap] + 1], said[loud[gap + 1]: loud[-1] + 1]


NO_MOVE = "ну вот так вот"  # words the customer cannot answer, with no connector at the end


def test_a_pause_held_level_outlasts_the_configured_silence_when_the_words_say_nothing(call, held_then_finished):
    before, after = held_then_finished
    c = call()
    pause_ms = NEUTRAL_MS + 200  # would end the turn without the pitch
    events = c.listen(*c.after_the_opening(), c.says(NO_MOVE), silence(200), before, silence(pause_ms),
                      c.says(NO_MOVE + " ну да"), after, silence(CEILING_MS + 300),
                      c.until(lambda: of(c.session.events, TraineeTurn), "the turn"))
    turns = of(events, TraineeTurn)
    assert len(turns) == 1 and turns[0].text == NO_MOVE + " ну да"
    assert turns[0].end_ms - turns[0].start_ms > 1000 * len(before) / RATE + pause_ms  # both halves in it


def test_a_sentence_that_ends_falling_is_answered_on_the_floor_even_when_the_words_say_nothing(call, held_then_finished):
    _, after = held_then_finished
    c = call()
    events = c.listen(*c.after_the_opening(), c.says(NO_MOVE), silence(200), after, silence(FLOOR_MS + 150),
                      c.until(lambda: of(c.session.events, TraineeTurn), "the turn"))
    turn = of(events, TraineeTurn)[0]
    assert turn.t_ms - turn.end_ms < NEUTRAL_MS  # ended on the floor, before the configured silence
