"""Voice practice: the trainee speaks, the recognizer hears, the customer answers aloud.

One loop on the main thread reads microphone chunks; audio callbacks only queue them (STYLE.md).
Half-duplex by default: while the customer speaks, the microphone is recorded but not recognized,
so he never hears himself. With barge-in, the trainee talking over him stops him and is logged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector, SpeechAudio, SpeechStarted, TurnEnded
from voice_trainer.events import BargeIn, CustomerLine, PartialText, ReplyTiming, SpeechPlayed, TurnStarted
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Recognizer


class Microphone(Protocol):
    def read(self, timeout_s: float) -> AudioChunk | None: ...


# FinalResult runs this long into a pause, while the end-of-turn rule is still waiting: if the pause
# does end the turn, the words are already final. 300 ms before the rule fires covers FinalResult on a
# small model on two cores.
EARLY_FINAL_BEFORE_END_MS = 300
EARLY_FINAL_MIN_SILENCE_MS = 200


@dataclass(frozen=True)
class LoopSettings:
    barge_in: bool = False
    # A voiced stretch that recognizes to nothing (a cough, a click) is not a turn.
    ignore_empty_turns: bool = True


class VoiceLoop:
    def __init__(
        self,
        session: Session,
        mic: Microphone,
        detector: EndOfTurnDetector,
        recognizer: Recognizer,
        voice: "SpokenCustomer | None",
        *,
        settings: LoopSettings = LoopSettings(),
        on_mic: Callable[[AudioChunk], None] | None = None,
        on_partial: Callable[[str], None] | None = None,
    ):
        self.session = session
        self.mic = mic
        self.detector = detector
        self.recognizer = recognizer
        self.voice = voice
        self.settings = settings
        self.on_mic = on_mic
        self.on_partial = on_partial
        self._speech: Speech | None = None
        self._pending_timing: dict | None = None
        self._held: list[AudioChunk] = []  # silence after an early final, fed only if the trainee goes on
        self._finalized_early = False
        self._early_final_ms = max(EARLY_FINAL_MIN_SILENCE_MS, detector.trailing_silence_ms - EARLY_FINAL_BEFORE_END_MS)
        self._speech_turn = 0
        self._partial = ""

    # -- the customer's side ------------------------------------------------------------------

    def customer_speaking(self) -> bool:
        return self._speech is not None and not self._speech.done

    def _speak_new_lines(self, since: int, turn: int) -> None:
        lines = [e for e in self.session.events[since:] if isinstance(e, CustomerLine) and e.text]
        if not lines or self.voice is None:
            return
        text = " ".join(e.text for e in lines)
        self._speech = self.voice.speak(text, lines[-1].anger, turn)
        self._speech_turn = turn

    def _report_finished_speech(self) -> None:
        speech = self._speech
        if speech is None or not speech.done:
            return
        self._speech = None
        played = speech.result()
        self.session.emit(
            SpeechPlayed(turn=self._speech_turn, start_ms=played.start_ms, end_ms=played.end_ms,
                         interrupted=played.interrupted)
        )
        timing, self._pending_timing = self._pending_timing, None
        if timing is not None:
            self.session.emit(
                ReplyTiming(
                    turn=self._speech_turn,
                    synthesis_ms=round(speech.synthesis_ms, 1),
                    playback_start_ms=round(max(0.0, played.start_ms - speech.requested_ms - speech.synthesis_ms), 1),
                    reply_latency_ms=round(played.start_ms - timing["end_ms"], 1),
                    **{k: v for k, v in timing.items() if k != "end_ms"},
                )
            )
        self.detector.reset()  # what was heard while he spoke is not the start of a turn

    # -- the trainee's side -------------------------------------------------------------------

    def run(self) -> None:
        """The whole call: begin, then listen until an ending."""
        self.begin()
        self.listen()

    def begin(self) -> None:
        """Start the session: the customer speaks his opening (the caller may still be loading the model)."""
        before = len(self.session.events)
        self.session.start()
        self._speak_new_lines(before, 0)

    def listen(self) -> None:
        """Until the call reaches an ending. Raises AudioDeviceError if the microphone goes away."""
        while not self.session.ended:
            self._report_finished_speech()
            chunk = self.mic.read(0.1)
            if chunk is None:
                continue
            if self.on_mic:
                self.on_mic(chunk)
            if self.customer_speaking() and not self.settings.barge_in:
                continue
            for signal in self.detector.feed(chunk):
                self._on_signal(signal)
        self.wait_for_customer()

    def wait_for_customer(self) -> None:
        if self._speech is not None:
            self._speech.wait()
            self._report_finished_speech()

    def _on_signal(self, signal) -> None:
        if isinstance(signal, SpeechStarted):
            self._partial = ""
            self._held, self._finalized_early = [], False
            if self.customer_speaking():
                self._speech.stop()  # type: ignore[union-attr]
                self._speech.wait(1.0)  # type: ignore[union-attr]
                self._report_finished_speech()
                self.session.emit(BargeIn(turn=self.session.turn))
            self.session.emit(TurnStarted(turn=self.session.turn + 1))
        elif isinstance(signal, SpeechAudio):
            self._on_turn_audio(signal.chunk)
        elif isinstance(signal, TurnEnded):
            self._held, self._finalized_early = [], False
            self._end_turn(signal)

    def _on_turn_audio(self, chunk: AudioChunk) -> None:
        silence_ms = self.detector.silence_ms
        if self._finalized_early:
            self._held.append(chunk)
            if silence_ms == 0:  # the trainee went on: the pause belongs to the turn after all
                for held in self._held:
                    self._feed(held)
                self._held, self._finalized_early = [], False
            return
        self._feed(chunk)
        close = getattr(self.recognizer, "close_utterance", None)
        if close is not None and silence_ms >= self._early_final_ms:
            close()
            self._finalized_early = True

    def _feed(self, chunk: AudioChunk) -> None:
        partial = self.recognizer.accept(chunk)
        if partial and partial != self._partial:
            self._partial = partial
            self.session.emit(PartialText(turn=self.session.turn + 1, text=partial))
            if self.on_partial:
                self.on_partial(partial)

    def _end_turn(self, ended: TurnEnded) -> None:
        fired_ms = self.session.clock.now_ms()
        t0 = time.perf_counter()
        recognition = self.recognizer.finish()
        recognition_ms = (time.perf_counter() - t0) * 1000
        if not recognition.text.strip() and self.settings.ignore_empty_turns:
            return
        t1 = time.perf_counter()
        before = len(self.session.events)
        self.session.trainee_says(
            recognition.text, recognition.words, start_ms=ended.start_ms, end_ms=ended.end_ms, source="voice"
        )
        dialogue_ms = (time.perf_counter() - t1) * 1000
        turn = self.session.turn
        self._speak_new_lines(before, turn)
        if self._speech is not None:
            self._pending_timing = {
                "end_ms": ended.end_ms,
                "end_of_turn_wait_ms": round(fired_ms - ended.end_ms, 1),
                "recognition_ms": round(recognition_ms, 1),
                "dialogue_ms": round(dialogue_ms, 1),
            }


# -- the customer's voice for one session ------------------------------------------------------------


class _TimedSynthesizer:
    """Remembers how long the first sentence of the current line took to render (the synthesis share
    of the reply latency)."""

    def __init__(self, synth):
        self.synth = synth
        self.first_render_ms: float | None = None

    def render(self, text, prosody):
        t0 = time.perf_counter()
        audio = self.synth.render(text, prosody)
        if self.first_render_ms is None:
            self.first_render_ms = (time.perf_counter() - t0) * 1000
        return audio


class Speech:
    """One customer line being spoken in the background."""

    def __init__(self, handle, voice, requested_ms: float, timer: _TimedSynthesizer):
        self._handle = handle
        self._voice = voice
        self.requested_ms = requested_ms
        self._timer = timer

    @property
    def done(self) -> bool:
        return self._handle.done

    def stop(self) -> None:
        self._voice.stop()

    def wait(self, timeout_s: float | None = None) -> None:
        try:
            self._handle.wait(timeout_s)
        except TimeoutError:
            pass

    def result(self):
        return self._handle.wait()

    @property
    def synthesis_ms(self) -> float:
        return self._timer.first_render_ms or 0.0


class SpokenCustomer:
    """The customer's voice: one synthesizer, the output device, and the recording of what he says."""

    def __init__(self, synth, device):
        self._synth = synth
        self._timer = _TimedSynthesizer(synth)
        self._device = device
        self._speaker = None
        self._voice = None
        self.session: Session | None = None

    @classmethod
    def open(cls, output: str | None, lang: str, espeak_voice: str | None = None) -> "SpokenCustomer":
        """AudioDeviceError without a speaker, SynthesisError without eSpeak NG."""
        from voice_trainer.audio.devices import pick_output
        from voice_trainer.speech.synthesizer import Pyttsx3Synthesizer

        device = pick_output(output)
        return cls(Pyttsx3Synthesizer(lang, voice=espeak_voice), device)

    def attach(self, session: Session):
        """Speak for `session`; returns its recorder (the customer on the right channel, as played)."""
        from voice_trainer.audio.recorder import SessionRecorder
        from voice_trainer.audio.streams import SpeakerStream
        from voice_trainer.audio.voice import CustomerVoice
        from voice_trainer.session_log import RECORDING_FILE

        self.session = session
        recorder = SessionRecorder(session.folder / RECORDING_FILE, rate_hz=16000, clock=session.clock)
        self._speaker = SpeakerStream(self._device, clock=session.clock, on_block=recorder.add_customer)
        self._voice = CustomerVoice(self._timer, self._speaker, clock=session.clock)
        return recorder

    def speak(self, text: str, anger: float, turn: int) -> Speech:
        assert self._voice is not None and self.session is not None, "attach() a session first"
        self._timer.first_render_ms = None
        requested_ms = self.session.clock.now_ms()
        return Speech(self._voice.say_async(text, anger, turn), self._voice, requested_ms, self._timer)

    def speak_new_lines(self, session: Session, since: int) -> None:
        """Text mode: say the customer's new lines and wait until he is done, then log when he spoke."""
        lines = [e for e in session.events[since:] if isinstance(e, CustomerLine) and e.text]
        if not lines:
            return
        speech = self.speak(" ".join(e.text for e in lines), lines[-1].anger, session.turn)
        played = speech.result()
        session.emit(SpeechPlayed(turn=session.turn, start_ms=played.start_ms, end_ms=played.end_ms,
                                  interrupted=played.interrupted))

    def close(self) -> None:
        if self._speaker is not None:
            self._speaker.close()
        self._synth.close()
