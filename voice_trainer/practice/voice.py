"""Voice practice: turns from the microphone.

One loop on the main thread reads microphone chunks (audio callbacks only queue them, STYLE.md),
finds where turns start and end, has the recognizer hear them and hands each turn to the session.
The customer answers through his own observer (practice/customer.py). The loop observes the session
too: when his reply has been played it logs where the reply's time went (ReplyTiming, right after
the SpeechPlayed), and before listening on it resets the end-of-turn detector.

Half-duplex by default: while the customer speaks, the microphone is recorded but not recognized, so
he never hears himself. With barge-in, the trainee talking over him stops him and is logged.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass
from typing import Callable

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector, SpeechAudio, SpeechStarted, TurnEnded, TurnSignal
from voice_trainer.audio.streams import Microphone
from voice_trainer.events import (
    BargeIn,
    CustomerLine,
    Event,
    PartialText,
    ReplyTiming,
    SpeechPlayed,
    TraineeTurn,
    TurnStarted,
    reply_latency_ms,
)
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Recognizer

# FinalResult runs this long into a pause, while the end-of-turn rule is still waiting: if the pause
# does end the turn, the words are already final. 300 ms before the rule fires covers FinalResult on a
# small model on two cores.
EARLY_FINAL_BEFORE_END_MS = 300
EARLY_FINAL_MIN_SILENCE_MS = 200

# On barge-in the customer's line is stopped and waited for this long, so its SpeechPlayed (interrupted)
# comes before the BargeIn in the log. A stop that takes longer does not hold up listening: the line
# is logged whenever it does stop.
STOP_WAIT_S = 1.0

MIC_READ_S = 0.1


@dataclass
class _TurnTiming:
    """The listening side of a reply's time, kept until the reply has been played."""

    end_ms: float
    end_of_turn_wait_ms: float
    recognition_ms: float
    turn_logged_ms: float | None = None  # the TraineeTurn's t_ms
    reply_logged_ms: float | None = None  # the customer's first line's t_ms: understanding + reaction done


class VoiceLoop:
    def __init__(
        self,
        session: Session,
        detector: EndOfTurnDetector,
        *,
        customer: SpokenCustomer | None = None,
        barge_in: bool = False,
        stop_wait_s: float = STOP_WAIT_S,
        on_mic: Callable[[AudioChunk], None] | None = None,
    ):
        self.session = session
        self.detector = detector
        self.customer = customer
        self.barge_in = barge_in
        self.stop_wait_s = stop_wait_s
        self.on_mic = on_mic
        self._recognizer: Recognizer | None = None
        self._played: queue.SimpleQueue[SpeechPlayed] = queue.SimpleQueue()
        self._timings: dict[int, _TurnTiming] = {}
        self._timings_lock = threading.Lock()
        self._held: list[AudioChunk] = []  # silence after an early final, fed only if the trainee goes on
        self._finalized_early = False
        self._early_final_ms = max(EARLY_FINAL_MIN_SILENCE_MS, detector.trailing_silence_ms - EARLY_FINAL_BEFORE_END_MS)
        self._partial = ""
        session.observe(self.on_event)

    def on_event(self, event: Event) -> None:
        """Runs on the thread that emitted: the voice's own, for SpeechPlayed."""
        if isinstance(event, SpeechPlayed):
            self._played.put(event)  # the detector is reset on the listening thread
        with self._timings_lock:
            timing = self._timings.get(getattr(event, "turn", -1))
            if timing is None:
                return
            if isinstance(event, TraineeTurn):
                timing.turn_logged_ms = event.t_ms
            elif isinstance(event, CustomerLine) and timing.reply_logged_ms is None:
                timing.reply_logged_ms = event.t_ms
            elif isinstance(event, SpeechPlayed):
                del self._timings[event.turn]
            else:
                return
        if isinstance(event, SpeechPlayed):
            self._log_reply_timing(event, timing)

    # -- listening ----------------------------------------------------------------------------------

    def listen(self, mic: Microphone, recognizer: Recognizer) -> None:
        """Turns from `mic` until the call reaches an ending, then waits for the customer's last line.
        Raises AudioDeviceError if the microphone goes away."""
        self._recognizer = recognizer
        while not self.session.ended:
            if self.customer is not None:
                self.customer.check()
            chunk = mic.read(MIC_READ_S)
            # Read before handling finished lines: a line seen as finished here has been reported already.
            customer_speaking = self.customer is not None and self.customer.speaking
            self._reset_detector_after_his_lines()
            if chunk is None:
                continue
            if self.on_mic:
                self.on_mic(chunk)
            if customer_speaking and not self.barge_in:
                continue
            for signal in self.detector.feed(chunk):
                self._on_signal(signal)
        self.wait_for_customer()

    def wait_for_customer(self) -> None:
        """Until the customer's last line has been played, and its timing logged."""
        if self.customer is not None:
            self.customer.wait()
        self._reset_detector_after_his_lines()

    def _on_signal(self, signal: TurnSignal) -> None:
        if isinstance(signal, SpeechStarted):
            self._partial = ""
            self._held, self._finalized_early = [], False
            if self.customer is not None and self.customer.speaking:
                self._interrupt_customer()
            self.session.emit(TurnStarted(turn=self.session.turn + 1))
        elif isinstance(signal, SpeechAudio):
            self._on_turn_audio(signal.chunk)
        elif isinstance(signal, TurnEnded):
            self._held, self._finalized_early = [], False
            self._end_turn(signal)

    def _interrupt_customer(self) -> None:
        assert self.customer is not None
        self.customer.stop()
        self.customer.wait(self.stop_wait_s)
        self._reset_detector_after_his_lines()
        self.session.emit(BargeIn(turn=self.session.turn))

    def _on_turn_audio(self, chunk: AudioChunk) -> None:
        silence_ms = self.detector.silence_ms
        if self._finalized_early:
            self._held.append(chunk)
            # The trainee went on: the pause belongs to the turn after all. (A turn that ends in this very
            # chunk reads as no silence too, but it is no longer speaking: its pause is dropped.)
            if silence_ms == 0 and self.detector.speaking:
                for held in self._held:
                    self._feed(held)
                self._held, self._finalized_early = [], False
            return
        self._feed(chunk)
        if silence_ms >= self._early_final_ms:
            self._recognizer.close_utterance()  # type: ignore[union-attr]
            self._finalized_early = True

    def _feed(self, chunk: AudioChunk) -> None:
        partial = self._recognizer.accept(chunk)  # type: ignore[union-attr]
        if partial and partial != self._partial:
            self._partial = partial
            self.session.emit(PartialText(turn=self.session.turn + 1, text=partial))

    def _end_turn(self, ended: TurnEnded) -> None:
        fired_ms = self.session.clock.now_ms()
        t0 = time.perf_counter()
        recognition = self._recognizer.finish()  # type: ignore[union-attr]
        recognition_ms = (time.perf_counter() - t0) * 1000
        if not recognition.text.strip():
            return  # a voiced stretch that recognizes to nothing (a cough, a click) is not a turn
        turn = self.session.turn + 1
        if self.customer is not None:
            with self._timings_lock:
                self._timings[turn] = _TurnTiming(
                    end_ms=ended.end_ms, end_of_turn_wait_ms=round(fired_ms - ended.end_ms, 1),
                    recognition_ms=round(recognition_ms, 1),
                )
        reaction = self.session.trainee_says(
            recognition.text, recognition.words, start_ms=ended.start_ms, end_ms=ended.end_ms, source="voice"
        )
        if not any(isinstance(e, CustomerLine) and e.text for e in reaction):
            with self._timings_lock:
                self._timings.pop(turn, None)  # nothing to say (he had hung up): no reply to time

    # -- the customer's lines, once played ----------------------------------------------------------

    def _reset_detector_after_his_lines(self) -> None:
        while True:
            try:
                played = self._played.get_nowait()
            except queue.Empty:
                return
            if not self.detector.speaking:
                self.detector.reset()  # what was heard while he spoke is not the start of a turn

    def _log_reply_timing(self, played: SpeechPlayed, timing: _TurnTiming) -> None:
        line = self.customer.heard(played.turn) if self.customer is not None else None
        synthesis_ms = line.synthesis_ms if line is not None else 0.0
        requested_ms = line.requested_ms if line is not None else played.start_ms
        dialogue_ms = 0.0
        if timing.turn_logged_ms is not None and timing.reply_logged_ms is not None:
            dialogue_ms = round(timing.reply_logged_ms - timing.turn_logged_ms, 1)
        self.session.emit(
            ReplyTiming(
                turn=played.turn,
                end_of_turn_wait_ms=timing.end_of_turn_wait_ms,
                recognition_ms=timing.recognition_ms,
                dialogue_ms=dialogue_ms,
                synthesis_ms=synthesis_ms,
                playback_start_ms=round(max(0.0, played.start_ms - requested_ms - synthesis_ms), 1),
                reply_latency_ms=reply_latency_ms(timing.end_ms, played.start_ms),
            )
        )
