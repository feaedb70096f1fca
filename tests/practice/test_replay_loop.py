"""Replay in-process: recorded turns through a recognizer that reads from a list, the customer on the
virtual speaker, the session on the replay's manual clock. Fast and the same every run; the real
recognizer and eSpeak NG are in test_replay_practice.py."""

from __future__ import annotations

import numpy as np

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.clock import ManualClock
from voice_trainer.events import CustomerLine, Notice, SpeechPlayed, TraineeTurn, Word
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.practice.replay import Replay, VirtualSpeaker
from voice_trainer.scenario.loader import load
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Prosody, Recognition

RATE = 16000
GAP_MS = 600
LINE_MS = 800  # every customer line lasts this long on the virtual speaker


class ListRecognizer:
    """Hears the next text of `texts` in whatever it is fed, with word times inside the fed audio."""

    rate_hz = RATE

    def __init__(self, texts: list[str]):
        self.texts = list(texts)
        self.first_ms: float | None = None
        self.last_ms = 0.0

    def accept(self, chunk: AudioChunk) -> str:
        if self.first_ms is None:
            self.first_ms = chunk.timestamp_ms
        self.last_ms = chunk.timestamp_ms + chunk.duration_ms
        return ""

    def close_utterance(self) -> None:
        pass

    def finish(self) -> Recognition:
        text, start, end = self.texts.pop(0), self.first_ms + 100, self.last_ms - 100
        self.first_ms = None
        return Recognition(text, (Word(text.split()[0], start, start + 200), Word(text.split()[-1], end - 200, end)))


class Synth:
    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        return AudioChunk.from_samples(np.full(RATE * LINE_MS // 1000, 1000, dtype=np.int16), RATE)

    def close(self) -> None:
        pass


class Tape:
    """Stands in for the recorder: what reached each side, and where on the timeline."""

    def __init__(self):
        self.mic: list[tuple[float, float]] = []
        self.customer: list[tuple[float, float]] = []

    def add_mic(self, chunk: AudioChunk) -> None:
        self.mic.append((chunk.timestamp_ms, chunk.duration_ms))

    def add_customer(self, chunk: AudioChunk) -> None:
        self.customer.append((chunk.timestamp_ms, chunk.duration_ms))


def replay(data_dir, texts: list[str], seconds: list[float], persona="reasonable", policy="keep_client", seed=1):
    clock = ManualClock()
    session = Session(load("razryv", "ru"), persona=persona, policy=policy, seed=seed, mode="replay",
                      data_dir=data_dir, clock=clock)
    tape = Tape()
    customer = SpokenCustomer(session, Synth(), VirtualSpeaker(clock, session.clock, on_block=tape.add_customer))
    turns = [AudioChunk(bytes(int(2 * RATE * s)), RATE) for s in seconds]
    Replay(session, clock, ListRecognizer(texts), customer=customer, on_mic=tape.add_mic, gap_ms=GAP_MS).run(
        turns, [f"turn{i + 1}.wav" for i in range(len(turns))])
    customer.close()
    session.finish()
    return session.events, tape


def test_turns_and_replies_follow_each_other_on_the_virtual_timeline(data_dir):
    events, tape = replay(data_dir, ["здравствуйте извините за разрывы", "какой у вас модем"], [2.0, 1.5])
    played = [e for e in events if isinstance(e, SpeechPlayed)]
    turns = [e for e in events if isinstance(e, TraineeTurn)]
    assert [p.turn for p in played] == [0, 1, 2] and [t.turn for t in turns] == [1, 2]

    def sentences_in(line: SpeechPlayed) -> int:
        return len([start for start, _ in tape.customer if line.start_ms <= start < line.end_ms])

    assert played[0].start_ms == 0 and played[0].end_ms == LINE_MS * sentences_in(played[0]) > 0
    for t in turns:
        before = played[t.turn - 1]
        audio_start, audio_ms = tape.mic[t.turn - 1]
        assert audio_start == before.end_ms + GAP_MS  # the trainee starts a gap after the customer stops
        assert audio_start < t.start_ms < t.end_ms < audio_start + audio_ms  # the words, inside the audio
        assert t.t_ms == audio_start + audio_ms + GAP_MS  # the turn ends a trailing pause after the audio
        reply = played[t.turn]
        assert reply.start_ms == t.t_ms and not reply.interrupted  # he answers at once, and is heard whole
        assert reply.end_ms - reply.start_ms == LINE_MS * sentences_in(reply) > 0
    assert all(e.t_ms >= prev.t_ms for prev, e in zip(events, events[1:]))


def test_turns_left_when_the_customer_hangs_up_are_named_not_replayed(data_dir):
    rude = ["техподдержка слушаю", "ха ха ни единого разрыва ну вы даете", "посмотрите в договоре там все написано",
            "это ваши проблемы не морочьте мне голову", "хахаха"]
    events, tape = replay(data_dir, rude, [1.0] * 5, persona="stubborn", policy="let_go", seed=2)
    said = [e for e in events if isinstance(e, TraineeTurn)]
    assert len(said) == 2 and len(tape.mic) == 2
    (notice,) = [e for e in events if isinstance(e, Notice)]
    assert notice.kind == "replay" and notice.message.endswith("not replayed: turn3.wav, turn4.wav, turn5.wav")
    lines = [e.turn for e in events if isinstance(e, CustomerLine)]
    assert [e.turn for e in events if isinstance(e, SpeechPlayed)] == lines  # every line he said was heard
