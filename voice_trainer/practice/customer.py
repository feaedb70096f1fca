"""The customer's voice in a session: the one place his lines are spoken, in every mode.

`SpokenCustomer` observes the session: each `CustomerLine` is handed to his voice as it is emitted,
and `SpeechPlayed` is logged from where playback really happens (the voice's own thread), when the
line has been heard or cut. Live and in text mode the speaker is the headset; in replay it is a
virtual device on the replay's clock. Sources of turns wait for him (`wait()`) or stop him (`stop()`).
"""

from __future__ import annotations

import threading
import time

from voice_trainer.audio.streams import Speaker
from voice_trainer.events import CustomerLine, Event, SpeechPlayed
from voice_trainer.session import Session
from voice_trainer.speech.interfaces import Synthesizer
from voice_trainer.speech.voice import CustomerVoice, LinePlayed, SpeechHandle


class SpokenCustomer:
    def __init__(self, session: Session, synth: Synthesizer, speaker: Speaker):
        self.session = session
        self.speaker = speaker
        self._synth = synth
        self._voice = CustomerVoice(synth, speaker, clock=session.clock, on_played=self._played)
        self._lines: list[SpeechHandle] = []  # accepted and not yet waited for, oldest first
        self._heard: dict[int, LinePlayed] = {}  # the first line played for each turn
        self._lock = threading.Lock()
        session.observe(self.on_event)

    def on_event(self, event: Event) -> None:
        if isinstance(event, CustomerLine) and event.text:
            handle = self._voice.say_async(event.text, event.anger, event.turn)
            with self._lock:
                self._lines.append(handle)

    def expect(self, text: str, anger: float) -> None:
        """He may say `text` next (a previewed reply): render it ahead. Nothing is spoken until the
        session's own CustomerLine, and then only if it is exactly this line."""
        self._voice.render_ahead(text, anger)

    def _played(self, line: LinePlayed) -> None:
        with self._lock:
            self._heard.setdefault(line.turn, line)
        self.session.emit(SpeechPlayed(turn=line.turn, start_ms=line.start_ms, end_ms=line.end_ms,
                                       interrupted=line.interrupted))

    @property
    def speaking(self) -> bool:
        """From the moment a line is emitted until its SpeechPlayed has been logged."""
        return self._voice.speaking

    def heard(self, turn: int) -> LinePlayed | None:
        """The first line of `turn` as played (when it was asked for, what rendering cost)."""
        with self._lock:
            return self._heard.get(turn)

    def wait_until_speaking(self, timeout_s: float | None = None) -> bool:
        """Until his first line's audio is going to the speaker (or that line is over); False on timeout."""
        return self._voice.wait_until_speaking(timeout_s)

    def stop(self) -> None:
        """Barge-in or the end of the call: every line accepted so far goes silent within one block."""
        self._voice.stop()

    def wait(self, timeout_s: float | None = None) -> bool:
        """Until every line so far has been played or stopped; False if `timeout_s` ran out first.
        A line that failed (eSpeak broke, the headset vanished) raises its error here."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            with self._lock:
                if not self._lines:
                    return True
                handle = self._lines[0]
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                handle.wait(left)
            except TimeoutError:
                return False
            finally:
                if handle.done:
                    with self._lock:
                        self._lines.remove(handle)

    def check(self) -> None:
        """Raise the error of a line that failed, without waiting for the others."""
        with self._lock:
            done = [h for h in self._lines if h.done]
            for handle in done:
                self._lines.remove(handle)
        for handle in done:
            handle.wait()

    def close(self) -> None:
        """Silence him, let the cut line be logged, release the speaker and the synthesizer."""
        self.stop()
        try:
            self.wait(2.0)
        except Exception:  # noqa: BLE001 - a failed last line must not stop the session's files being completed
            pass
        self.speaker.close()
        self._synth.close()
