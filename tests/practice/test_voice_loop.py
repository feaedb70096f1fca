"""The voice loop in-process: a scripted microphone, a recognizer that writes down what it hears, the
customer's voice on a speaker the test holds and releases, all on a clock moved by the microphone.

The end-of-turn detector, the session, the dialogue core and the customer's observer are the real
ones; only the hardware is fake, so barge-in, a stop that takes too long and the early final result
are checked quickly and the same way every run. (The headset tests in test_voice_practice.py prove
the real parts work together.)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import pytest
import soundfile as sf

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector
from voice_trainer.audio.streams import PlaybackResult
from voice_trainer.clock import ManualClock
from voice_trainer.events import (
    BargeIn,
    PartialText,
    ReplyTiming,
    SpeechPlayed,
    TraineeTurn,
    TurnStarted,
    Word,
)
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.practice.voice import VoiceLoop
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Prosody, Recognition

RATE = 16000
CHUNK_MS = 30
TRAILING_MS = 600
WAIT_S = 10  # upper bound for another thread; never reached when things work
SAID = "здравствуйте извините за разрывы"


# --- the fake hardware --------------------------------------------------------------------------


class ScriptedMic:
    """Reads the script: audio (cut into 30 ms chunks, stamped on the session timeline, each moving the
    clock on by its length) and actions run between chunks on the listening thread. When the script
    ends the trainee presses Ctrl-C."""

    def __init__(self, clock: ManualClock, timeline, script: list):
        self.clock = clock
        self.timeline = timeline
        self.steps: list = []
        for step in script:
            if callable(step):
                self.steps.append(step)
                continue
            size = RATE * CHUNK_MS // 1000
            for i in range(0, len(step) - size + 1, size):
                self.steps.append(step[i : i + size])

    def read(self, timeout_s: float) -> AudioChunk | None:
        while self.steps and callable(self.steps[0]):
            self.steps.pop(0)()
        if not self.steps:
            raise KeyboardInterrupt
        samples = self.steps.pop(0)
        chunk = AudioChunk.from_samples(samples, RATE, timestamp_ms=self.timeline.now_ms())
        self.clock.advance(chunk.duration_ms)
        return chunk


@dataclass
class NotingRecognizer:
    """Hears `SAID` in whatever it is fed; notes how much audio it got and when it was asked to finalize."""

    rate_hz: int = RATE
    fed_ms: float = 0.0
    calls: list[str] = field(default_factory=list)

    def accept(self, chunk: AudioChunk) -> str:
        self.fed_ms += chunk.duration_ms
        self.calls.append("accept")
        return SAID.split()[0]

    def close_utterance(self) -> None:
        self.calls.append("close_utterance")

    def finish(self) -> Recognition:
        self.calls.append("finish")
        fed, self.fed_ms = self.fed_ms, 0.0
        if not fed:
            return Recognition("")
        return Recognition(SAID, tuple(Word(w, 100.0 * i, 100.0 * i + 90) for i, w in enumerate(SAID.split())))


class Synth:
    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        return AudioChunk(bytes(2 * 2205), 22050)

    def close(self) -> None:
        pass


class HeldSpeaker:
    """Plays a sentence until the test releases it or the voice is stopped. `ignores_stop`: a device that
    takes its time to stop (it stops when released)."""

    def __init__(self, timeline):
        self.clock = timeline
        self.release = threading.Event()
        self.playing = threading.Event()
        self.ignores_stop = False

    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        start_ms = self.clock.now_ms()
        self.playing.set()
        while not self.release.wait(0.005):
            if stop is not None and stop.is_set() and not self.ignores_stop:
                return PlaybackResult(start_ms, self.clock.now_ms(), interrupted=True)
        return PlaybackResult(start_ms, self.clock.now_ms(), interrupted=bool(stop and stop.is_set()))

    def close(self) -> None:
        self.release.set()


# --- a call -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    """1-2 s of real speech (espeak-ng), 16 kHz."""
    import subprocess
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run(["espeak-ng", "-v", "ru", "-w", str(wav), SAID], check=True, capture_output=True)
        samples, rate = sf.read(wav, dtype="int16")
    from voice_trainer.audio.resample import resample

    voiced = resample(AudioChunk.from_samples(samples, rate), RATE).samples()[:, 0]
    loud = np.flatnonzero(np.abs(voiced.astype(np.int32)) > 300)
    return voiced[loud[0] : loud[-1] + 1]  # without espeak's own silence around it


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(RATE * ms / 1000), dtype=np.int16)


@dataclass
class Call:
    session: Session
    clock: ManualClock
    speaker: HeldSpeaker
    customer: SpokenCustomer
    recognizer: NotingRecognizer
    loop: VoiceLoop

    def listen(self, *script) -> list:
        try:
            self.loop.listen(ScriptedMic(self.clock, self.session.clock, list(script)), self.recognizer)
        except KeyboardInterrupt:
            pass
        self.customer.close()
        return self.session.events

    def until(self, predicate: Callable[[], bool]) -> Callable[[], None]:
        """A script step: wait (on the listening thread) until another thread made `predicate` true."""

        def step() -> None:
            done = threading.Event()
            for _ in range(int(WAIT_S / 0.005)):
                if predicate():
                    done.set()
                    break
                done.wait(0.005)
            assert done.is_set(), "the other thread never got there"

        return step


@pytest.fixture
def call(data_dir) -> Callable[..., Call]:
    def make(barge_in: bool = False) -> Call:
        clock = ManualClock(5000.0)
        session = Session(load("razryv", "ru"), seed=1, mode="voice", data_dir=data_dir, clock=clock)
        speaker = HeldSpeaker(session.clock)
        customer = SpokenCustomer(session, Synth(), speaker)
        detector = EndOfTurnDetector(trailing_silence_ms=TRAILING_MS)
        loop = VoiceLoop(session, detector, customer=customer, barge_in=barge_in, stop_wait_s=WAIT_S)
        session.start()
        return Call(session, clock, speaker, customer, NotingRecognizer(), loop)

    return make


def of(events: list, kind: type, turn: int | None = None) -> list:
    return [e for e in events if isinstance(e, kind) and (turn is None or e.turn == turn)]


def order(events: list) -> list[tuple[str, int]]:
    kinds = (SpeechPlayed, BargeIn, TurnStarted, TraineeTurn, ReplyTiming)
    return [(e.type, e.turn) for e in events if isinstance(e, kinds)]


# --- the tests ----------------------------------------------------------------------------------


def test_half_duplex_ignores_the_trainee_while_the_customer_speaks(call, speech):
    c = call()
    events = c.listen(silence(300), speech, silence(900))  # all of it while the opening plays
    assert not of(events, TurnStarted) and not of(events, TraineeTurn) and not of(events, BargeIn)
    assert c.recognizer.fed_ms == 0
    assert of(events, SpeechPlayed, 0)[0].interrupted  # cut by Ctrl-C at the end, and still logged


def test_a_turn_after_the_opening_is_heard_answered_and_timed(call, speech):
    c = call()
    events = c.listen(
        silence(300), lambda: c.speaker.release.set(),  # the opening ends
        c.until(lambda: not c.customer.speaking),
        silence(300), lambda: c.speaker.release.clear(), speech, silence(TRAILING_MS + 300),
        c.until(lambda: c.speaker.playing.is_set()), lambda: c.speaker.release.set(),  # the reply is played
        c.until(lambda: of(c.session.events, ReplyTiming)),
    )
    assert order(events) == [("speech_played", 0), ("turn_started", 1), ("trainee_turn", 1),
                              ("speech_played", 1), ("reply_timing", 1)]
    turn = of(events, TraineeTurn, 1)[0]
    assert turn.text == SAID and turn.source == "voice"
    assert of(events, PartialText, 1)
    timing = of(events, ReplyTiming, 1)[0]
    played = of(events, SpeechPlayed, 1)[0]
    assert timing.reply_latency_ms == round(played.start_ms - turn.end_ms, 1)
    assert TRAILING_MS <= timing.end_of_turn_wait_ms <= TRAILING_MS + 2 * CHUNK_MS
    assert c.recognizer.calls.count("finish") == 1


def test_barge_in_stops_the_customer_logs_it_and_hears_the_whole_turn(call, speech):
    c = call(barge_in=True)
    he_talks = c.until(lambda: c.speaker.playing.is_set())
    events = c.listen(he_talks, silence(300), speech, silence(TRAILING_MS + 300))  # he never finishes his opening
    assert order(events)[:4] == [("speech_played", 0), ("barge_in", 0), ("turn_started", 1), ("trainee_turn", 1)]
    assert of(events, SpeechPlayed, 0)[0].interrupted
    assert len(of(events, TurnStarted)) == 1  # one turn, not restarted when his stopped line was reported
    assert c.recognizer.calls.count("finish") == 1
    assert c.recognizer.calls.index("finish") > c.recognizer.calls.index("accept")
    assert of(events, TraineeTurn, 1)[0].text == SAID


def test_a_stop_that_takes_longer_than_the_wait_neither_blocks_nor_loses_his_line(call, speech):
    c = call(barge_in=True)
    c.speaker.ignores_stop = True
    c.loop.stop_wait_s = 0.05
    events = c.listen(
        c.until(lambda: c.speaker.playing.is_set()),
        silence(300), speech, silence(TRAILING_MS + 300),  # barge-in; the device keeps playing
        c.until(lambda: of(c.session.events, TraineeTurn)),
        lambda: c.speaker.release.set(),  # the device finally stops
        c.until(lambda: of(c.session.events, SpeechPlayed, 0)),
        silence(300),
    )
    assert [e.type for e in events if isinstance(e, (BargeIn, TurnStarted, TraineeTurn))] == [
        "barge_in", "turn_started", "trainee_turn"]
    opening = of(events, SpeechPlayed, 0)
    assert len(opening) == 1 and opening[0].interrupted  # logged late, not lost
    assert events.index(opening[0]) > events.index(of(events, BargeIn)[0])
    assert not of(events, ReplyTiming, 0)  # the opening is not a reply


def test_the_early_final_result_comes_during_the_trailing_silence(call, speech):
    c = call()
    c.speaker.release.set()
    c.listen(c.until(lambda: not c.customer.speaking), silence(300), speech, silence(TRAILING_MS + 300))
    calls = [k for k in c.recognizer.calls if k != "accept"]
    assert calls[:2] == ["close_utterance", "finish"]
    # after the early final, the rest of the pause was held back, not fed
    assert c.recognizer.calls[c.recognizer.calls.index("close_utterance") + 1] == "finish"


def test_a_pause_after_the_early_final_is_fed_when_the_trainee_goes_on(call, speech):
    c = call()
    c.speaker.release.set()
    pause_ms = TRAILING_MS - 150  # past the early-final point, short of the end of the turn
    c.listen(c.until(lambda: not c.customer.speaking), silence(300), speech, silence(pause_ms), speech,
             silence(TRAILING_MS + 300))
    calls = [k for k in c.recognizer.calls if k != "accept"]
    assert calls == ["close_utterance", "close_utterance", "finish"]  # one turn: finalized early twice
    assert of(c.session.events, TraineeTurn) and len(of(c.session.events, TraineeTurn)) == 1
    first_close = c.recognizer.calls.index("close_utterance")
    fed_after_first_close = c.recognizer.calls[first_close + 1 :].count("accept")
    assert fed_after_first_close > 0  # the held pause and the rest of the turn reached the recognizer
