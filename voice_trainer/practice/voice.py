"""Voice practice: turns from the microphone.

One loop on the main thread reads microphone chunks (audio callbacks only queue them, STYLE.md),
finds where turns start and end, has the recognizers hear them and hands each turn to the session.
The customer answers through his own observer (practice/customer.py). The loop observes the session
too: when his reply has been played it logs where the reply's time went (ReplyTiming, right after
the SpeechPlayed), and before listening on it resets the end-of-turn detector.

Two passes: the live recognizer (with a grammar: the scenario's words, fast) decides what the customer
answers; the full one (free recognition, slower) hears the same audio on its own thread and makes the
transcript for the record (`FullTranscript`, logged when ready, never waited for by the reply). A turn
the live pass hears as nothing (speech outside its words) is decided by the full pass.

In a pause the loop judges from the live words so far how long the pause must last to end the turn
(practice/turn_taking.py), finalizes the live words early, and previews the customer's answer so his
voice can render it ahead (practice/speculation.py). Only the session's own CustomerLine is ever spoken.

Half-duplex by default: while the customer speaks, the microphone is recorded but not recognized, so
he never hears himself. With barge-in, the trainee talking over him stops him and is logged.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

from voice_trainer.audio.chunk import AudioChunk
from voice_trainer.audio.endpoint import EndOfTurnDetector, SpeechAudio, SpeechStarted, TurnEnded, TurnSignal
from voice_trainer.audio.streams import Microphone
from voice_trainer.events import (
    BargeIn,
    CustomerLine,
    Event,
    FullTranscript,
    PartialText,
    ReplyTiming,
    SpeechPlayed,
    TraineeTurn,
    TurnStarted,
    reply_latency_ms,
)
from voice_trainer.practice.customer import SpokenCustomer
from voice_trainer.practice.speculation import ReplyPreview
from voice_trainer.practice.turn_taking import TurnEndRule
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Recognition, Recognizer

# The live words are finalized this long before the end-of-turn rule would fire, while it is still
# waiting: if the pause does end the turn, the words are already final. 300 ms covers FinalResult of
# free recognition on a small model on two cores; a grammar pass needs far less (the runner says).
EARLY_FINAL_BEFORE_END_MS = 300
EARLY_FINAL_MIN_SILENCE_MS = 150

# A pause is judged (how long it must last, what he would answer) once it is this long: shorter gaps
# are stop consonants and breaths inside words.
PAUSE_NOTICE_MS = 120

# On barge-in the customer's line is stopped and waited for this long, so its SpeechPlayed (interrupted)
# comes before the BargeIn in the log. A stop that takes longer does not hold up listening: the line
# is logged whenever it does stop.
STOP_WAIT_S = 1.0

# At the end of the call the full transcript of the last turns is waited for this long at most.
FULL_TRANSCRIPT_WAIT_S = 15.0

MIC_READ_S = 0.1


@dataclass
class _TurnTiming:
    """The listening side of a reply's time, kept until the reply has been played."""

    end_ms: float
    end_of_turn_wait_ms: float
    recognition_ms: float
    end_of_turn_cue: str = ""
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
        turn_end: TurnEndRule | None = None,
        preview: bool = True,
        early_final_before_end_ms: int = EARLY_FINAL_BEFORE_END_MS,
    ):
        """`turn_end`: the pause that ends a turn follows the words (None: always the detector's own
        trailing silence). `preview`: work out and render the customer's answer in a pause."""
        self.session = session
        self.detector = detector
        self.customer = customer
        self.barge_in = barge_in
        self.stop_wait_s = stop_wait_s
        self.on_mic = on_mic
        self.turn_end = turn_end
        self.early_final_before_end_ms = early_final_before_end_ms
        self._neutral_ms = turn_end.neutral_ms if turn_end is not None else detector.trailing_silence_ms
        self.preview = ReplyPreview(session) if preview and customer is not None else None
        self._recognizer: Recognizer | None = None
        self._transcriber: Recognizer | None = None
        self._transcribe_every_turn = True
        self._played: queue.SimpleQueue[SpeechPlayed] = queue.SimpleQueue()
        self._timings: dict[int, _TurnTiming] = {}
        self._timings_lock = threading.Lock()
        self._full: list[tuple[int, Future]] = []  # turns whose full transcript is still being made
        self._new_turn()
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

    def listen(self, mic: Microphone, recognizer: Recognizer, transcriber: Recognizer | None = None, *,
               transcribe_every_turn: bool = True) -> None:
        """Turns from `mic` until the call reaches an ending, then waits for the customer's last line.

        `recognizer` is the live pass the customer answers. `transcriber`, if any, is the full pass: fed
        every turn alongside for the record, or (`transcribe_every_turn=False`) only given a turn the
        live pass heard nothing in. Raises AudioDeviceError if the microphone goes away, and a
        recognizer's error (a model that failed to load) as soon as it is known."""
        self._recognizer, self._transcriber = recognizer, transcriber
        self._transcribe_every_turn = transcribe_every_turn
        if self.preview is not None:
            self.preview.prepare()
        try:
            while not self.session.ended:
                self._check_recognizers()
                if self.customer is not None:
                    self.customer.check()
                self._log_full_transcripts()
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
        finally:
            self._log_full_transcripts(wait_s=FULL_TRANSCRIPT_WAIT_S)

    def wait_for_customer(self) -> None:
        """Until the customer's last line has been played, and its timing logged."""
        if self.customer is not None:
            self.customer.wait()
        self._reset_detector_after_his_lines()

    def _check_recognizers(self) -> None:
        for recognizer in (self._recognizer, self._transcriber):
            check = getattr(recognizer, "check", None)
            if check is not None:
                check()

    def _on_signal(self, signal: TurnSignal) -> None:
        if isinstance(signal, SpeechStarted):
            self._new_turn()
            if self.customer is not None and self.customer.speaking:
                self._interrupt_customer()
            self.session.emit(TurnStarted(turn=self.session.turn + 1))
            if self.preview is not None:
                self.preview.prepare()
        elif isinstance(signal, SpeechAudio):
            self._on_turn_audio(signal.chunk)
        elif isinstance(signal, TurnEnded):
            self._end_turn(signal)
            self._new_turn()

    def _new_turn(self) -> None:
        self._partial = ""
        self._held: list[AudioChunk] = []  # pause after an early final, fed only if the trainee goes on
        self._finalized_early = False
        self._in_pause = False
        self._judged: str | None = None  # the words the current pause was judged on
        self._why = ""  # the cues that set the current pause's wait (turn_taking.TurnEndRule.judge)
        self._turn_audio: list[AudioChunk] = []  # for a full pass that only hears turns the live one missed
        self.detector.trailing_silence_ms = self._neutral_ms

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
                held, self._held, self._finalized_early = self._held, [], False
                for piece in held:
                    self._feed(piece)
                self._talking_again()
            else:
                self._judge_pause()  # the early final may have changed the words
            return
        self._feed(chunk)
        if silence_ms == 0:
            if self._in_pause:
                self._talking_again()
            return
        self._in_pause = True
        if silence_ms >= PAUSE_NOTICE_MS:
            self._judge_pause()
        wait_ms = self.detector.trailing_silence_ms
        if silence_ms >= max(EARLY_FINAL_MIN_SILENCE_MS, wait_ms - self.early_final_before_end_ms):
            closed = self._recognizer.close_utterance()  # type: ignore[union-attr]
            if isinstance(closed, str):
                self._partial = closed
            self._finalized_early = True

    def _feed(self, chunk: AudioChunk) -> None:
        partial = self._recognizer.accept(chunk)  # type: ignore[union-attr]
        if self._transcriber is not None:
            if self._transcribe_every_turn:
                self._transcriber.accept(chunk)
            else:
                self._turn_audio.append(chunk)
        if partial and partial != self._partial:
            self._partial = partial
            self.session.emit(PartialText(turn=self.session.turn + 1, text=partial))

    def _heard_so_far(self) -> str:
        """The live words of the turn so far: a background recognizer's newest (after an early final, its
        final words), else the last partial text returned."""
        newest = getattr(self._recognizer, "partial", None)
        return newest if isinstance(newest, str) else self._partial

    def _talking_again(self) -> None:
        self._in_pause = False
        self._judged = None
        self._why = ""
        self.detector.trailing_silence_ms = self._neutral_ms
        if self.preview is not None:
            self.preview.prepare()

    def _judge_pause(self) -> None:
        """How long this pause must last to end the turn, and what the customer would answer."""
        heard = self._heard_so_far()
        if heard == self._judged:
            return
        self._judged = heard
        if self.turn_end is not None:
            # The pitch is read from the voice before the pause: the same for the whole pause.
            phrase_end = self.detector.phrase_end().kind
            self.detector.trailing_silence_ms, self._why = self.turn_end.judge(heard, self._makes_a_move, phrase_end)
        if self.preview is not None and heard.strip() and self.customer is not None:
            line = self.preview.reply_to(heard)
            if line is not None:
                self.customer.expect(line.text, line.anger)

    def _makes_a_move(self, text: str) -> bool:
        return bool(self.session.conversation.understand(text).moves)

    def _end_turn(self, ended: TurnEnded) -> None:
        fired_ms = self.session.clock.now_ms()
        t0 = time.perf_counter()
        heard = self._recognizer.finish()  # type: ignore[union-attr]
        full = self._full_pass(heard)
        if not heard.text.strip() and full is not None:
            heard, full = full.result(), None  # the live pass heard nothing it knows: the full pass decides
        recognition_ms = (time.perf_counter() - t0) * 1000
        if not heard.text.strip():
            return  # a voiced stretch that recognizes to nothing (a cough, a click) is not a turn
        turn = self.session.turn + 1
        if self.customer is not None:
            with self._timings_lock:
                self._timings[turn] = _TurnTiming(
                    end_ms=ended.end_ms, end_of_turn_wait_ms=round(fired_ms - ended.end_ms, 1),
                    recognition_ms=round(recognition_ms, 1),
                    end_of_turn_cue=self._why if ended.reason == "silence" else ended.reason,
                )
        reaction = self.session.trainee_says(
            heard.text, heard.words, start_ms=ended.start_ms, end_ms=ended.end_ms, source="voice"
        )
        if full is not None:
            self._full.append((turn, full))
        if not any(isinstance(e, CustomerLine) and e.text for e in reaction):
            with self._timings_lock:
                self._timings.pop(turn, None)  # nothing to say (he had hung up): no reply to time

    def _full_pass(self, heard: Recognition) -> Future | None:
        """The full transcript of the turn just ended, on its way (None without a full pass, or when it
        only hears turns the live pass missed and this one was heard)."""
        if self._transcriber is None:
            return None
        if not self._transcribe_every_turn:
            if heard.text.strip():
                return None
            for chunk in self._turn_audio:
                self._transcriber.accept(chunk)
        finish_async = getattr(self._transcriber, "finish_async", None)
        if finish_async is not None:
            return finish_async()
        done: Future = Future()
        done.set_result(self._transcriber.finish())
        return done

    def _log_full_transcripts(self, wait_s: float = 0.0) -> None:
        """Log the full transcripts that are ready (waiting up to `wait_s` for the rest), in turn order."""
        deadline = time.monotonic() + wait_s
        while self._full:
            turn, made = self._full[0]
            try:
                full = made.result(timeout=max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return
            except Exception:  # noqa: BLE001 - the live pass decided the turn; its words stay the record
                self._full.pop(0)
                continue
            self._full.pop(0)
            moves = self.session.conversation.understand(full.text).moves if full.text.strip() else ()
            self.session.emit(FullTranscript(turn=turn, text=full.text, words=full.words, moves=moves))

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
                rendered_ahead=bool(line is not None and line.rendered_ahead),
                end_of_turn_cue=timing.end_of_turn_cue,
            )
        )
