"""The customer speaking: sentence streaming, barge-in, and the real voice on the virtual headset."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.devices import pick_output
from voice_trainer.audio.streams import PlaybackResult, SpeakerStream
from voice_trainer.clock import ManualClock, MonotonicClock
from voice_trainer.speech.interfaces import Prosody
from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer, SynthesisError
from voice_trainer.speech.voice import CustomerVoice, LinePlayed, split_sentences
from tests.fixtures.headset import loud_span_ms, read_wav

THREE_SENTENCES = "Я звоню уже третий раз. Интернет так и не работает! Когда вы наконец пришлёте мастера?"
WAIT_S = 10  # upper bound for a thread handing over; never reached when things work


# --- unit boundary: a synthesizer that encodes the sentence, a speaker that records ---------------


class SentenceSynth:
    """Renders each sentence as 100 ms of a constant sample value: its index in `sentences` + 1."""

    def __init__(self, sentences: list[str]):
        self.sentences = sentences
        self.rendered: list[str] = []
        self.gates: dict[int, threading.Event] = {}  # render of sentence i waits for gates[i]
        self.fail_on: int | None = None

    def render(self, text: str, prosody: Prosody) -> AudioChunk:
        index = self.sentences.index(text)
        if index in self.gates:
            assert self.gates[index].wait(WAIT_S), f"sentence {index} was never released"
        if index == self.fail_on:
            raise SynthesisError("espeak broke")
        self.rendered.append(text)
        return AudioChunk.from_samples(np.full(2205, index + 1, dtype="<i2"), 22050)


class RecordingSpeaker:
    """Plays instantly on a ManualClock; can hold a chosen sentence until the stop event (a barge-in)."""

    def __init__(self, clock: ManualClock):
        self.clock = clock
        self.played: list[int] = []
        self.started = threading.Event()
        self.hold: int | None = None
        self.holding = threading.Event()

    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        sentence = int(chunk.samples()[0, 0]) - 1
        self.started.set()
        start_ms = self.clock.now_ms()
        if sentence == self.hold:
            self.holding.set()
            assert stop is not None and stop.wait(WAIT_S), "nobody stopped the held sentence"
            self.clock.advance(30)
            self.played.append(sentence)
            return PlaybackResult(start_ms, self.clock.now_ms(), interrupted=True)
        self.clock.advance(chunk.duration_ms)
        self.played.append(sentence)
        return PlaybackResult(start_ms, self.clock.now_ms(), interrupted=False)


def sentences_of(text: str) -> list[str]:
    return split_sentences(text)


@pytest.fixture
def voice_parts():
    clock = ManualClock(1000.0)
    synth = SentenceSynth(sentences_of(THREE_SENTENCES))
    speaker = RecordingSpeaker(clock)
    played_events: list[LinePlayed] = []
    voice = CustomerVoice(synth, speaker, clock=clock, on_played=played_events.append)
    return voice, synth, speaker, played_events


def test_a_line_is_spoken_sentence_by_sentence_in_order(voice_parts):
    voice, synth, speaker, played_events = voice_parts
    result = voice.say_async(THREE_SENTENCES, anger=40, turn=3).wait(WAIT_S)
    assert speaker.played == [0, 1, 2]
    assert (result.turn, result.start_ms, result.end_ms, result.interrupted) == (3, 1000.0, 1300.0, False)
    assert result.requested_ms == 1000.0 and result.synthesis_ms >= 0
    assert played_events == [result]


def test_the_line_is_reported_before_it_stops_counting_as_speaking(voice_parts):
    voice, synth, speaker, _ = voice_parts
    seen_speaking = []
    voice.on_played = lambda line: seen_speaking.append(voice.speaking)
    voice.say_async(THREE_SENTENCES, anger=0, turn=1).wait(WAIT_S)
    assert seen_speaking == [True] and not voice.speaking


def test_the_customer_starts_speaking_before_the_rest_of_the_line_is_rendered(voice_parts):
    voice, synth, speaker, _ = voice_parts
    synth.gates[1] = threading.Event()  # the second sentence renders only once the first is playing
    handle = voice.say_async(THREE_SENTENCES, anger=0, turn=1)
    assert speaker.started.wait(WAIT_S)
    assert synth.rendered == [synth.sentences[0]]
    synth.gates[1].set()
    assert handle.wait(WAIT_S).interrupted is False
    assert speaker.played == [0, 1, 2]


def test_stop_silences_the_line_and_skips_the_rest(voice_parts):
    voice, synth, speaker, played_events = voice_parts
    speaker.hold = 1
    handle = voice.say_async(THREE_SENTENCES, anger=90, turn=2)
    assert speaker.holding.wait(WAIT_S)
    assert voice.speaking
    voice.stop()
    result = handle.wait(WAIT_S)
    assert result.interrupted
    assert speaker.played == [0, 1]
    assert not voice.speaking
    assert played_events[-1].interrupted and played_events[-1].turn == 2


def test_stop_before_the_first_sentence_is_ready_plays_nothing(voice_parts):
    voice, synth, speaker, _ = voice_parts
    synth.gates[0] = threading.Event()
    handle = voice.say_async(THREE_SENTENCES, anger=0, turn=1)
    assert voice.speaking  # accepted lines count as speaking before the first sample
    voice.stop()
    synth.gates[0].set()
    result = handle.wait(WAIT_S)
    assert result.interrupted and speaker.played == []
    assert result.start_ms == result.end_ms


def test_the_caller_keeps_running_while_the_line_is_spoken(voice_parts):
    voice, synth, speaker, _ = voice_parts
    speaker.hold = 0
    handle = voice.say_async(THREE_SENTENCES, anger=0, turn=1)
    assert speaker.holding.wait(WAIT_S)  # we got here while the customer is mid-sentence
    assert not handle.done
    voice.stop()
    assert handle.wait(WAIT_S).interrupted


def test_a_render_failure_reaches_whoever_waits(voice_parts):
    voice, synth, speaker, _ = voice_parts
    synth.fail_on = 1
    handle = voice.say_async(THREE_SENTENCES, anger=0, turn=1)
    with pytest.raises(SynthesisError, match="espeak broke"):
        handle.wait(WAIT_S)
    assert speaker.played == [0] and not voice.speaking


# --- the real voice on the virtual headset ------------------------------------------------------


class FirstPlayTimer:
    """Wraps the real speaker to note when the first sentence was handed to it."""

    def __init__(self, speaker: SpeakerStream):
        self.speaker = speaker
        self.first_play_s: float | None = None

    def play(self, chunk: AudioChunk, stop: threading.Event | None = None) -> PlaybackResult:
        if self.first_play_s is None:
            self.first_play_s = time.perf_counter()
        return self.speaker.play(chunk, stop)


@pytest.mark.audio
def test_the_real_voice_speaks_a_three_sentence_line_on_the_headset(headset, tmp_path):
    synth = Pyttsx3Synthesizer("ru")
    sentences = sentences_of(THREE_SENTENCES)
    assert len(sentences) == 3
    rendered_ms = sum(synth.render(s, Prosody(rate_wpm=190)).duration_ms for s in sentences)
    clock = MonotonicClock()
    with SpeakerStream(pick_output(None), clock=clock) as real_speaker:
        timed = FirstPlayTimer(real_speaker)
        voice = CustomerVoice(synth, timed, clock=clock)
        with headset.record_speaker(tmp_path / "customer.wav") as recording:
            said_at_ms = clock.now_ms()
            result = voice.say_async(THREE_SENTENCES, anger=50, turn=1).wait()
    heard = read_wav(recording)
    synth.close()
    measured = f"rendered {rendered_ms:.0f} ms, played {result}, heard span {loud_span_ms(heard):.0f} ms"
    assert not result.interrupted, measured
    assert said_at_ms <= result.start_ms < result.end_ms, measured
    # all three sentences, in one piece; a loaded machine may stretch playback (gaps), never shorten it
    assert 0.85 * rendered_ms <= result.end_ms - result.start_ms <= 1.5 * rendered_ms, measured
    assert 0.75 * rendered_ms <= loud_span_ms(heard) <= 1.5 * rendered_ms, measured


@pytest.mark.audio
def test_the_first_sentence_plays_before_the_whole_line_could_be_rendered(headset):
    synth = Pyttsx3Synthesizer("ru")
    long_line = " ".join([THREE_SENTENCES] * 3)  # nine sentences: rendering all of them takes a while
    whole_render_s = min(_seconds(lambda: synth.render(long_line, Prosody())) for _ in range(3))
    to_first_play_s = []
    with SpeakerStream(pick_output(None), clock=MonotonicClock()) as real_speaker:
        for _ in range(3):
            timed = FirstPlayTimer(real_speaker)
            voice = CustomerVoice(synth, timed, clock=MonotonicClock())
            started = time.perf_counter()
            handle = voice.say_async(long_line, anger=0, turn=1)
            while timed.first_play_s is None and not handle.done:
                time.sleep(0.001)  # polling the moment of the first play, not waiting for behaviour
            to_first_play_s.append(timed.first_play_s - started)
            voice.stop()
            handle.wait(WAIT_S)
    synth.close()
    assert min(to_first_play_s) < 0.6 * whole_render_s


def _seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
